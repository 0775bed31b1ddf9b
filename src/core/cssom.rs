//! Small pieces of CSS knowledge the recorder needs to notice stylesheets that live only in the
//! CSSOM, kept here so they are tested on the host.
//!
//! The capture runs in the content script's isolated world and cannot patch the page's
//! `CSSStyleSheet.prototype`, so it cannot see `insertRule` happen. It compares instead: a
//! `<style>` whose sheet holds more rules than its text declares was changed through the CSSOM
//! ([`count_rules`]), and a sheet that changed since it was last read is diffed against the rules
//! read then ([`rule_splice`]), so a sheet of thousands of rules that gains one costs one rule.

/// The number of top-level rules in a stylesheet's text, as a browser would count them if every
/// rule were valid: blocks (`a{…}`, `@media …{…}`) and statements (`@import …;`), skipping
/// comments, strings and `<!--`/`-->`. A browser drops invalid rules and `@charset`, so its count
/// can be lower, never higher, for text that nobody changed through the CSSOM.
pub fn count_rules(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut depth = 0usize;
    let mut pending = false; // something since the last rule ended, at the top level
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2; // past `*/` (or the end)
                continue;
            }
            b'"' | b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != c && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                pending |= depth == 0;
            }
            b'\\' => {
                i += 1; // an escaped character is part of a token
                pending |= depth == 0;
            }
            b'{' => {
                if depth == 0 && !pending {
                    pending = true; // `{}` alone is still a (dropped) rule's worth of text
                }
                depth += 1;
            }
            b'}' => {
                if depth > 0 {
                    depth -= 1;
                    if depth == 0 {
                        count += 1;
                        pending = false;
                    }
                }
            }
            b';' if depth == 0 => {
                if pending {
                    count += 1;
                }
                pending = false;
            }
            b'<' if depth == 0 && bytes[i..].starts_with(b"<!--") => i += 3,
            b'-' if depth == 0 && bytes[i..].starts_with(b"-->") => i += 2,
            c if c.is_ascii_whitespace() => {}
            _ => pending |= depth == 0,
        }
        i += 1;
    }
    if depth > 0 {
        count += 1; // an unclosed block is closed by the end of the sheet
    }
    count
}

/// What changed between two versions of a rule list, as one splice: rules `start..start +
/// deleted` of the old list became rules `start..start + inserted` of the new one. `same(i, j)`
/// tells whether old rule `i` is new rule `j` (the same rule object). `None` when nothing changed.
/// Common prefix and suffix are found from both ends, so an append or an insertion reads each
/// old rule once and no rule text at all.
pub fn rule_splice(old_len: usize, new_len: usize, mut same: impl FnMut(usize, usize) -> bool) -> Option<Splice> {
    let mut prefix = 0;
    while prefix < old_len && prefix < new_len && same(prefix, prefix) {
        prefix += 1;
    }
    if prefix == old_len && prefix == new_len {
        return None;
    }
    let mut suffix = 0;
    while suffix < old_len - prefix && suffix < new_len - prefix && same(old_len - 1 - suffix, new_len - 1 - suffix) {
        suffix += 1;
    }
    Some(Splice { start: prefix, deleted: old_len - prefix - suffix, inserted: new_len - prefix - suffix })
}

/// One contiguous change of a rule list (see [`rule_splice`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Splice {
    /// First index that changed.
    pub start: usize,
    /// How many old rules went.
    pub deleted: usize,
    /// How many new rules came in their place.
    pub inserted: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_top_level_rules_like_a_browser() {
        assert_eq!(count_rules(""), 0);
        assert_eq!(count_rules("/* rules arrive through insertRule */"), 0);
        assert_eq!(count_rules("  \n\t "), 0);
        assert_eq!(count_rules(".a{color:red} .b { color: blue }"), 2);
        assert_eq!(count_rules("@import url(x.css); @media (min-width: 1px) { .a{} .b{} } p{}"), 3);
        assert_eq!(count_rules("@layer a, b; @font-face{font-family:x;src:url('a;b{}.woff')}"), 2);
        assert_eq!(count_rules(".a::after{content:'}'} .b{content:\"{\"}"), 2);
        assert_eq!(count_rules(".a{} /* .b{} */ <!-- .c{} -->"), 2);
        assert_eq!(count_rules(".a\\{{color:red}"), 1);
        assert_eq!(count_rules(".a{color:red"), 1, "the end of the sheet closes the block");
        assert_eq!(count_rules("{}"), 1);
        assert_eq!(count_rules("a{} /* b{} c{}"), 1, "an unclosed comment runs to the end");
        assert_eq!(count_rules("a{}/**/b{}/"), 2);
    }

    #[test]
    fn a_browser_never_counts_more_than_the_text_declares() {
        // What Chromium parsed from these texts (cssRules.length), measured: invalid rules and
        // @charset are dropped, so it counts less, or the same.
        for (text, chromium) in [
            ("@charset \"utf-8\"; a{}", 1),
            ("::-moz-selection{color:red} a{}", 1),
            ("a{} b{} }", 2),
            ("@media print{a{}} @unknown foo; i{}", 2),
            ("a{}; b{}", 1),
        ] {
            assert!(count_rules(text) >= chromium, "{text:?}: {} < {chromium}", count_rules(text));
        }
    }

    #[test]
    fn splices_find_the_one_change_between_two_lists() {
        let diff = |old: &[u32], new: &[u32]| rule_splice(old.len(), new.len(), |i, j| old[i] == new[j]);
        assert_eq!(diff(&[1, 2, 3], &[1, 2, 3]), None);
        assert_eq!(diff(&[1, 2, 3], &[1, 2, 3, 4]), Some(Splice { start: 3, deleted: 0, inserted: 1 }), "append");
        assert_eq!(diff(&[1, 2, 3], &[1, 9, 2, 3]), Some(Splice { start: 1, deleted: 0, inserted: 1 }), "insert");
        assert_eq!(diff(&[1, 2, 3], &[1, 3]), Some(Splice { start: 1, deleted: 1, inserted: 0 }), "delete");
        assert_eq!(diff(&[1, 2, 3], &[7, 8]), Some(Splice { start: 0, deleted: 3, inserted: 2 }), "replace all");
        assert_eq!(diff(&[1, 2, 3, 4], &[1, 8, 3, 9]), Some(Splice { start: 1, deleted: 3, inserted: 3 }), "two changes: one splice");
        assert_eq!(diff(&[], &[5]), Some(Splice { start: 0, deleted: 0, inserted: 1 }));
        assert_eq!(diff(&[1, 1], &[1, 1, 1]), Some(Splice { start: 2, deleted: 0, inserted: 1 }), "prefix and suffix never overlap");
    }

    #[test]
    fn an_append_to_a_long_list_compares_each_old_rule_once() {
        let old: Vec<u32> = (0..5000).collect();
        let mut new = old.clone();
        new.push(99_999);
        let mut compared = 0;
        let splice = rule_splice(old.len(), new.len(), |i, j| {
            compared += 1;
            old[i] == new[j]
        });
        assert_eq!(splice, Some(Splice { start: 5000, deleted: 0, inserted: 1 }));
        assert_eq!(compared, 5000);
    }
}
