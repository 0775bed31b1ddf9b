//! Rewrites recorded CSS text for the replay frame: a small pass over the text that never
//! evaluates anything.
//!
//! Two things in recorded CSS mean something else once the text is in the replay frame, which is
//! an inert document of the extension:
//! - relative URLs (`url()`, `image-set()`, `src()`, `@import "…"`) would resolve against
//!   `chrome-extension://<id>/`; they are resolved against the address the text was written for
//!   (the recorded document, or the stylesheet's own URL). Fragment-only references (`url(#clip)`)
//!   point into the document itself and stay as they are.
//! - the user-action pseudo-classes (`:hover`, `:active`, `:focus`, `:focus-visible`,
//!   `:focus-within`) can never match there (the frame takes no pointer events and is never
//!   focused), so in selectors they become attribute selectors ([`HOVER_ATTR`] and friends) that
//!   the renderer sets from the recording. An attribute selector has the specificity of a
//!   pseudo-class, so the cascade is unchanged; replacing rather than adding keeps negations such
//!   as `:not(:hover)` right. A pseudo-class after a pseudo-element (`::-webkit-scrollbar-thumb:hover`)
//!   is left alone: an attribute selector there would void the whole rule.
//!
//! The pass knows just enough CSS syntax for that: comments, strings, escapes, url tokens, blocks
//! (`@media`, `@supports`, `@layer`, nesting), and whether an item in a block is a declaration
//! (ends at `;`) or a rule (its prelude ends at `{`). Anything it does not understand is copied
//! unchanged. It is a loop over the text with no recursion, so hostile nesting cannot exhaust the
//! stack, and its output is its input wherever nothing needed rewriting.

use crate::core::url::{resolve, scheme_of};

/// Set by the renderer on the element under the recorded pointer and its ancestors.
pub const HOVER_ATTR: &str = "data-tabreel-hover";
/// Set by the renderer on the element under a recorded click, briefly.
pub const ACTIVE_ATTR: &str = "data-tabreel-active";
/// Set by the renderer on the recorded focused element.
pub const FOCUS_ATTR: &str = "data-tabreel-focus";
/// Set by the renderer on the recorded focused element when the browser would show its ring.
pub const FOCUS_VISIBLE_ATTR: &str = "data-tabreel-focus-visible";
/// Set by the renderer on the recorded focused element and its ancestors.
pub const FOCUS_WITHIN_ATTR: &str = "data-tabreel-focus-within";

/// The pseudo-classes replaced in selectors, and their attribute selectors.
const PSEUDO_CLASSES: &[(&str, &str)] = &[
    ("hover", "[data-tabreel-hover]"),
    ("active", "[data-tabreel-active]"),
    ("focus", "[data-tabreel-focus]"),
    ("focus-visible", "[data-tabreel-focus-visible]"),
    ("focus-within", "[data-tabreel-focus-within]"),
];

/// Legacy pseudo-elements that CSS still accepts with one colon.
const LEGACY_PSEUDO_ELEMENTS: &[&str] = &["before", "after", "first-line", "first-letter"];

/// What a URL in CSS is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlUse {
    /// The sheet of an `@import`.
    Import,
    /// Anything else: an image, a font, an SVG resource, a cursor.
    Resource,
}

/// `css` as the replay frame needs it: relative URLs resolved against `base` (when it is an
/// absolute URL) and user-action pseudo-classes turned into attribute selectors.
pub fn rewrite(css: &str, base: Option<&str>) -> String {
    rewrite_with(css, base, &mut |_, _| None)
}

/// Like [`rewrite`], and every URL (made absolute) is offered to `map`: when it answers, its
/// answer replaces the URL (a stored copy of what the URL named); when not, a relative URL is
/// resolved against `base` and an absolute one stays as it is.
pub fn rewrite_with(css: &str, base: Option<&str>, map: &mut dyn FnMut(&str, UrlUse) -> Option<String>) -> String {
    let b = css.as_bytes();
    let mut out = String::with_capacity(css.len() + css.len() / 16);
    let mut i = 0;
    while i < b.len() {
        // Whitespace and comments between items.
        let start = i;
        i = skip_blank(b, i);
        out.push_str(&css[start..i]);
        if i >= b.len() {
            break;
        }
        match b[i] {
            b'}' | b';' => {
                out.push(b[i] as char);
                i += 1;
            }
            b'@' => {
                let name_end = name_end(b, i + 1);
                let name = css[i + 1..name_end].to_ascii_lowercase();
                let (end, _) = item_end(b, i, false);
                let prelude = &css[i..end];
                match name.as_str() {
                    "import" => out.push_str(&rewrite_urls(prelude, base, UrlUse::Import, map)),
                    "namespace" => out.push_str(prelude), // namespace names are not fetched
                    _ => out.push_str(&rewrite_urls(prelude, base, UrlUse::Resource, map)),
                }
                // The terminator (`;` or `{`) is copied by the next turn; a `{` opens a block whose
                // items are handled like any others.
                if end < b.len() && b[end] == b'{' {
                    out.push('{');
                    i = end + 1;
                } else {
                    i = end;
                }
            }
            _ if b[i..].starts_with(b"<!--") || b[i..].starts_with(b"-->") => {
                // CDO/CDC, the old way of hiding a sheet from browsers without CSS.
                let n = if b[i] == b'<' { 4 } else { 3 };
                out.push_str(&css[i..i + n]);
                i += n;
            }
            _ => {
                let custom_property = is_custom_property(b, i);
                let (end, terminator) = item_end(b, i, custom_property);
                let text = &css[i..end];
                if terminator == Some(b'{') {
                    out.push_str(&rewrite_selectors(text));
                    out.push('{');
                    i = end + 1;
                } else {
                    out.push_str(&rewrite_urls(text, base, UrlUse::Resource, map));
                    i = end;
                }
            }
        }
    }
    out
}

/// Whether a custom property declaration (`--name:`) starts at `i`; its value may hold blocks.
fn is_custom_property(b: &[u8], i: usize) -> bool {
    if !b[i..].starts_with(b"--") {
        return false;
    }
    let after = skip_blank(b, name_end(b, i));
    after < b.len() && b[after] == b':'
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c >= 0x80
}

/// The index after the name (ident characters and escapes) starting at `i`.
fn name_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        if b[i] == b'\\' {
            i = (i + 2).min(b.len());
        } else if is_name_byte(b[i]) {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// The index after the comment starting at `i` (`/*`).
fn skip_comment(b: &[u8], i: usize) -> usize {
    match b[i + 2..].windows(2).position(|w| w == b"*/") {
        Some(p) => i + 2 + p + 2,
        None => b.len(),
    }
}

/// The index after the string starting at `i` (its quote); a string ends at its quote, at an
/// unescaped newline (a bad string, as in CSS) or at the end of the text.
fn skip_string(b: &[u8], i: usize) -> usize {
    let quote = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'\n' | b'\r' | b'\x0c' => return j,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// After whitespace and comments from `i`.
fn skip_blank(b: &[u8], mut i: usize) -> usize {
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b[i..].starts_with(b"/*") {
            i = skip_comment(b, i);
        } else {
            return i;
        }
    }
}

/// When `b[i..]` starts a `url(` token (the name not preceded by a name character): the index
/// of its `(`.
fn url_function_at(b: &[u8], i: usize, name: &[u8]) -> Option<usize> {
    let end = i + name.len();
    (end < b.len() && b[i..end].eq_ignore_ascii_case(name) && b[end] == b'(' && (i == 0 || !(is_name_byte(b[i - 1]) || b[i - 1] == b'\\'))).then_some(end)
}

/// The end of an unquoted url token whose content starts at `i`: the index of its `)` (or the
/// end of the text).
fn unquoted_url_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b')' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i.min(b.len())
}

/// The end of the item starting at `i`: the index of the first `;`, `{` or `}` outside
/// parentheses, brackets, strings, comments and url tokens (or the end of the text), and that
/// byte. A custom property's value may hold `{…}` blocks: with `braces_nest` they are skipped.
fn item_end(b: &[u8], mut i: usize, braces_nest: bool) -> (usize, Option<u8>) {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' | b'\'' => i = skip_string(b, i),
            b'/' if b[i..].starts_with(b"/*") => i = skip_comment(b, i),
            b'(' | b'[' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'{' if depth > 0 || braces_nest => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            c @ (b';' | b'{' | b'}') => return (i, Some(c)),
            b'u' | b'U' => match url_function_at(b, i, b"url") {
                Some(open) => {
                    let content = skip_ws(b, open + 1);
                    if content < b.len() && matches!(b[content], b'"' | b'\'') {
                        depth += 1; // a url() with a string argument is an ordinary function
                        i = open + 1;
                    } else {
                        i = (unquoted_url_end(b, content) + 1).min(b.len());
                    }
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    (b.len(), None)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The value of a CSS string or url token that has no escapes, or `None`.
fn plain(s: &str) -> Option<&str> {
    (!s.contains('\\')).then_some(s)
}

/// What replaces `reference` (`map`'s answer for its absolute form, else the absolute form of a
/// relative reference), or `None` when it stays as it is.
fn replacement(reference: &str, base: Option<&str>, used: UrlUse, map: &mut dyn FnMut(&str, UrlUse) -> Option<String>) -> Option<String> {
    let r = reference.trim();
    if r.is_empty() || r.starts_with('#') {
        return None;
    }
    let relative = scheme_of(r).is_none();
    let abs = if relative { resolve(base?, r)? } else { r.to_owned() };
    match map(&abs, used) {
        Some(stored) => Some(stored),
        None => relative.then_some(abs),
    }
}

/// Every URL that `css` (written for `base`) refers to, made absolute, with what it is for, in
/// order of appearance (repeats included). Fragment-only references are not URLs to fetch.
pub fn references(css: &str, base: Option<&str>) -> Vec<(String, UrlUse)> {
    let mut found = Vec::new();
    rewrite_with(css, base, &mut |url, used| {
        found.push((url.to_owned(), used));
        None
    });
    found
}

/// `url` as a quoted CSS string.
fn quoted(url: &str) -> String {
    let mut s = String::with_capacity(url.len() + 2);
    s.push('"');
    for c in url.chars() {
        match c {
            '"' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            '\n' => s.push_str("\\a "),
            '\r' => s.push_str("\\d "),
            '\x0c' => s.push_str("\\c "),
            _ => s.push(c),
        }
    }
    s.push('"');
    s
}

/// Rewrites the URLs of a declaration or at-rule prelude: `url(…)`, `src("…")`, the strings of
/// `image-set()`, and (for `@import`, [`UrlUse::Import`]) strings outside any function.
fn rewrite_urls(text: &str, base: Option<&str>, used: UrlUse, map: &mut dyn FnMut(&str, UrlUse) -> Option<String>) -> String {
    let bare_strings = used == UrlUse::Import;
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 32);
    let mut copied = 0;
    let mut depth = 0usize;
    // Paren depths at which a string is a URL (inside `image-set(`, `src(`, `url(`).
    let mut url_strings_at: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'/' if b[i..].starts_with(b"/*") => i = skip_comment(b, i),
            b'"' | b'\'' => {
                let end = skip_string(b, i);
                let is_url = (bare_strings && depth == 0) || url_strings_at.last() == Some(&depth);
                let closed = end > i + 1 && b[end - 1] == b[i];
                if is_url && closed {
                    if let Some(abs) = plain(&text[i + 1..end - 1]).and_then(|r| replacement(r, base, used, map)) {
                        out.push_str(&text[copied..i]);
                        out.push_str(&quoted(&abs));
                        copied = end;
                    }
                }
                i = end;
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                if url_strings_at.last() == Some(&depth) {
                    url_strings_at.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if is_name_byte(c) && (i == 0 || !(is_name_byte(b[i - 1]) || b[i - 1] == b'\\')) => {
                let end = name_end(b, i);
                let name = &b[i..end];
                if end < b.len() && b[end] == b'(' {
                    let open = end;
                    if name.eq_ignore_ascii_case(b"url") {
                        let content = skip_ws(b, open + 1);
                        if content < b.len() && !matches!(b[content], b'"' | b'\'') {
                            // An unquoted url token: everything up to `)`.
                            let close = unquoted_url_end(b, content);
                            let raw = text[content..close].trim_end();
                            let valid = !raw.contains(|c: char| matches!(c, '"' | '\'' | '(' | '\\') || c.is_whitespace() || c.is_control());
                            if let Some(abs) = valid.then_some(raw).and_then(|r| replacement(r, base, used, map)) {
                                out.push_str(&text[copied..open + 1]);
                                out.push_str(&quoted(&abs));
                                copied = content + raw.len();
                            }
                            i = (close + 1).min(b.len());
                            continue;
                        }
                        url_strings_at.push(depth + 1);
                    } else if name.eq_ignore_ascii_case(b"src") || name.eq_ignore_ascii_case(b"image-set") || name.eq_ignore_ascii_case(b"-webkit-image-set") {
                        url_strings_at.push(depth + 1);
                    }
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Replaces user-action pseudo-classes in a selector prelude by attribute selectors.
fn rewrite_selectors(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 32);
    let mut copied = 0;
    // Whether the current compound selector has had a pseudo-element, per level of `:is(` & co.
    let mut after_pseudo_element = vec![false];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'/' if b[i..].starts_with(b"/*") => i = skip_comment(b, i),
            b'"' | b'\'' => i = skip_string(b, i),
            b'[' => {
                // An attribute selector: skip to its `]`, over strings.
                i += 1;
                while i < b.len() && b[i] != b']' {
                    i = match b[i] {
                        b'"' | b'\'' => skip_string(b, i),
                        b'\\' => i + 2,
                        _ => i + 1,
                    };
                }
                i += 1;
            }
            b'(' => {
                after_pseudo_element.push(false);
                i += 1;
            }
            b')' => {
                if after_pseudo_element.len() > 1 {
                    after_pseudo_element.pop();
                }
                i += 1;
            }
            c if c.is_ascii_whitespace() || matches!(c, b',' | b'>' | b'+' | b'~') => {
                if let Some(last) = after_pseudo_element.last_mut() {
                    *last = false;
                }
                i += 1;
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                // A pseudo-element, with its arguments (`::part(x)`) copied as they are.
                let end = name_end(b, i + 2);
                i = if end < b.len() && b[end] == b'(' { skip_parens(b, end) } else { end };
                if let Some(last) = after_pseudo_element.last_mut() {
                    *last = true;
                }
            }
            b':' => {
                let end = name_end(b, i + 1);
                let name = &text[i + 1..end];
                let functional = end < b.len() && b[end] == b'(';
                let after_pe = after_pseudo_element.last().copied().unwrap_or(false);
                if !functional && !after_pe {
                    if let Some((_, attr)) = PSEUDO_CLASSES.iter().find(|(p, _)| p.eq_ignore_ascii_case(name)) {
                        out.push_str(&text[copied..i]);
                        out.push_str(attr);
                        copied = end;
                    }
                }
                if !functional && LEGACY_PSEUDO_ELEMENTS.iter().any(|p| p.eq_ignore_ascii_case(name)) {
                    if let Some(last) = after_pseudo_element.last_mut() {
                        *last = true;
                    }
                }
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    if copied == 0 {
        return text.to_owned();
    }
    out.push_str(&text[copied.min(b.len())..]);
    out
}

/// The index after the balanced parentheses opening at `i`.
fn skip_parens(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' | b'\'' => i = skip_string(b, i),
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: Option<&str> = Some("http://site.test/app/page.html?x=1");

    fn pseudo(css: &str) -> String {
        rewrite(css, None)
    }

    #[test]
    fn user_action_pseudo_classes_become_attribute_selectors() {
        assert_eq!(pseudo("a:hover{color:red}"), "a[data-tabreel-hover]{color:red}");
        assert_eq!(
            pseudo("button:focus-visible, .x:FOCUS, li:focus-within > a:active{outline:0}"),
            "button[data-tabreel-focus-visible], .x[data-tabreel-focus], li[data-tabreel-focus-within] > a[data-tabreel-active]{outline:0}"
        );
        // Inside selector functions, negations included.
        assert_eq!(pseudo(".m:not(:hover) .t:is(:focus, .k){x:y}"), ".m:not([data-tabreel-hover]) .t:is([data-tabreel-focus], .k){x:y}");
        // Other pseudo-classes, and names that only start alike, are left alone.
        let same = "a:hovered, a:focus-ring, a:active-view-transition, a:first-child, a:-moz-focusring{x:y}";
        assert_eq!(pseudo(same), same);
    }

    #[test]
    fn pseudo_classes_after_pseudo_elements_are_kept() {
        let same = "::-webkit-scrollbar-thumb:hover{x:y} a::part(label):hover{x:y} p:before:hover{x:y}";
        assert_eq!(pseudo(same), same);
        // ... but only within their compound selector.
        assert_eq!(pseudo("a::before, b:hover{x:y}"), "a::before, b[data-tabreel-hover]{x:y}");
        assert_eq!(pseudo("a::before :hover{x:y}"), "a::before [data-tabreel-hover]{x:y}");
    }

    #[test]
    fn only_selectors_are_rewritten() {
        // Strings, comments, attribute values, declarations, custom properties, at-rule preludes.
        let same = concat!(
            "a[title=\":hover\"]{content:\":hover\"}",
            "/* a:hover{} */",
            "b{--x: a:hover; --y:{ c:hover }; grid-area: a}",
            "@media (hover:hover) and (any-hover:hover){}",
            "@supports selector(:focus-visible){}",
            "@page :first{margin:0}"
        );
        assert_eq!(pseudo(same), same);
    }

    #[test]
    fn nested_blocks_and_css_nesting() {
        assert_eq!(
            pseudo("@media screen{@supports (display:grid){@layer base{a:hover{b:c}}}}"),
            "@media screen{@supports (display:grid){@layer base{a[data-tabreel-hover]{b:c}}}}"
        );
        assert_eq!(pseudo(".card{color:red;&:hover{color:blue}.x:focus &{a:b}}"), ".card{color:red;&[data-tabreel-hover]{color:blue}.x[data-tabreel-focus] &{a:b}}");
        assert_eq!(pseudo(".a{b:c}:hover{d:e}"), ".a{b:c}[data-tabreel-hover]{d:e}");
        assert_eq!(pseudo("@keyframes k{from{opacity:0}50%{opacity:1}}"), "@keyframes k{from{opacity:0}50%{opacity:1}}");
    }

    #[test]
    fn relative_urls_resolve_against_the_base() {
        assert_eq!(rewrite("a{background:url(img/a.png)}", DOC), "a{background:url(\"http://site.test/app/img/a.png\")}");
        assert_eq!(rewrite("a{background:URL( '../b.png' ) no-repeat}", DOC), "a{background:URL( \"http://site.test/b.png\" ) no-repeat}");
        assert_eq!(
            rewrite("@font-face{font-family:F;src:url(\"/f.woff2\") format(\"woff2\"),local(\"F\")}", DOC),
            "@font-face{font-family:F;src:url(\"http://site.test/f.woff2\") format(\"woff2\"),local(\"F\")}"
        );
        assert_eq!(rewrite("@import \"x.css\" screen;@import url(y.css) layer(a);", DOC), "@import \"http://site.test/app/x.css\" screen;@import url(\"http://site.test/app/y.css\") layer(a);");
        assert_eq!(
            rewrite("a{background-image:image-set(\"a.png\" 1x, url(b.png) 2x);mask:-webkit-image-set('c.png' 1x)}", DOC),
            "a{background-image:image-set(\"http://site.test/app/a.png\" 1x, url(\"http://site.test/app/b.png\") 2x);mask:-webkit-image-set(\"http://site.test/app/c.png\" 1x)}"
        );
        assert_eq!(rewrite("a{--bg:url(p.png)}", DOC), "a{--bg:url(\"http://site.test/app/p.png\")}");
    }

    #[test]
    fn urls_that_stay() {
        let same = concat!(
            "a{clip-path:url(#c);b:url(data:image/png;base64,AAA=);c:url(https://cdn.test/x.png);d:url()}",
            "b{content:\"url(x.png)\";e:myurl(x.png)}",
            "/* url(y.png) */",
            "@namespace svg url(svg-ns);",
            "c{f:url(\"a\\\"b.png\")}"
        );
        assert_eq!(rewrite(same, DOC), same);
        // Without a usable base nothing changes.
        assert_eq!(rewrite("a{b:url(x.png)}", Some("about:blank")), "a{b:url(x.png)}");
    }

    #[test]
    fn unquoted_urls_with_semicolons_and_braces_do_not_end_items() {
        assert_eq!(
            rewrite("a{b:url(x;{y}.png);c:url(z.png)}d:hover{e:f}", DOC),
            "a{b:url(\"http://site.test/app/x;{y}.png\");c:url(\"http://site.test/app/z.png\")}d[data-tabreel-hover]{e:f}"
        );
    }

    #[test]
    fn resolved_urls_are_quoted_safely() {
        assert_eq!(rewrite("a{b:url(x\"y.png)}", DOC), "a{b:url(x\"y.png)}"); // a bad url stays bad
        assert_eq!(rewrite("a{b:url(x y.png)}", DOC), "a{b:url(x y.png)}");
        assert_eq!(rewrite("a{b:url('x\"y.png')}", DOC), "a{b:url(\"http://site.test/app/x\\\"y.png\")}");
        assert_eq!(quoted("a\"b\\c\nd"), "\"a\\\"b\\\\c\\a d\"");
    }

    #[test]
    fn malformed_text_is_copied_through() {
        for css in ["a:hover{", "a{b:url(x.png", "/* open", "a{b:\"open", "}}}a:hover;", "@media{", "a[x=\"]\"]:hover{}", "\\", ":", "::", "a:"] {
            let out = rewrite(css, DOC);
            assert!(out.len() >= css.len() - 1, "{css:?} -> {out:?}");
        }
        assert_eq!(rewrite("a[x=\"]\"]:hover{}", None), "a[x=\"]\"][data-tabreel-hover]{}");
        assert_eq!(rewrite("}}}a:hover{}", None), "}}}a[data-tabreel-hover]{}");
    }

    #[test]
    fn deep_nesting_does_not_exhaust_the_stack() {
        let css = format!("{}a:hover{{}}{}", "@media all{".repeat(100_000), "}".repeat(100_000));
        let out = rewrite(&css, DOC);
        assert!(out.contains("a[data-tabreel-hover]{}"));
        let sel = format!("{}:hover{}", ":is(".repeat(100_000), ")".repeat(100_000));
        assert!(rewrite(&format!("{sel}{{}}"), None).contains("[data-tabreel-hover]"));
    }

    #[test]
    fn untouched_text_is_identical() {
        let css = "body{margin:0}\n.a > .b ~ c + d{color:#fff;font:12px/1.2 \"Helvetica Neue\",sans-serif}\n@media (max-width:600px){.a{display:none}}";
        assert_eq!(rewrite(css, DOC), css);
    }
}
