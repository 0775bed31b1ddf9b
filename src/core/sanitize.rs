//! What the player does to recorded markup so that a replay never runs recorded code and never
//! reaches the recorded site.
//!
//! The replay frame is sandboxed without `allow-scripts` and its page has a strict CSP; this is
//! the second wall: inline handlers and script URLs are dropped, scripts are made inert, frames
//! lose their sources and `<meta http-equiv>` cannot refresh or navigate. Linked stylesheets
//! whose text was captured become `<style>` elements, so no stylesheet is fetched. Recorded CSS
//! text goes through [`sanitize_css`], so that what it refers to keeps pointing at the recorded
//! site (where the replay's CSP refuses it) rather than at the extension.

use crate::core::assets::{names_assets, AssetUrls};
use crate::core::url::resolve;

/// The type given to recorded `<script>` elements: never executable, hidden by the UA sheet.
pub const INERT_SCRIPT_TYPE: &str = "text/x-tabreel-inert";
/// Where a replaced stylesheet link keeps its original `href`, for inspection.
pub const ORIGINAL_HREF_ATTR: &str = "data-tabreel-href";
/// An attribute whose URLs the replay points at stored copies keeps its recorded value in
/// `data-tabreel-recorded-<name>`, for inspection and comparison.
pub const RECORDED_ATTR_PREFIX: &str = "data-tabreel-recorded-";

/// The `sandbox` a replayed `<iframe>` that had one gets: as strict as the replay frame's own.
pub const REPLAYED_FRAME_SANDBOX: &str = "allow-same-origin";

/// An element as the player builds it.
#[derive(Clone, Debug, PartialEq)]
pub struct SafeElement {
    /// Tag to create.
    pub tag: String,
    /// Attributes to set.
    pub attrs: Vec<(String, String)>,
    /// Stylesheet text to put inside the element (a captured `<link rel=stylesheet>`).
    pub css: Option<String>,
}

/// Attributes whose value is a URL that a browser may navigate to or execute.
const URL_ATTRS: &[&str] = &["href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "ping", "codebase", "cite"];

/// Recorded CSS text as the replay frame needs it (see [`crate::core::css`]): relative URLs
/// resolved against `base`, the address the text was written for, and user-action pseudo-classes
/// replaced by the attributes the renderer sets.
pub fn sanitize_css(css: &str, base: &str) -> String {
    crate::core::css::rewrite(css, Some(base))
}

/// Makes a recorded element safe to build in the replay frame; `base` is the recorded document's
/// base URL (a captured stylesheet's text is resolved against the stylesheet's own URL). URLs
/// that `assets` has stored copies of point at those.
pub fn sanitize_element(tag: &str, attrs: &[(String, String)], css: Option<&str>, base: &str, assets: &AssetUrls) -> SafeElement {
    let tag_lc = tag.to_ascii_lowercase();
    let is_stylesheet_link = tag_lc == "link"
        && css.is_some()
        && attrs.iter().any(|(n, v)| n.eq_ignore_ascii_case("rel") && v.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case("stylesheet")));
    let mut out = Vec::with_capacity(attrs.len());
    for (name, value) in attrs {
        if let Some((kept, recorded)) = replay_attribute(&tag_lc, name, value, base, assets) {
            out.push(kept);
            out.extend(recorded);
        }
    }
    if is_stylesheet_link {
        let mut style_attrs: Vec<(String, String)> = out
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("media") || n.eq_ignore_ascii_case("title") || n.eq_ignore_ascii_case("id"))
            .collect();
        let href = attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case("href")).map(|(_, h)| h.as_str());
        if let Some(href) = href {
            style_attrs.push((ORIGINAL_HREF_ATTR.into(), href.to_owned()));
        }
        let sheet_url = href.and_then(|h| resolve(base, h)).unwrap_or_else(|| base.to_owned());
        return SafeElement { tag: "style".into(), attrs: style_attrs, css: css.map(|c| assets.css(c, &sheet_url)) };
    }
    if tag_lc == "script" {
        out.retain(|(n, _)| !n.eq_ignore_ascii_case("type") && !n.eq_ignore_ascii_case("src"));
        out.push(("type".into(), INERT_SCRIPT_TYPE.into()));
    }
    SafeElement { tag: tag.to_owned(), attrs: out, css: None }
}

/// One attribute as the replay sets it ([`sanitize_attribute`], then pointed at stored copies of
/// what it names), and, when that changed its value, the attribute keeping the recorded value
/// ([`RECORDED_ATTR_PREFIX`]). `tag` is lower case.
pub fn replay_attribute(tag: &str, name: &str, value: &str, base: &str, assets: &AssetUrls) -> Option<((String, String), Option<(String, String)>)> {
    let (name, value) = sanitize_attribute(tag, name, value)?;
    if matches!(tag, "iframe" | "frame") && name.eq_ignore_ascii_case("sandbox") {
        // A recorded sandbox could take away the same origin the renderer needs to write the
        // frame's recorded document into it; every nested frame inherits the replay frame's
        // sandbox (no scripts, no forms, no popups, no navigation) whatever its attribute says.
        let recorded = (format!("{RECORDED_ATTR_PREFIX}sandbox"), value);
        return Some(((name, REPLAYED_FRAME_SANDBOX.into()), Some(recorded)));
    }
    if assets.is_empty() || !names_assets(tag, &name) {
        return Some(((name, value), None));
    }
    match assets.attribute(tag, &name, &value, base) {
        Some(stored) => {
            let recorded = (format!("{RECORDED_ATTR_PREFIX}{}", name.to_ascii_lowercase()), value);
            Some(((name, stored), Some(recorded)))
        }
        None => Some(((name, value), None)),
    }
}

/// Makes one attribute safe for an element with lower-case tag `tag`; `None` drops it.
pub fn sanitize_attribute(tag: &str, name: &str, value: &str) -> Option<(String, String)> {
    let lname = name.to_ascii_lowercase();
    if lname.starts_with("on") || lname == "srcdoc" {
        return None;
    }
    if tag == "meta" && lname == "http-equiv" {
        return None;
    }
    if matches!(tag, "iframe" | "frame" | "object" | "embed") && matches!(lname.as_str(), "src" | "data") {
        return None;
    }
    if tag == "script" && matches!(lname.as_str(), "src" | "type") {
        return None;
    }
    if URL_ATTRS.contains(&lname.as_str()) && is_script_url(value) {
        return None;
    }
    Some((name.to_owned(), value.to_owned()))
}

/// True for `javascript:`/`vbscript:` URLs and HTML `data:` URLs, however they are spelled.
pub fn is_script_url(value: &str) -> bool {
    // Browsers strip leading C0 controls/space and ignore tabs and newlines anywhere in the scheme.
    let cleaned: String = value
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take(32)
        .collect::<String>()
        .to_ascii_lowercase();
    cleaned.starts_with("javascript:")
        || cleaned.starts_with("vbscript:")
        || cleaned.starts_with("data:text/html")
        || cleaned.starts_with("data:image/svg")
        || cleaned.starts_with("data:application/xhtml")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "http://site.test/app/index.html";

    fn a(n: &str, v: &str) -> (String, String) {
        (n.into(), v.into())
    }

    #[test]
    fn inline_handlers_are_dropped() {
        let e = sanitize_element("img", &[a("src", "x.png"), a("onerror", "alert(1)"), a("OnLoad", "x()")], None, PAGE, &AssetUrls::default());
        assert_eq!(e.attrs, vec![a("src", "x.png")]);
    }

    #[test]
    fn script_urls_are_dropped_however_spelled() {
        for v in ["javascript:alert(1)", "  JaVaScRiPt:alert(1)", "java\tscript:x", "\u{1}javascript:x", "data:text/html,<script>", "vbscript:x"] {
            assert!(is_script_url(v), "{v:?}");
            assert_eq!(sanitize_element("a", &[a("href", v)], None, PAGE, &AssetUrls::default()).attrs, vec![], "{v:?}");
        }
        assert!(!is_script_url("https://example.com/javascript:x"));
        assert!(!is_script_url("data:image/png;base64,AAAA"));
    }

    #[test]
    fn scripts_become_inert() {
        let e = sanitize_element("script", &[a("src", "/app.js"), a("type", "module"), a("id", "s")], None, PAGE, &AssetUrls::default());
        assert_eq!(e.tag, "script");
        assert_eq!(e.attrs, vec![a("id", "s"), a("type", INERT_SCRIPT_TYPE)]);
    }

    #[test]
    fn frames_meta_refresh_and_srcdoc_are_neutralised() {
        assert_eq!(sanitize_element("iframe", &[a("src", "https://x/"), a("srcdoc", "<script>"), a("width", "3")], None, PAGE, &AssetUrls::default()).attrs, vec![a("width", "3")]);
        assert_eq!(sanitize_element("meta", &[a("http-equiv", "refresh"), a("content", "0;url=https://x")], None, PAGE, &AssetUrls::default()).attrs, vec![a("content", "0;url=https://x")]);
    }

    #[test]
    fn a_recorded_frame_sandbox_cannot_make_the_frame_unreachable_or_looser() {
        // `sandbox=""` would give the replayed frame an opaque origin the renderer cannot write
        // into; `allow-scripts` would not apply anyway (nested frames inherit the replay frame's
        // flags), but is not kept either.
        for recorded in ["", "allow-scripts allow-popups"] {
            let e = sanitize_element("iframe", &[a("sandbox", recorded), a("id", "f")], None, PAGE, &AssetUrls::default());
            assert_eq!(e.attrs, vec![a("sandbox", REPLAYED_FRAME_SANDBOX), a("data-tabreel-recorded-sandbox", recorded), a("id", "f")]);
        }
        let changed = replay_attribute("iframe", "SANDBOX", "allow-top-navigation", PAGE, &AssetUrls::default()).unwrap();
        assert_eq!(changed.0 .1, REPLAYED_FRAME_SANDBOX);
        // Other elements keep theirs as recorded.
        assert_eq!(sanitize_element("div", &[a("sandbox", "")], None, PAGE, &AssetUrls::default()).attrs, vec![a("sandbox", "")]);
    }

    #[test]
    fn captured_stylesheet_links_become_style_elements() {
        let e = sanitize_element("link", &[a("rel", "stylesheet"), a("href", "/a.css"), a("media", "screen")], Some("p{color:red}"), PAGE, &AssetUrls::default());
        assert_eq!(e.tag, "style");
        assert_eq!(e.css.as_deref(), Some("p{color:red}"));
        assert_eq!(e.attrs, vec![a("media", "screen"), a(ORIGINAL_HREF_ATTR, "/a.css")]);
        // Without captured text the link stays (the replay page's CSP blocks the fetch).
        let e = sanitize_element("link", &[a("rel", "stylesheet"), a("href", "/a.css")], None, PAGE, &AssetUrls::default());
        assert_eq!(e.tag, "link");
    }

    #[test]
    fn captured_stylesheet_text_resolves_against_the_stylesheet_url() {
        let css = "@import \"more.css\";@font-face{src:url(../fonts/f.woff2)}a:hover{background:url(img/x.png)}";
        let e = sanitize_element("link", &[a("rel", "stylesheet"), a("href", "css/site.css")], Some(css), PAGE, &AssetUrls::default());
        assert_eq!(
            e.css.as_deref(),
            Some("@import \"http://site.test/app/css/more.css\";@font-face{src:url(\"http://site.test/app/fonts/f.woff2\")}a[data-tabreel-hover]{background:url(\"http://site.test/app/css/img/x.png\")}")
        );
        // A link without href: the document's URL.
        let e = sanitize_element("link", &[a("rel", "stylesheet")], Some("a{b:url(x.png)}"), PAGE, &AssetUrls::default());
        assert_eq!(e.css.as_deref(), Some("a{b:url(\"http://site.test/app/x.png\")}"));
    }

    #[test]
    fn style_element_text_resolves_against_the_document() {
        assert_eq!(sanitize_css(".a{background:url(/bg.png)}.b:focus{x:y}", PAGE), ".a{background:url(\"http://site.test/bg.png\")}.b[data-tabreel-focus]{x:y}");
    }
}
