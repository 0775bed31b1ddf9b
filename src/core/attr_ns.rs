//! The namespaces of attributes recorded by qualified name (`xlink:href`). The recorder names a
//! removed namespaced attribute with its namespace's conventional prefix (the attribute is gone,
//! so the page cannot tell its prefix), and the player sets a prefixed attribute in the namespace
//! of that prefix: one table, so the two ends agree.

const XLINK: &str = "http://www.w3.org/1999/xlink";
const XML: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS: &str = "http://www.w3.org/2000/xmlns/";

/// Prefix and namespace of the namespaced attributes HTML documents have.
const CONVENTIONAL: [(&str, &str); 3] = [("xlink", XLINK), ("xml", XML), ("xmlns", XMLNS)];

/// The prefix attributes of namespace `ns` conventionally have (`xlink`), if it has one.
pub fn conventional_prefix(ns: &str) -> Option<&'static str> {
    CONVENTIONAL.iter().find(|(_, n)| *n == ns).map(|(p, _)| *p)
}

/// The namespace of a qualified attribute name by its prefix (`xlink:href`), if it has one.
pub fn namespace_of(qualified: &str) -> Option<&'static str> {
    let (prefix, _) = qualified.split_once(':')?;
    CONVENTIONAL.iter().find(|(p, _)| *p == prefix).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_and_its_namespace_go_both_ways() {
        for (prefix, ns) in CONVENTIONAL {
            assert_eq!(conventional_prefix(ns), Some(prefix));
            assert_eq!(namespace_of(&format!("{}:{}", conventional_prefix(ns).unwrap(), "x")), Some(ns));
        }
    }

    #[test]
    fn other_names_have_no_namespace() {
        assert_eq!(namespace_of("href"), None);
        assert_eq!(namespace_of("data-x:y"), None);
        assert_eq!(namespace_of("xlinkhref"), None);
        assert_eq!(conventional_prefix("http://www.w3.org/2000/svg"), None);
    }
}
