//! Resolving a relative URL against an absolute one, in plain Rust.
//!
//! The replay frame is a document of the extension, so anything relative in recorded CSS would
//! resolve against `chrome-extension://<id>/`. The player resolves those references against the
//! address they were written for (the recorded document, or a stylesheet's own URL) before the
//! text reaches the frame. This is RFC 3986 §5.2 with the leniencies of the WHATWG URL standard
//! that matter for stylesheets (surrounding whitespace, tabs and newlines inside, backslashes in
//! the path of http(s)-like URLs); it never percent-encodes or otherwise normalises what it does
//! not have to touch.

/// Schemes whose URLs always have an authority and treat `\` like `/` (WHATWG "special").
const SPECIAL: &[&str] = &["http", "https", "ws", "wss", "ftp", "file"];

/// The parts of an absolute, hierarchical URL.
struct Base<'a> {
    scheme: &'a str,
    /// `//host:port` including the slashes, or empty.
    authority: &'a str,
    path: &'a str,
    /// `?…` including the question mark, or empty.
    query: &'a str,
}

/// The scheme of `s` (without the colon) when `s` starts with one.
pub fn scheme_of(s: &str) -> Option<&str> {
    let end = s.find(':')?;
    let scheme = &s[..end];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))).then_some(scheme)
}

fn parse_base(base: &str) -> Option<Base<'_>> {
    let scheme = scheme_of(base)?;
    let rest = &base[scheme.len() + 1..];
    let rest = &rest[..rest.find('#').unwrap_or(rest.len())];
    let (authority, after) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find(['/', '?']).unwrap_or(r.len());
            (&rest[..end + 2], &r[end..])
        }
        None => ("", rest),
    };
    // `data:…`, `about:blank`, `mailto:…` cannot be a base for relative references.
    if authority.is_empty() && !after.starts_with('/') {
        return None;
    }
    let q = after.find('?').unwrap_or(after.len());
    Some(Base { scheme, authority, path: &after[..q], query: &after[q..] })
}

/// Removes `.` and `..` segments (RFC 3986 §5.2.4); `..` never climbs above the root.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if path.starts_with('/') && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// `reference` resolved against the absolute URL `base`. An absolute reference is returned as it
/// is (trimmed); `None` when `base` is not an absolute hierarchical URL (`about:blank`, `data:…`).
pub fn resolve(base: &str, reference: &str) -> Option<String> {
    let cleaned: String = reference.trim_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    if scheme_of(&cleaned).is_some() {
        return Some(cleaned);
    }
    let b = parse_base(base.trim())?;
    let special = SPECIAL.iter().any(|s| s.eq_ignore_ascii_case(b.scheme));
    let r = if special {
        // Backslashes count as slashes before the query, as browsers parse such URLs.
        let end = cleaned.find(['?', '#']).unwrap_or(cleaned.len());
        format!("{}{}", cleaned[..end].replace('\\', "/"), &cleaned[end..])
    } else {
        cleaned
    };
    let (r_main, fragment) = r.split_at(r.find('#').unwrap_or(r.len()));
    let (r_path, r_query) = r_main.split_at(r_main.find('?').unwrap_or(r_main.len()));
    let out = if r_main.starts_with("//") {
        format!("{}:{}", b.scheme, r_main)
    } else if r_path.is_empty() {
        let query = if r_query.is_empty() { b.query } else { r_query };
        format!("{}:{}{}{}", b.scheme, b.authority, b.path, query)
    } else if r_path.starts_with('/') {
        format!("{}:{}{}{}", b.scheme, b.authority, remove_dot_segments(r_path), r_query)
    } else {
        let dir = match b.path.rfind('/') {
            Some(i) => &b.path[..=i],
            None if !b.authority.is_empty() => "/",
            None => "",
        };
        format!("{}:{}{}{}", b.scheme, b.authority, remove_dot_segments(&format!("{dir}{r_path}")), r_query)
    };
    Some(format!("{out}{fragment}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://a/b/c/d;p?q";

    #[test]
    fn rfc3986_normal_examples() {
        for (r, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("g#s", "http://a/b/c/g#s"),
            (";x", "http://a/b/c/;x"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
        ] {
            assert_eq!(resolve(BASE, r).as_deref(), Some(want), "{r:?}");
        }
    }

    #[test]
    fn rfc3986_abnormal_examples() {
        for (r, want) in [
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/../y", "http://a/b/c/y"),
        ] {
            assert_eq!(resolve(BASE, r).as_deref(), Some(want), "{r:?}");
        }
    }

    #[test]
    fn absolute_references_stay_as_they_are() {
        assert_eq!(resolve(BASE, "https://x.test/a.css").as_deref(), Some("https://x.test/a.css"));
        assert_eq!(resolve(BASE, "  data:image/png;base64,AA== ").as_deref(), Some("data:image/png;base64,AA=="));
    }

    #[test]
    fn browser_leniencies() {
        let base = "http://127.0.0.1:8080/pages/styles.css?v=2#top";
        assert_eq!(resolve(base, "imported.css").as_deref(), Some("http://127.0.0.1:8080/pages/imported.css"));
        assert_eq!(resolve(base, "..\\fonts\\a.woff2").as_deref(), Some("http://127.0.0.1:8080/fonts/a.woff2"));
        assert_eq!(resolve(base, " img/\na.png ").as_deref(), Some("http://127.0.0.1:8080/pages/img/a.png"));
        assert_eq!(resolve("http://host", "a.png").as_deref(), Some("http://host/a.png"));
        assert_eq!(resolve("http://host?x", "?y").as_deref(), Some("http://host?y"));
    }

    #[test]
    fn bases_that_cannot_resolve() {
        assert_eq!(resolve("about:blank", "a.png"), None);
        assert_eq!(resolve("data:text/css,x", "a.png"), None);
        assert_eq!(resolve("not a url", "a.png"), None);
        assert_eq!(resolve("", "a.png"), None);
    }
}
