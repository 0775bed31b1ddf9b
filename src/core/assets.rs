//! Assets: the stylesheets, fonts and images a recorded page used, stored with the recording so
//! that a replay looks right offline and never asks the recorded site for anything.
//!
//! Two halves, both plain data:
//! - **Finding what to store** ([`PageScan`], [`sheet_wants`]): the service worker passes every
//!   event of a page through a `PageScan`, which lists the URLs it refers to: linked stylesheets
//!   (whose source text the worker fetches, with their `@import`s), and the images and fonts
//!   named by recorded CSS (`url()` in `<style>` text, captured sheets, CSSOM rules, `style`
//!   attributes) and by the DOM (`img` `src`/`srcset`, `<picture><source srcset>`,
//!   `<input type=image>`, `<video poster>`, SVG `<image href>`). The page itself never fetches.
//! - **Using what was stored** ([`AssetUrls`]): the replay page turns each stored asset into a
//!   URL of its own (a `blob:` URL) and the core rewrites recorded URLs to those wherever it
//!   builds the replayed document: CSS text through [`crate::core::css::rewrite_with`], URL
//!   attributes through [`AssetUrls::attribute`]. A linked sheet whose source was stored is
//!   replayed from that source (the CSSOM's serialisation loses what Chrome cannot re-spell, such
//!   as `var()` in shorthands), its imports as `blob:` sheets rewritten the same way.
//!
//! Assets are keyed by their absolute URL without fragment; [`fetchable`] says which URLs qualify.

use std::collections::{HashMap, HashSet};

use crate::core::css::{references, rewrite_with, UrlUse};
use crate::core::event::{EventData, NodeId, NodeKind, SerializedNode, SheetRef};
use crate::core::url::{resolve, scheme_of};

/// Longest URL stored (longer ones are left to the fallback).
pub const MAX_URL_CHARS: usize = 4096;
/// Deepest chain of `@import`s followed from a linked sheet.
pub const MAX_IMPORT_DEPTH: u32 = 4;
/// Largest asset stored (8 MiB): any font, stylesheet or image a page shows; not a video.
pub const MAX_ASSET_BYTES: usize = 8 << 20;
/// Most bytes of assets a session stores (64 MiB, counted once per distinct file). The session
/// file carries them in base64 (a third more), and export builds that file in memory, so this
/// keeps an export of a heavy page under about 90 MB; what does not fit falls back to what the
/// recording holds without it.
pub const MAX_SESSION_ASSET_BYTES: usize = 64 << 20;
/// Most URLs a session stores assets for (a page with endless distinct images stops here).
pub const MAX_SESSION_ASSETS: usize = 5000;
/// The MIME type of stored stylesheets.
pub const CSS_MIME: &str = "text/css";

/// `mime` (a `Content-Type` value) reduced to its type, when it is one the replay may give the
/// frame: images, fonts, CSS, or opaque bytes (which images and fonts are sniffed from). Anything
/// else (HTML, scripts, XML documents) is refused.
pub fn replay_mime(mime: &str) -> Option<String> {
    let t = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (top, sub) = t.split_once('/')?;
    let token = |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-'));
    if !token(top) || !token(sub) {
        return None;
    }
    let ok = match top {
        "image" | "font" => true,
        "text" => sub == "css",
        "application" => matches!(sub, "octet-stream" | "font-woff" | "font-woff2" | "font-sfnt" | "vnd.ms-fontobject" | "x-font-woff" | "x-font-ttf" | "x-font-otf" | "x-font-truetype" | "x-font-opentype"),
        _ => false,
    };
    ok.then_some(t)
}

/// The lower-case hex SHA-256 of `bytes`: the key of a stored file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// What a wanted URL is for: a stylesheet is read as text and looked into; anything else is bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssetKind {
    /// A `<link rel=stylesheet>` or `@import`ed sheet.
    Sheet,
    /// An image, a font, or anything else CSS or the DOM refers to.
    Resource,
}

/// A URL the worker should store, with what it is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Wanted {
    /// Absolute http(s) URL without fragment.
    pub url: String,
    /// Sheet or resource.
    pub kind: AssetKind,
    /// How many `@import`s away from the page (0 for what the page names itself).
    pub depth: u32,
}

/// The URL under which an asset is stored: `url` when it is an absolute http(s) URL no longer than
/// [`MAX_URL_CHARS`], without its fragment.
pub fn fetchable(url: &str) -> Option<String> {
    let scheme = scheme_of(url)?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) || url.len() > MAX_URL_CHARS {
        return None;
    }
    let url = &url[..url.find('#').unwrap_or(url.len())];
    (!url.chars().any(|c| c.is_whitespace() || c.is_control())).then(|| url.to_owned())
}

/// The URLs of a `srcset` value, as byte ranges (the HTML "parse a srcset attribute" split:
/// candidates are separated by commas after a URL or its descriptors; a URL may hold commas but
/// not end with them).
pub fn srcset_ranges(value: &str) -> Vec<(usize, usize)> {
    let b = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut end = i;
        let mut trailing_comma = false;
        while end > start && b[end - 1] == b',' {
            end -= 1;
            trailing_comma = true;
        }
        if end > start {
            out.push((start, end));
        }
        if trailing_comma {
            continue;
        }
        // Descriptors, up to the next comma outside parentheses.
        let mut depth = 0usize;
        while i < b.len() {
            match b[i] {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// What the scan remembers about an element whose later attribute changes matter.
#[derive(Clone, Debug, PartialEq)]
enum Watch {
    /// `img`, `source`, `input`, `video`, SVG `image`: their URL attributes name resources.
    Media,
    /// A `<link>`: its `href` is a sheet when `rel` says stylesheet.
    Link { stylesheet: bool, href: Option<String> },
    /// A `<style>` element (its text children are CSS).
    Style,
    /// A text node inside a `<style>`.
    StyleText,
}

/// Finds the URLs one recorded page refers to, event by event (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct PageScan {
    url: String,
    base: String,
    watched: HashMap<NodeId, Watch>,
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn is_stylesheet_rel(rel: Option<&str>) -> bool {
    rel.is_some_and(|r| r.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case("stylesheet")))
}

/// The attributes of `tag` (lower case) whose values are URLs of resources the element shows, and
/// whether each is a `srcset`. (`image` is SVG's: an HTML parser makes `<image>` an `<img>`.)
fn resource_attr(tag: &str, name: &str) -> Option<bool> {
    let name = name.to_ascii_lowercase();
    match (tag, name.as_str()) {
        ("img" | "input", "src") | ("video", "poster") | ("image", "href" | "xlink:href") => Some(false),
        ("img" | "source", "srcset") => Some(true),
        _ => None,
    }
}

/// Whether `name` on `tag` (lower case) can name stored assets (a URL attribute of a media
/// element, or `style`).
pub fn names_assets(tag: &str, name: &str) -> bool {
    name.eq_ignore_ascii_case("style") || resource_attr(tag, name).is_some()
}

impl PageScan {
    /// The scan of a page whose document is at `url`.
    pub fn new(url: &str) -> PageScan {
        PageScan { url: url.to_owned(), base: url.to_owned(), watched: HashMap::new() }
    }

    /// The URLs `event` refers to, added to `out` (repeats included: the caller deduplicates).
    pub fn scan(&mut self, event: &EventData, out: &mut Vec<Wanted>) {
        match event {
            EventData::Snapshot(s) => {
                *self = PageScan::new(&s.url);
                self.find_base(&s.nodes);
                self.nodes(&s.nodes, out);
            }
            EventData::Mutation(m) => {
                for a in &m.adds {
                    self.find_base(&a.nodes);
                    if matches!(self.watched.get(&a.parent), Some(Watch::Style)) {
                        if let Some(root) = a.nodes.first() {
                            if let NodeKind::Text { text } = &root.kind {
                                self.watched.insert(root.id, Watch::StyleText);
                                self.css(text, None, out);
                            }
                        }
                    }
                    self.nodes(&a.nodes, out);
                }
                for c in &m.attrs {
                    let Some(value) = &c.value else { continue };
                    if c.name.eq_ignore_ascii_case("style") {
                        self.css(value, None, out);
                        continue;
                    }
                    match self.watched.get_mut(&c.id) {
                        Some(Watch::Media) => {
                            // The tag is not known here; every URL attribute of a media element counts.
                            let name = c.name.to_ascii_lowercase();
                            if name == "srcset" {
                                self.srcset(value, out);
                            } else if matches!(name.as_str(), "src" | "poster" | "href" | "xlink:href") {
                                self.resource(value, out);
                            }
                        }
                        Some(Watch::Link { stylesheet, href }) => {
                            if c.name.eq_ignore_ascii_case("rel") {
                                *stylesheet = is_stylesheet_rel(Some(value));
                            } else if c.name.eq_ignore_ascii_case("href") {
                                *href = Some(value.clone());
                            } else {
                                continue;
                            }
                            if let (true, Some(href)) = (*stylesheet, href.clone()) {
                                self.sheet(&href, out);
                            }
                        }
                        _ => {}
                    }
                }
                for t in &m.texts {
                    if self.watched.get(&t.id) == Some(&Watch::StyleText) {
                        self.css(&t.text, None, out);
                    }
                }
            }
            EventData::SheetRules(r) => {
                let sheet_url = match r.sheet {
                    SheetRef::Owner(id) => match self.watched.get(&id) {
                        Some(Watch::Link { href: Some(href), .. }) => resolve(&self.base, href),
                        _ => None,
                    },
                    SheetRef::Sheet(_) => None,
                };
                for rule in &r.rules {
                    self.css(rule, sheet_url.as_deref(), out);
                }
            }
            _ => {}
        }
    }

    /// A `<base href>` among `nodes` moves the base URL (the first one found; good enough for
    /// finding URLs, where the player is exact).
    fn find_base(&mut self, nodes: &[SerializedNode]) {
        for n in nodes {
            if let NodeKind::Element(e) = &n.kind {
                if e.ns.is_none() && e.tag.eq_ignore_ascii_case("base") {
                    if let Some(base) = attr(&e.attrs, "href").and_then(|h| resolve(&self.url, h)) {
                        self.base = base;
                        return;
                    }
                }
            }
        }
    }

    fn nodes(&mut self, nodes: &[SerializedNode], out: &mut Vec<Wanted>) {
        for n in nodes {
            match &n.kind {
                NodeKind::Element(e) => {
                    let tag = e.tag.to_ascii_lowercase();
                    let svg = e.ns.as_deref() == Some("http://www.w3.org/2000/svg");
                    let html = e.ns.is_none();
                    if let Some(style) = attr(&e.attrs, "style") {
                        self.css(style, None, out);
                    }
                    for (name, value) in &e.attrs {
                        match resource_attr(&tag, name) {
                            Some(true) => self.srcset(value, out),
                            Some(false) => self.resource(value, out),
                            None => {}
                        }
                    }
                    match (tag.as_str(), html || svg) {
                        ("img" | "source" | "input" | "video", true) if html => {
                            self.watched.insert(n.id, Watch::Media);
                        }
                        ("image", true) if svg => {
                            self.watched.insert(n.id, Watch::Media);
                        }
                        ("link", true) if html => {
                            let stylesheet = is_stylesheet_rel(attr(&e.attrs, "rel"));
                            let href = attr(&e.attrs, "href").map(str::to_owned);
                            if stylesheet {
                                if let Some(href) = &href {
                                    self.sheet(href, out);
                                    if let (Some(css), Some(url)) = (&e.css, resolve(&self.base, href)) {
                                        self.css(css, Some(&url), out);
                                    }
                                }
                            }
                            self.watched.insert(n.id, Watch::Link { stylesheet, href });
                        }
                        ("style", true) => {
                            self.watched.insert(n.id, Watch::Style);
                        }
                        _ => {}
                    }
                }
                NodeKind::Text { text } if n.parent.is_some_and(|p| self.watched.get(&p) == Some(&Watch::Style)) => {
                    self.watched.insert(n.id, Watch::StyleText);
                    self.css(text, None, out);
                }
                _ => {}
            }
        }
    }

    fn push(&self, reference: &str, base: Option<&str>, kind: AssetKind, depth: u32, out: &mut Vec<Wanted>) {
        let absolute = match base {
            Some(base) => resolve(base, reference),
            None => resolve(&self.base, reference),
        };
        if let Some(url) = absolute.as_deref().and_then(fetchable) {
            out.push(Wanted { url, kind, depth });
        }
    }

    fn resource(&self, reference: &str, out: &mut Vec<Wanted>) {
        if !reference.trim().is_empty() {
            self.push(reference, None, AssetKind::Resource, 0, out);
        }
    }

    fn sheet(&self, reference: &str, out: &mut Vec<Wanted>) {
        if !reference.trim().is_empty() {
            self.push(reference, None, AssetKind::Sheet, 0, out);
        }
    }

    fn srcset(&self, value: &str, out: &mut Vec<Wanted>) {
        for (s, e) in srcset_ranges(value) {
            self.resource(&value[s..e], out);
        }
    }

    /// CSS written for `sheet_url` (the document's base when `None`).
    fn css(&self, css: &str, sheet_url: Option<&str>, out: &mut Vec<Wanted>) {
        sheet_wants(css, sheet_url.unwrap_or(&self.base), 0, out);
    }
}

/// What the CSS text of a sheet at `sheet_url`, `depth` imports away from its page, refers to:
/// its imports (sheets, one level deeper, up to [`MAX_IMPORT_DEPTH`]) and resources.
pub fn sheet_wants(css: &str, sheet_url: &str, depth: u32, out: &mut Vec<Wanted>) {
    for (url, used) in references(css, Some(sheet_url)) {
        let Some(url) = fetchable(&url) else { continue };
        match used {
            UrlUse::Import if depth < MAX_IMPORT_DEPTH => out.push(Wanted { url, kind: AssetKind::Sheet, depth: depth + 1 }),
            UrlUse::Import => {}
            UrlUse::Resource => out.push(Wanted { url, kind: AssetKind::Resource, depth }),
        }
    }
}

/// The stored assets of a session as the replay uses them: recorded URL → the replay's URL for
/// the stored copy, and the source text of stored stylesheets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssetUrls {
    urls: HashMap<String, String>,
    sheets: HashMap<String, String>,
}

impl AssetUrls {
    /// Builds the map from stored `resources` (URL, the replay's URL for its bytes) and `sheets`
    /// (URL, source text). Sheets are rewritten for the replay (their URLs resolved against their
    /// own address and mapped to stored copies, user-action pseudo-classes replaced) and handed to
    /// `publish`, which answers the URL the frame can import them from; an importing sheet is
    /// rewritten after the sheets it imports (a cycle is cut where it closes).
    pub fn build(resources: Vec<(String, String)>, sheets: Vec<(String, String)>, mut publish: impl FnMut(&str) -> String) -> AssetUrls {
        let mut assets = AssetUrls { urls: resources.into_iter().collect(), sheets: HashMap::new() };
        let index: HashMap<&str, usize> = sheets.iter().enumerate().map(|(i, (u, _))| (u.as_str(), i)).collect();
        let imports: Vec<Vec<usize>> = sheets
            .iter()
            .map(|(url, text)| {
                references(text, Some(url))
                    .into_iter()
                    .filter(|(_, used)| *used == UrlUse::Import)
                    .filter_map(|(u, _)| fetchable(&u).and_then(|u| index.get(u.as_str()).copied()))
                    .collect()
            })
            .collect();
        // Post-order over the import graph, iteratively: imported sheets first.
        let mut state = vec![0u8; sheets.len()]; // 0 new, 1 on the stack, 2 done
        let mut order = Vec::with_capacity(sheets.len());
        for root in 0..sheets.len() {
            if state[root] != 0 {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            state[root] = 1;
            while let Some((node, next)) = stack.pop() {
                if let Some(&child) = imports[node].get(next) {
                    stack.push((node, next + 1));
                    if state[child] == 0 {
                        state[child] = 1;
                        stack.push((child, 0));
                    }
                } else {
                    state[node] = 2;
                    order.push(node);
                }
            }
        }
        for i in order {
            let (url, text) = &sheets[i];
            let rewritten = assets.css(text, url);
            let published = publish(&rewritten);
            assets.urls.insert(url.clone(), published);
        }
        assets.sheets = sheets.into_iter().collect();
        assets
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty() && self.sheets.is_empty()
    }

    /// The replay's URL for `url` (absolute; a fragment is kept on the stored copy's URL).
    pub fn lookup(&self, url: &str) -> Option<String> {
        if self.urls.is_empty() {
            return None;
        }
        let (main, fragment) = url.split_at(url.find('#').unwrap_or(url.len()));
        self.urls.get(main).map(|u| format!("{u}{fragment}"))
    }

    /// The stored source text of the sheet at `url` (absolute).
    pub fn sheet(&self, url: &str) -> Option<&str> {
        self.sheets.get(&url[..url.find('#').unwrap_or(url.len())]).map(String::as_str)
    }

    /// CSS text written for `base` as the replay frame needs it (see [`crate::core::css`]), its
    /// URLs pointing at stored copies where there are some.
    pub fn css(&self, css: &str, base: &str) -> String {
        rewrite_with(css, Some(base), &mut |url, _| self.lookup(url))
    }

    /// The value an attribute takes in the replay when it names stored resources (`None`: keep
    /// it as it is). `tag` is lower case, `base` is the document's base URL.
    pub fn attribute(&self, tag: &str, name: &str, value: &str, base: &str) -> Option<String> {
        if self.urls.is_empty() {
            return None;
        }
        if name.eq_ignore_ascii_case("style") {
            let mut changed = false;
            let out = rewrite_with(value, Some(base), &mut |url, _| {
                let stored = self.lookup(url);
                changed |= stored.is_some();
                stored
            });
            return changed.then_some(out);
        }
        match resource_attr(tag, name)? {
            false => self.lookup(&resolve(base, value)?),
            true => {
                let mut out = String::with_capacity(value.len());
                let mut copied = 0;
                for (s, e) in srcset_ranges(value) {
                    if let Some(stored) = resolve(base, &value[s..e]).and_then(|u| self.lookup(&u)) {
                        out.push_str(&value[copied..s]);
                        out.push_str(&stored);
                        copied = e;
                    }
                }
                (copied > 0).then(|| {
                    out.push_str(&value[copied..]);
                    out
                })
            }
        }
    }

    /// Replay URL → recorded URL, for tools that compare a replay with its page.
    pub fn originals(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self.urls.iter().map(|(k, v)| (v.clone(), k.clone())).collect();
        out.sort();
        out
    }
}

/// Deduplicates wanted URLs against those already handled (`seen`), keeping first appearances.
pub fn new_wants(wanted: Vec<Wanted>, seen: &mut HashSet<String>) -> Vec<Wanted> {
    wanted.into_iter().filter(|w| seen.insert(w.url.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{AttributeChange, ElementNode, MutationBatch, Snapshot, TextChange, Addition};

    const PAGE: &str = "http://site.test/app/index.html";

    fn el(id: NodeId, parent: Option<NodeId>, tag: &str, attrs: &[(&str, &str)]) -> SerializedNode {
        let attrs = attrs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        SerializedNode { id, parent, kind: NodeKind::Element(ElementNode { tag: tag.into(), ns: None, attrs, form: None, css: None }) }
    }

    fn text(id: NodeId, parent: NodeId, t: &str) -> SerializedNode {
        SerializedNode { id, parent: Some(parent), kind: NodeKind::Text { text: t.into() } }
    }

    fn snapshot(nodes: Vec<SerializedNode>) -> EventData {
        EventData::Snapshot(Snapshot { url: PAGE.into(), title: String::new(), width: 1, height: 1, nodes, scrolls: vec![], focus: None })
    }

    fn urls(w: &[Wanted]) -> Vec<(&str, AssetKind)> {
        w.iter().map(|w| (w.url.as_str(), w.kind)).collect()
    }

    use AssetKind::{Resource as R, Sheet as S};

    #[test]
    fn mime_types_the_replay_may_use() {
        assert_eq!(replay_mime("Image/PNG; charset=x").as_deref(), Some("image/png"));
        assert_eq!(replay_mime("font/woff2").as_deref(), Some("font/woff2"));
        assert_eq!(replay_mime("text/css;charset=utf-8").as_deref(), Some("text/css"));
        assert_eq!(replay_mime("application/vnd.ms-fontobject").as_deref(), Some("application/vnd.ms-fontobject"));
        for bad in ["text/html", "application/javascript", "text/javascript", "application/xhtml+xml", "image", "image/", "image/png\"x", "", "*/*"] {
            assert_eq!(replay_mime(bad), None, "{bad}");
        }
    }

    #[test]
    fn hashes_are_sha256() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn srcset_candidates() {
        let v = " a.png 1x, b,c.png 2x,d.png,  e.png (x, y) 3w ,f.png";
        let got: Vec<&str> = srcset_ranges(v).into_iter().map(|(s, e)| &v[s..e]).collect();
        assert_eq!(got, ["a.png", "b,c.png", "d.png", "e.png", "f.png"]);
        assert!(srcset_ranges("  , ,").is_empty());
    }

    #[test]
    fn fetchable_urls_are_http_without_fragment() {
        assert_eq!(fetchable("https://x.test/a.svg#icon").as_deref(), Some("https://x.test/a.svg"));
        for bad in ["data:image/png;base64,AA", "blob:x", "javascript:1", "chrome-extension://a/b", "relative.png", "http://x/a b"] {
            assert_eq!(fetchable(bad), None, "{bad}");
        }
        assert_eq!(fetchable(&format!("http://x/{}", "a".repeat(MAX_URL_CHARS))), None);
    }

    #[test]
    fn a_snapshot_names_sheets_images_and_css_resources() {
        let mut link = el(4, Some(2), "link", &[("rel", "Stylesheet"), ("href", "css/site.css")]);
        if let NodeKind::Element(e) = &mut link.kind {
            e.css = Some("a{background:url(img/bg.png)}".into());
        }
        let nodes = vec![
            SerializedNode { id: 1, parent: None, kind: NodeKind::Document },
            el(2, Some(1), "html", &[]),
            el(3, Some(2), "base", &[("href", "/root/")]),
            link,
            el(5, Some(2), "style", &[]),
            text(6, 5, "@import 'more.css';@font-face{src:url(f.woff2)}"),
            el(7, Some(2), "img", &[("src", "a.png"), ("srcset", "a2.png 2x, data:image/png;base64,AA 3x")]),
            el(8, Some(2), "div", &[("style", "background:url('d.png')")]),
            el(9, Some(2), "video", &[("poster", "p.jpg"), ("src", "movie.mp4")]),
            el(10, Some(2), "input", &[("type", "image"), ("src", "btn.png")]),
            el(11, Some(2), "script", &[("src", "app.js")]),
            el(12, Some(2), "a", &[("href", "next.html")]),
            el(13, Some(2), "link", &[("rel", "icon"), ("href", "favicon.ico")]),
        ];
        let mut scan = PageScan::default();
        let mut out = Vec::new();
        scan.scan(&snapshot(nodes), &mut out);
        assert_eq!(
            urls(&out),
            [
                ("http://site.test/root/css/site.css", S),
                ("http://site.test/root/css/img/bg.png", R),
                ("http://site.test/root/more.css", S),
                ("http://site.test/root/f.woff2", R),
                ("http://site.test/root/a.png", R),
                ("http://site.test/root/a2.png", R),
                ("http://site.test/root/d.png", R),
                ("http://site.test/root/p.jpg", R),
                ("http://site.test/root/btn.png", R),
            ]
        );
        assert_eq!(out[2].depth, 1);
    }

    #[test]
    fn mutations_and_cssom_rules_name_urls_too() {
        let nodes = vec![
            SerializedNode { id: 1, parent: None, kind: NodeKind::Document },
            el(2, Some(1), "html", &[]),
            el(3, Some(2), "img", &[]),
            el(4, Some(2), "style", &[]),
            text(5, 4, ""),
            el(6, Some(2), "link", &[("href", "x.css")]),
            el(7, Some(2), "p", &[]),
        ];
        let mut scan = PageScan::default();
        let mut out = Vec::new();
        scan.scan(&snapshot(nodes), &mut out);
        assert!(out.is_empty(), "{out:?}");
        let batch = MutationBatch {
            removes: vec![],
            adds: vec![Addition { parent: 2, before: None, nodes: vec![el(8, None, "source", &[("srcset", "s.webp")])] }, Addition { parent: 4, before: None, nodes: vec![SerializedNode { id: 9, parent: None, kind: NodeKind::Text { text: "b{cursor:url(c.cur),auto}".into() } }] }],
            attrs: vec![
                AttributeChange { id: 3, name: "src".into(), value: Some("late.png".into()) },
                AttributeChange { id: 7, name: "src".into(), value: Some("not-media.png".into()) },
                AttributeChange { id: 7, name: "style".into(), value: Some("mask:url(m.svg#a)".into()) },
                AttributeChange { id: 6, name: "rel".into(), value: Some("stylesheet".into()) },
            ],
            texts: vec![TextChange { id: 5, text: "a{background:url(t.png)}".into() }],
        };
        scan.scan(&EventData::Mutation(batch), &mut out);
        let base = "http://site.test/app/";
        let got: Vec<String> = out.iter().map(|w| w.url.trim_start_matches(base).to_owned()).collect();
        assert_eq!(got, ["s.webp", "c.cur", "late.png", "m.svg", "x.css", "t.png"]);
        let rules = EventData::SheetRules(crate::core::event::SheetRules { sheet: SheetRef::Owner(6), start: 0, deleted: None, rules: vec!["@font-face{src:url(../f.woff)}".into()] });
        out.clear();
        scan.scan(&rules, &mut out);
        assert_eq!(urls(&out), [("http://site.test/f.woff", R)]);
    }

    #[test]
    fn imports_are_followed_to_a_bounded_depth() {
        let mut out = Vec::new();
        sheet_wants("@import url(a.css);@import 'https://cdn.test/b.css' screen;x{background:url(#c)}", "http://s.test/css/main.css", 0, &mut out);
        assert_eq!(urls(&out), [("http://s.test/css/a.css", S), ("https://cdn.test/b.css", S)]);
        out.clear();
        sheet_wants("@import 'deep.css';a{b:url(i.png)}", "http://s.test/x.css", MAX_IMPORT_DEPTH, &mut out);
        assert_eq!(urls(&out), [("http://s.test/i.png", R)]);
    }

    #[test]
    fn new_wants_keeps_first_appearances() {
        let w = |u: &str| Wanted { url: u.into(), kind: R, depth: 0 };
        let mut seen = HashSet::new();
        assert_eq!(new_wants(vec![w("a"), w("b"), w("a")], &mut seen), vec![w("a"), w("b")]);
        assert_eq!(new_wants(vec![w("b"), w("c")], &mut seen), vec![w("c")]);
    }

    fn stored() -> AssetUrls {
        let resources = vec![
            ("http://s.test/img/a.png".to_string(), "blob:A".to_string()),
            ("http://s.test/f.woff2".to_string(), "blob:F".to_string()),
            ("http://s.test/icons.svg".to_string(), "blob:I".to_string()),
        ];
        let sheets = vec![
            ("http://s.test/main.css".to_string(), "@import 'sub/b.css';a:hover{background:url(img/a.png)}".to_string()),
            ("http://s.test/sub/b.css".to_string(), "@font-face{src:url(../f.woff2)}@import 'c.css';".to_string()),
            ("http://s.test/sub/c.css".to_string(), "@import '../main.css';x{y:url(missing.png)}".to_string()),
        ];
        let mut n = 0;
        AssetUrls::build(resources, sheets, |css| {
            n += 1;
            format!("blob:S{n}[{css}]")
        })
    }

    #[test]
    fn sheets_are_rewritten_after_their_imports() {
        let a = stored();
        // c.css first (its import of main.css closes a cycle and stays a plain URL), then b, then main.
        let c = a.lookup("http://s.test/sub/c.css").unwrap();
        assert_eq!(c, "blob:S1[@import \"http://s.test/main.css\";x{y:url(\"http://s.test/sub/missing.png\")}]");
        let b = a.lookup("http://s.test/sub/b.css").unwrap();
        assert_eq!(b, format!("blob:S2[@font-face{{src:url(\"blob:F\")}}@import \"{}\";]", c.replace('"', "\\\"")));
        let main = a.lookup("http://s.test/main.css").unwrap();
        assert!(main.starts_with("blob:S3[@import \"blob:S2[") && main.ends_with("a[data-tabreel-hover]{background:url(\"blob:A\")}]"), "{main}");
        assert_eq!(a.sheet("http://s.test/main.css#x"), Some("@import 'sub/b.css';a:hover{background:url(img/a.png)}"));
    }

    #[test]
    fn attributes_point_at_stored_copies() {
        let a = stored();
        let base = "http://s.test/page.html";
        assert_eq!(a.attribute("img", "src", "img/a.png", base).as_deref(), Some("blob:A"));
        assert_eq!(a.attribute("img", "src", "img/other.png", base), None);
        assert_eq!(a.attribute("img", "srcset", "x.png 1x, img/a.png 2x", base).as_deref(), Some("x.png 1x, blob:A 2x"));
        assert_eq!(a.attribute("image", "href", "icons.svg#i", base).as_deref(), Some("blob:I#i"));
        assert_eq!(a.attribute("a", "href", "img/a.png", base), None);
        assert_eq!(a.attribute("div", "style", "background:url(img/a.png);mask:url(no.png)", base).as_deref(), Some("background:url(\"blob:A\");mask:url(\"http://s.test/no.png\")"));
        assert_eq!(a.attribute("div", "style", "color:red", base), None);
        assert_eq!(AssetUrls::default().attribute("img", "src", "img/a.png", base), None);
        assert!(a.originals().contains(&("blob:A".to_string(), "http://s.test/img/a.png".to_string())));
    }
}
