//! The replay page: loads a session from the store, drives the core [`Player`] from animation
//! frames and the controls, and applies its [`DomOp`]s to a sandboxed iframe.
//!
//! The frame is `sandbox="allow-same-origin"` (no `allow-scripts`), so nothing recorded can run,
//! and it inherits `replay.html`'s CSP, which allows no request to any other origin. Nodes in
//! the frame belong to the frame's realm, where `instanceof` against this page's constructors
//! fails, so the renderer checks node types itself and casts unchecked. After every batch of
//! operations it keeps the replay's own rules first in the frame's cascade
//! ([`crate::shell::frame_css`]: Chrome's extension-page font cancelled, the browser's focus ring
//! for the recorded focus). The recorded pointer, hover and focus
//! ([`crate::shell::frame_marks`]) need the layout, so they are shown when the renderer is
//! settled: right after the operations while playing, in the next animation frame after a seek.
//! A seek within a page applies a diff (`core::vdom` `render_from`), so the browser re-lays out
//! only what changed.
//! Constructed stylesheets are made with the frame's own `CSSStyleSheet`: a document adopts only
//! sheets of its realm. Recorded canvas and video pictures, media state and the selection are
//! shown by [`crate::shell::frame_pictures`].

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use gloo_events::EventListener;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Document, Element, HtmlElement, HtmlIFrameElement, HtmlInputElement, HtmlSelectElement, Node};

use crate::core::assets::{AssetUrls, CSS_MIME};
use crate::core::format::SessionFile;
use crate::core::event::{FormState, FrameId, NodeId, ShadowMode, SheetRef, SheetRules};
use crate::core::frames::MAX_FRAME_DEPTH;
use crate::core::player::{PlayState, Player};
use crate::core::vdom::{DomOp, MASK_PLACEHOLDER};
use crate::shell::error::{Context, ShellError};
use crate::shell::frame_css::FrameCss;
use crate::shell::frame_marks::{shadow_root_of, Marks};
use crate::shell::frame_pictures::{set_media, set_selection, Pictures};
use crate::shell::blob_store::{AssetRef, StoredBlob};
use crate::shell::store::SessionStore;
use crate::shell::ui::{by_id, clock, document, element};


/// Entry point, called by replay.js once the engine is initialised.
#[wasm_bindgen]
pub fn player_main() {
    spawn_local(async {
        if let Err(e) = setup().await {
            if let Ok(doc) = document() {
                if let Ok(msg) = by_id::<HtmlElement>(&doc, "message") {
                    msg.set_text_content(Some(&e.to_string()));
                }
                if let Some(root) = doc.document_element() {
                    let _ = root.set_attribute("data-error", &e.to_string());
                }
            }
        }
    });
}

/// One replayed document: the top-level one, or a frame's (written into its host `<iframe>`,
/// which has no source and is same-origin with the replay page, inheriting its sandbox).
#[derive(Default)]
struct Doc {
    doc: Option<Document>,
    nodes: HashMap<NodeId, Node>,
    document_id: Option<NodeId>,
    /// Constructed stylesheets (of this document's realm), by the recording's sheet ids.
    sheets: HashMap<u32, web_sys::CssStyleSheet>,
    /// The recorded focus in this document (with whether its ring shows).
    focus: Option<(NodeId, bool)>,
    marks: Marks,
    frame_css: FrameCss,
    /// The shadow root holding the recorded focus while its ring shows, with the ring's rules in
    /// it (the document's do not reach into shadow trees).
    shadow_ring: Option<(Node, FrameCss)>,
    /// For a frame: the frame and element that show it.
    host: Option<(FrameId, NodeId)>,
}

impl Doc {
    fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(&id)
    }

    fn element(&self, id: NodeId) -> Option<&Element> {
        let node = self.node(id)?;
        (node.node_type() == Node::ELEMENT_NODE).then(|| node.unchecked_ref::<Element>())
    }

    fn window(&self) -> Option<web_sys::Window> {
        self.doc.as_ref()?.default_view()
    }

    /// Puts the focus ring's rules in `root` (the shadow root holding the focused element, when
    /// its ring shows), and takes them out of the root that had them before.
    fn ring_in_shadow_root(&mut self, root: Option<Node>) {
        if self.shadow_ring.as_ref().map(|(r, _)| r) != root.as_ref() {
            if let Some((old, mut css)) = self.shadow_ring.take() {
                css.remove(&old);
            }
            self.shadow_ring = root.map(|r| (r, FrameCss::for_shadow_root()));
        }
        if let (Some((root, css)), Some(win)) = (self.shadow_ring.as_mut(), self.doc.as_ref().and_then(|d| d.default_view())) {
            css.ensure(root, &win);
        }
    }
}

/// Applies [`DomOp`]s to the replay frame and the frames inside it.
pub struct Renderer {
    frame: HtmlIFrameElement,
    stage: HtmlElement,
    pointer: HtmlElement,
    /// Every replayed document, by frame (0: the top-level document).
    docs: HashMap<FrameId, Doc>,
    /// The frame the operations being applied address ([`DomOp::Frame`]).
    scope: FrameId,
    size: (u32, u32),
    /// The recorded pointer position, in the viewport of a frame.
    pointer_at: Option<(FrameId, f64, f64)>,
    /// Operations were applied since the pointer and the marks were last shown ([`Self::settle`]).
    unsettled: bool,
    /// Recorded canvas and video pictures (of every document).
    pub pictures: Pictures,
    /// Operations the browser refused (malformed names and the like), for diagnostics.
    pub refused: u32,
}

impl Renderer {
    /// A renderer over the page's frame, stage and pointer elements.
    pub fn new(frame: HtmlIFrameElement, stage: HtmlElement, pointer: HtmlElement) -> Renderer {
        Renderer { frame, stage, pointer, docs: HashMap::new(), scope: 0, size: (0, 0), pointer_at: None, unsettled: false, pictures: Pictures::default(), refused: 0 }
    }

    /// Applies operations in order; an operation the browser refuses is skipped and counted. The
    /// replay's own rules are put back in place; the pointer and the interaction marks wait for
    /// [`Self::settle`].
    pub fn apply(&mut self, ops: &[DomOp]) {
        self.scope = 0;
        for op in ops {
            if self.apply_one(op).is_none() {
                self.refused += 1;
            }
        }
        self.scope = 0;
        if !ops.is_empty() {
            let frames: Vec<FrameId> = self.docs.keys().copied().collect();
            for f in frames {
                self.ensure_frame_css(f);
            }
            self.unsettled = true;
        }
    }

    /// Shows the pointer and the interaction marks for what was applied since the last call
    /// (nothing when nothing was). Both ask the layout where things are (hit tests, frame
    /// positions), which makes the browser lay out the documents first: a seek leaves this to its
    /// next animation frame, where that layout is due anyway, so dragging the seek bar never waits
    /// for a layout per step.
    pub fn settle(&mut self) {
        if !std::mem::take(&mut self.unsettled) {
            return;
        }
        let style = self.pointer.style();
        let pointer = self.pointer_at.and_then(|(f, x, y)| self.offset(f).map(|(ox, oy)| (f, x + ox, y + oy)));
        match pointer {
            Some((_, x, y)) => {
                let _ = style.set_property("transform", &format!("translate({x}px, {y}px)"));
                let _ = style.set_property("display", "block");
            }
            None => {
                let _ = style.set_property("display", "none");
            }
        }
        self.refresh(pointer);
    }

    /// The interaction marks of every document, with the pointer at `pointer` (its frame, and
    /// where it is in the replay frame). The pointer hovers in the frame it is in and, through
    /// their hosts, in the frames around it.
    fn refresh(&mut self, pointer: Option<(FrameId, f64, f64)>) {
        let frames: Vec<FrameId> = self.docs.keys().copied().collect();
        for f in frames {
            let under = pointer.filter(|(p, _, _)| self.encloses(f, *p)).and_then(|(_, x, y)| self.offset(f).map(|(ox, oy)| (x - ox, y - oy)));
            let Some(d) = self.docs.get_mut(&f) else { continue };
            let Some(doc) = d.doc.clone() else { continue };
            let focused = d.focus.and_then(|(id, visible)| Some((d.element(id)?.clone(), visible)));
            d.ring_in_shadow_root(focused.as_ref().filter(|(_, visible)| *visible).and_then(|(el, _)| shadow_root_of(el)));
            d.marks.show(&doc, under, focused);
        }
    }

    /// Whether `outer` is `inner` or a frame around it.
    fn encloses(&self, outer: FrameId, inner: FrameId) -> bool {
        let mut f = inner;
        for _ in 0..=MAX_FRAME_DEPTH {
            if f == outer {
                return true;
            }
            match self.docs.get(&f).and_then(|d| d.host) {
                Some((parent, _)) => f = parent,
                None => return false,
            }
        }
        false
    }

    /// Where `frame`'s viewport is in the top-level document's (its hosts' content boxes).
    fn offset(&self, frame: FrameId) -> Option<(f64, f64)> {
        let (mut x, mut y, mut f) = (0.0, 0.0, frame);
        for _ in 0..=MAX_FRAME_DEPTH {
            if f == 0 {
                return Some((x, y));
            }
            let (parent, host) = self.docs.get(&f)?.host?;
            let host = self.docs.get(&parent)?.element(host)?;
            let rect = host.get_bounding_client_rect();
            let style = host.owner_document()?.default_view()?.get_computed_style(host).ok()??;
            let padding = |side: &str| style.get_property_value(&format!("padding-{side}")).ok().and_then(|v| v.trim_end_matches("px").parse::<f64>().ok()).unwrap_or(0.0);
            x += rect.left() + host.client_left() as f64 + padding("left");
            y += rect.top() + host.client_top() as f64 + padding("top");
            f = parent;
        }
        None
    }

    fn ensure_frame_css(&mut self, frame: FrameId) {
        if let Some(d) = self.docs.get_mut(&frame) {
            if let (Some(doc), Some(win)) = (d.doc.clone(), d.window()) {
                d.frame_css.ensure(&doc, &win);
                self.pictures.ensure_sheet(&doc, &win);
            }
        }
    }

    fn cur(&self) -> Option<&Doc> {
        self.docs.get(&self.scope)
    }

    fn cur_mut(&mut self) -> &mut Doc {
        self.docs.entry(self.scope).or_default()
    }

    fn node(&self, id: NodeId) -> Option<&Node> {
        self.cur()?.node(id)
    }

    fn element(&self, id: NodeId) -> Option<&Element> {
        self.cur()?.element(id)
    }

    /// The document to write the current frame's recorded document into: the replay frame's for
    /// the top-level document, else its host's (same-origin: the host has no source).
    fn target_document(&self) -> Option<Document> {
        if self.scope == 0 {
            return self.frame.content_document();
        }
        let (parent, host) = self.cur()?.host?;
        let host = self.docs.get(&parent)?.element(host)?;
        let doc = js_sys::Reflect::get(host, &"contentDocument".into()).ok()?;
        (!doc.is_null() && !doc.is_undefined()).then(|| doc.unchecked_into())
    }

    fn apply_one(&mut self, op: &DomOp) -> Option<()> {
        match op {
            DomOp::Frame { frame, parent, host } => {
                self.scope = *frame;
                if *frame != 0 {
                    self.cur_mut().host = Some((*parent, *host));
                }
            }
            DomOp::Reset { document, doctype } => {
                let doc = self.target_document()?;
                let html_doc: &web_sys::HtmlDocument = doc.unchecked_ref();
                html_doc.open().ok()?;
                let markup = format!("{}<html><head></head><body></body></html>", doctype.as_deref().unwrap_or(""));
                html_doc.write(&js_sys::Array::of1(&JsValue::from_str(&markup))).ok()?;
                html_doc.close().ok()?;
                if let Some(html) = doc.document_element() {
                    doc.remove_child(&html).ok()?;
                }
                if self.scope == 0 {
                    // Every frame's document went with the old one.
                    self.docs.clear();
                    self.pointer_at = None;
                    self.pictures.forget_elements();
                }
                let host = self.cur().and_then(|d| d.host);
                let _ = js_sys::Reflect::set(&doc, &"adoptedStyleSheets".into(), &js_sys::Array::new());
                let mut fresh = Doc { host, document_id: Some(*document), ..Doc::default() };
                fresh.nodes.insert(*document, doc.clone().into());
                fresh.doc = Some(doc);
                self.docs.insert(self.scope, fresh);
            }
            DomOp::CreateElement { id, tag, ns } => {
                let doc = self.cur()?.doc.as_ref()?;
                let el = match ns {
                    Some(ns) => doc.create_element_ns(Some(ns), tag).ok()?,
                    None => doc.create_element(tag).ok()?,
                };
                self.cur_mut().nodes.insert(*id, el.into());
            }
            DomOp::CreateText { id, text } => {
                let node = self.cur()?.doc.as_ref()?.create_text_node(text);
                self.cur_mut().nodes.insert(*id, node.into());
            }
            DomOp::CreateComment { id, text } => {
                let node = self.cur()?.doc.as_ref()?.create_comment(text);
                self.cur_mut().nodes.insert(*id, node.into());
            }
            DomOp::SetAttribute { id, name, value } => {
                let el = self.element(*id)?;
                match crate::core::attr_ns::namespace_of(name) {
                    Some(ns) => el.set_attribute_ns(Some(ns), name, value).ok()?,
                    None => el.set_attribute(name, value).ok()?,
                }
            }
            DomOp::RemoveAttribute { id, name } => self.element(*id)?.remove_attribute(name).ok()?,
            DomOp::SetStyleText { id, css } => self.element(*id)?.set_text_content(Some(css)),
            DomOp::Insert { parent, id, before } => {
                let parent = self.node(*parent)?;
                let child = self.node(*id)?;
                let before = before.and_then(|b| self.node(b)).filter(|b| b.parent_node().as_ref() == Some(parent));
                parent.insert_before(child, before).ok()?;
            }
            DomOp::Remove { id, subtree } => {
                if let Some(node) = self.node(*id) {
                    if let Some(parent) = node.parent_node() {
                        let _ = parent.remove_child(node);
                    }
                }
                let d = self.cur_mut();
                for n in subtree {
                    d.nodes.remove(n);
                }
            }
            DomOp::AttachShadow { host, id, mode } => {
                let host = self.element(*host)?;
                let mode = match mode {
                    ShadowMode::Open => web_sys::ShadowRootMode::Open,
                    ShadowMode::Closed => web_sys::ShadowRootMode::Closed,
                };
                let root = match host.attach_shadow(&web_sys::ShadowRootInit::new(mode)) {
                    Ok(root) => root,
                    Err(_) => {
                        // The host already has one (the recording replaced it): reuse it, emptied.
                        let root = host.shadow_root()?;
                        root.set_inner_html("");
                        root
                    }
                };
                self.cur_mut().nodes.insert(*id, root.into());
            }
            DomOp::SheetRules(change) => self.sheet_rules(change)?,
            DomOp::Adopt { id, sheets } => {
                let d = self.docs.get_mut(&self.scope)?;
                if Some(*id) == d.document_id {
                    // The replay's own adopted sheet, if it has one, goes back after the batch.
                    if let Some(doc) = d.doc.clone() {
                        d.frame_css.withdraw_adopted(&doc);
                    }
                }
                let node = d.node(*id).cloned();
                if let Some((root, css)) = d.shadow_ring.as_mut() {
                    if node.as_ref() == Some(root) {
                        css.withdraw_adopted(root);
                    }
                }
                let node = d.node(*id)?;
                let list: js_sys::Array = sheets.iter().filter_map(|s| d.sheets.get(s)).collect();
                js_sys::Reflect::set(node, &"adoptedStyleSheets".into(), &list).ok()?;
            }
            DomOp::SetText { id, text } => self.node(*id)?.set_node_value(Some(text)),
            DomOp::SetForm { id, state } => self.set_form(*id, state)?,
            DomOp::Scroll { id, x, y } => {
                // Scroll offsets are clamped to the layout of the moment: the font must be right first.
                self.ensure_frame_css(self.scope);
                let d = self.cur()?;
                if Some(*id) == d.document_id {
                    d.window()?.scroll_to_with_x_and_y(*x, *y);
                } else {
                    let el = d.element(*id)?;
                    el.set_scroll_left(*x as i32);
                    el.set_scroll_top(*y as i32);
                }
            }
            DomOp::Focus { id, visible } => self.cur_mut().focus = id.map(|id| (id, *visible)),
            DomOp::Viewport { width, height } => {
                self.size = (*width, *height);
                let style = self.frame.style();
                style.set_property("width", &format!("{width}px")).ok()?;
                style.set_property("height", &format!("{height}px")).ok()?;
                self.fit();
            }
            DomOp::Pointer { x, y } => self.pointer_at = Some((self.scope, *x, *y)),
            DomOp::NoPointer => self.pointer_at = None,
            DomOp::DrawFrame { id, hash, .. } => {
                let el = self.element(*id)?.clone();
                self.pictures.show(&el, hash)?
            }
            DomOp::Media { id, state } => set_media(self.element(*id)?, state)?,
            DomOp::Select { range } => {
                let doc = self.cur()?.doc.as_ref()?;
                let range = match range {
                    Some((a, f)) => Some(((self.node(a.node)?, *a), (self.node(f.node)?, *f))),
                    None => None,
                };
                set_selection(doc, range)?
            }
            DomOp::Click { x, y } => {
                if let Some(doc) = self.cur().and_then(|d| d.doc.clone()) {
                    self.cur_mut().marks.press(&doc, *x, *y);
                }
                let (ox, oy) = self.offset(self.scope)?;
                self.click_marker(x + ox, y + oy)?
            }
        }
        Some(())
    }

    /// Replaces rules of an element's sheet or of a constructed sheet (made on first use). A rule
    /// the frame refuses is skipped; the operation then counts as refused.
    fn sheet_rules(&mut self, change: &SheetRules) -> Option<()> {
        let whole = change.start == 0 && change.deleted.is_none();
        let d = self.docs.get_mut(&self.scope)?;
        let sheet: web_sys::CssStyleSheet = match change.sheet {
            SheetRef::Owner(id) => {
                let el = d.element(id)?;
                let sheet: web_sys::CssStyleSheet = el.unchecked_ref::<web_sys::HtmlStyleElement>().sheet()?.unchecked_into();
                // The recorded indexes count the page's rules only: the replay's own rules leave
                // this sheet while it changes, and come back after the batch.
                if let Some(doc) = d.doc.clone() {
                    d.frame_css.withdraw_from(&doc, &sheet);
                }
                if let Some((root, css)) = d.shadow_ring.as_mut() {
                    css.withdraw_from(root, &sheet);
                }
                sheet
            }
            SheetRef::Sheet(id) => match d.sheets.get(&id) {
                Some(sheet) => sheet.clone(),
                None if whole => {
                    let window = d.window()?;
                    let constructor: js_sys::Function = js_sys::Reflect::get(&window, &"CSSStyleSheet".into()).ok()?.dyn_into().ok()?;
                    let sheet: web_sys::CssStyleSheet = js_sys::Reflect::construct(&constructor, &js_sys::Array::new()).ok()?.unchecked_into();
                    d.sheets.insert(id, sheet.clone());
                    sheet
                }
                None => return None,
            },
        };
        if whole && matches!(change.sheet, SheetRef::Sheet(_)) {
            return sheet.replace_sync(&change.rules.join("\n")).ok();
        }
        let len = sheet.css_rules().ok()?.length();
        let start = change.start.min(len);
        let end = change.deleted.map_or(len, |d| start.saturating_add(d).min(len));
        for i in (start..end).rev() {
            sheet.delete_rule(i).ok()?;
        }
        let mut at = start;
        let mut all = true;
        for rule in &change.rules {
            match sheet.insert_rule_with_index(rule, at) {
                Ok(_) => at += 1,
                Err(_) => all = false,
            }
        }
        all.then_some(())
    }

    fn set_form(&self, id: NodeId, state: &FormState) -> Option<()> {
        let el = self.element(id)?;
        let value = match state {
            FormState::Checked { checked } => {
                if el.local_name() == "input" {
                    el.unchecked_ref::<HtmlInputElement>().set_checked(*checked);
                }
                return Some(());
            }
            FormState::Value { value } => value.as_str(),
            FormState::Masked { filled: true } => MASK_PLACEHOLDER,
            FormState::Masked { filled: false } => "",
        };
        match el.local_name().as_str() {
            "input" => el.unchecked_ref::<HtmlInputElement>().set_value(value),
            "textarea" => el.unchecked_ref::<web_sys::HtmlTextAreaElement>().set_value(value),
            "select" => el.unchecked_ref::<HtmlSelectElement>().set_value(value),
            _ => return None,
        }
        Some(())
    }

    fn click_marker(&self, x: f64, y: f64) -> Option<()> {
        let doc = self.stage.owner_document()?;
        let style = format!("left:{x}px;top:{y}px");
        let marker = element(&doc, "div", &[("class", "click"), ("style", &style)], "").ok()?;
        self.stage.append_child(&marker).ok()?;
        let remove = Closure::once_into_js(move || marker.remove());
        web_sys::window()?.set_timeout_with_callback_and_timeout_and_arguments_0(remove.unchecked_ref(), 700).ok()?;
        Some(())
    }

    /// Scales the stage down to fit the window; 1:1 when the window is large enough.
    pub fn fit(&self) {
        let Some(viewport) = self.stage.parent_element() else { return };
        let (w, h) = (self.size.0.max(1) as f64, self.size.1.max(1) as f64);
        let scale = (viewport.client_width() as f64 / w).min(viewport.client_height() as f64 / h).min(1.0);
        let style = self.stage.style();
        let _ = style.set_property("width", &format!("{w}px"));
        let _ = style.set_property("height", &format!("{h}px"));
        let _ = style.set_property("transform", &format!("scale({})", if scale > 0.0 { scale } else { 1.0 }));
        if let Some(root) = self.stage.owner_document().and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-scale", &format!("{scale:.3}"));
        }
    }
}

/// The replay page's state.
struct App {
    player: Player,
    renderer: Renderer,
    play: HtmlElement,
    seek: HtmlInputElement,
    time: HtmlElement,
    url: HtmlElement,
    last_frame: Option<f64>,
    /// An animation frame is asked for to settle the renderer after a seek.
    settle_asked: bool,
}

impl App {
    fn update_controls(&self) {
        let (pos, dur) = (self.player.position(), self.player.duration());
        self.seek.set_value(&format!("{}", pos.round()));
        self.time.set_text_content(Some(&format!("{} / {}", clock(pos), clock(dur))));
        self.play.set_text_content(Some(if self.player.state() == PlayState::Playing { "❚❚ Pause" } else { "▶ Play" }));
        self.url.set_text_content(Some(self.player.dom().url()));
    }

    fn seek(&mut self, at: f64) {
        let ops = self.player.seek(at);
        self.renderer.apply(&ops);
        self.last_frame = None;
        self.update_controls();
    }
}

/// Seeks, and shows the pointer and marks in the next animation frame (one for any number of
/// seeks before it).
fn seek_and_settle(app: &Rc<RefCell<App>>, at: f64) {
    let mut a = app.borrow_mut();
    a.seek(at);
    if std::mem::replace(&mut a.settle_asked, true) {
        return;
    }
    let Some(window) = web_sys::window() else { return };
    let app = app.clone();
    let settle = Closure::once_into_js(move || {
        let mut a = app.borrow_mut();
        a.settle_asked = false;
        a.renderer.settle();
    });
    let _ = window.request_animation_frame(settle.unchecked_ref());
}

/// Events replayed per background step while keyframes are prepared (a few ms each).
const PREPARE_EVENTS: usize = 300;

/// Prepares the player's keyframes a step per task, so the page stays responsive meanwhile and
/// the first long seek is quick.
fn prepare_in_background(app: Rc<RefCell<App>>) {
    let Some(window) = web_sys::window() else { return };
    let step = Closure::once_into_js(move || {
        let done = match app.try_borrow_mut() {
            Ok(mut a) => a.player.prepare(PREPARE_EVENTS),
            Err(_) => false, // busy (a frame or a seek): try again next task
        };
        if !done {
            prepare_in_background(app);
        } else if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-prepared", "1");
        }
    });
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(step.unchecked_ref(), 0);
}

fn now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

async fn setup() -> Result<(), ShellError> {
    let doc = document()?;
    let params = web_sys::UrlSearchParams::new_with_str(&doc.location().and_then(|l| l.search().ok()).unwrap_or_default()).context("reading the address")?;
    let id = params.get("session").ok_or_else(|| ShellError::new("no session given", "open replay.html?session=<id>"))?;
    let store = SessionStore::open().await?;
    let meta = store.session(&id).await?.ok_or_else(|| ShellError::new("no such session", id.clone()))?;
    let events = store.events(&id).await?;
    doc.set_title(&format!("Replay: {}", if meta.title.is_empty() { &meta.url } else { &meta.title }));

    let renderer = Renderer::new(by_id(&doc, "replay-frame")?, by_id(&doc, "stage")?, by_id(&doc, "pointer")?);
    let (assets, blobs) = store.used_blobs(&id, &events).await?;
    let pictures: HashSet<String> = SessionFile::referenced_blobs(&events).into_iter().collect();
    for b in blobs.iter().filter(|b| pictures.contains(&b.hash)) {
        renderer.pictures.add_source(b.hash.clone(), web_blob(&js_sys::Uint8Array::from(b.bytes.as_slice()).into(), &b.mime)?);
    }
    let mut player = Player::new(events, meta.started_at, meta.duration_ms);
    player.set_assets(load_assets(assets, &blobs)?);
    let seek: HtmlInputElement = by_id(&doc, "seek")?;
    seek.set_max(&format!("{}", player.duration().ceil()));
    draw_pages(&doc, &player)?;
    let app = Rc::new(RefCell::new(App {
        player,
        renderer,
        play: by_id(&doc, "play")?,
        seek: seek.clone(),
        time: by_id(&doc, "time")?,
        url: by_id(&doc, "page-url")?,
        last_frame: None,
        settle_asked: false,
    }));

    let at = match params.get("at").as_deref() {
        Some("end") => f64::INFINITY,
        Some(ms) => ms.parse::<f64>().map_err(|_| ShellError::new("bad 'at' parameter", ms.to_string()))?,
        None => 0.0,
    };
    {
        let mut a = app.borrow_mut();
        a.seek(at);
        a.renderer.settle();
    }
    let pictures = app.borrow().renderer.pictures.clone();
    let _ = wasm_bindgen_futures::JsFuture::from(pictures.settled()).await;
    prepare_in_background(app.clone());

    let frame_loop: Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>> = Rc::new(RefCell::new(None));
    let start_loop = {
        let (app, frame_loop) = (app.clone(), frame_loop.clone());
        move || {
            let looper = frame_loop.clone();
            let app = app.clone();
            *frame_loop.borrow_mut() = Some(Closure::new(move |_ts: f64| {
                let mut a = app.borrow_mut();
                let t = now();
                let dt = a.last_frame.map(|l| t - l).unwrap_or(0.0);
                a.last_frame = Some(t);
                let ops = a.player.tick(dt);
                a.renderer.apply(&ops);
                a.renderer.settle();
                a.update_controls();
                if a.player.state() == PlayState::Playing {
                    if let (Some(w), Some(cb)) = (web_sys::window(), looper.borrow().as_ref()) {
                        let _ = w.request_animation_frame(cb.as_ref().unchecked_ref());
                    }
                } else {
                    a.last_frame = None;
                }
            }));
            if let (Some(w), Some(cb)) = (web_sys::window(), frame_loop.borrow().as_ref()) {
                let _ = w.request_animation_frame(cb.as_ref().unchecked_ref());
            }
        }
    };

    let play: HtmlElement = by_id(&doc, "play")?;
    {
        let app = app.clone();
        EventListener::new(&play, "click", move |_| {
            let playing = app.borrow().player.state() == PlayState::Playing;
            if playing {
                app.borrow_mut().player.pause();
                app.borrow().update_controls();
            } else {
                {
                    let mut a = app.borrow_mut();
                    let ops = a.player.play();
                    a.renderer.apply(&ops);
                    a.last_frame = None;
                    a.update_controls();
                }
                start_loop();
            }
        })
        .forget();
    }
    {
        let app = app.clone();
        EventListener::new(&seek, "input", move |e| {
            let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
            seek_and_settle(&app, input.value_as_number());
        })
        .forget();
    }
    {
        let app = app.clone();
        let speed: HtmlSelectElement = by_id(&doc, "speed")?;
        EventListener::new(&speed.clone(), "change", move |_| {
            app.borrow_mut().player.set_speed(speed.value().parse().unwrap_or(1.0));
        })
        .forget();
    }
    {
        let app = app.clone();
        let window = web_sys::window().ok_or_else(|| ShellError::new("no window", ""))?;
        EventListener::new(&window, "resize", move |_| app.borrow().renderer.fit()).forget();
    }
    if let Some(root) = doc.document_element() {
        root.set_attribute("data-ready", "1").context("marking the replay ready")?;
    }
    Ok(())
}

/// The session's stored assets as `blob:` URLs of this page, which the frame (same origin,
/// inheriting this page's CSP) may load; stylesheets are rewritten first (see
/// [`AssetUrls::build`]). The map from those URLs back to the recorded ones is left on the window
/// as `tabreelAssetUrls`, for tools that compare a replay with its page.
fn load_assets(refs: Vec<AssetRef>, contents: &[StoredBlob]) -> Result<AssetUrls, ShellError> {
    let mut blob_urls: HashMap<String, String> = HashMap::new();
    let mut sheet_texts: HashMap<String, String> = HashMap::new();
    let used: HashSet<&str> = refs.iter().map(|r| r.hash.as_str()).collect();
    for c in contents.iter().filter(|c| used.contains(c.hash.as_str())) {
        if c.mime == CSS_MIME {
            sheet_texts.insert(c.hash.clone(), String::from_utf8_lossy(&c.bytes).trim_start_matches('\u{feff}').to_owned());
        } else {
            blob_urls.insert(c.hash.clone(), blob_url(&js_sys::Uint8Array::from(c.bytes.as_slice()).into(), &c.mime)?);
        }
    }
    let mut resources = Vec::new();
    let mut sheets = Vec::new();
    for AssetRef { url, hash, .. } in refs {
        if let Some(blob) = blob_urls.get(&hash) {
            resources.push((url, blob.clone()));
        } else if let Some(text) = sheet_texts.get(&hash) {
            sheets.push((url, text.clone()));
        }
    }
    let mut failed = None;
    let assets = AssetUrls::build(resources, sheets, |css| {
        blob_url(&JsValue::from_str(css), CSS_MIME).unwrap_or_else(|e| {
            failed = Some(e);
            String::new()
        })
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let originals = js_sys::Object::new();
    for (replay, recorded) in assets.originals() {
        let _ = js_sys::Reflect::set(&originals, &replay.into(), &recorded.into());
    }
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"tabreelAssetUrls".into(), &originals);
    }
    Ok(assets)
}

/// A `Blob` of `part` (bytes or text) of type `mime`.
fn web_blob(part: &JsValue, mime: &str) -> Result<web_sys::Blob, ShellError> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(part), &options).context("making a stored blob's Blob")
}

/// A `blob:` URL of this page for `part` (bytes or text) of type `mime`.
fn blob_url(part: &JsValue, mime: &str) -> Result<String, ShellError> {
    web_sys::Url::create_object_url_with_blob(&web_blob(part, mime)?).context("making a stored asset's URL")
}

/// Marks where each page (navigation) starts on the timeline.
fn draw_pages(doc: &Document, player: &Player) -> Result<(), ShellError> {
    let pages: HtmlElement = by_id(doc, "pages")?;
    let duration = player.duration().max(1.0);
    for (page, at, url) in player.pages() {
        let style = format!("left:{:.3}%", at / duration * 100.0);
        let marker = element(doc, "span", &[("class", "page-mark"), ("style", &style), ("title", &url), ("data-page", &page.to_string())], "")?;
        pages.append_child(&marker).context("drawing the timeline")?;
    }
    Ok(())
}
