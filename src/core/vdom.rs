//! The player's model of the replayed document, and the DOM operations that bring a real
//! document in line with it.
//!
//! [`VirtualDom`] applies recorded events and answers with [`DomOp`]s; the player shell is a dumb
//! interpreter of those operations over web-sys. Seeking rebuilds the model without touching the
//! real DOM and then renders it once. Every element is passed through [`crate::core::sanitize`]
//! on its way out, so no operation can carry recorded code into the replay frame; recorded CSS
//! (`<style>` text, captured stylesheets) goes through [`AssetUrls::css`] with the recorded
//! document's base URL, so that its URLs point at the copies stored with the recording, or else
//! keep pointing at the recorded site. A stylesheet `<link>` whose source was stored is replayed
//! from that source.
//!
//! A shadow root is a child of its host in the model (always the host's first child) and is
//! attached, not inserted. Stylesheets that live only in the CSSOM (rules inserted into a
//! `<style>`'s sheet, constructed sheets adopted by documents and shadow roots) are kept beside
//! the tree and applied once their owners are in the replayed document.

use crate::core::ids::IdMap;

use crate::core::event::{Event, EventData, FormState, FrameId, MediaState, MutationBatch, NodeId, NodeKind, SelectionPoint, SerializedNode, ShadowMode, SheetRef, SheetRules, Snapshot};
use std::rc::Rc;

use crate::core::assets::{names_assets, AssetUrls};
use crate::core::blob::BlobHash;
use crate::core::event::ElementNode;
use crate::core::sanitize::{replay_attribute, sanitize_element, RECORDED_ATTR_PREFIX};
use crate::core::url::resolve;

mod diff;
pub use diff::Placed;

/// One change to apply to the real replay document.
#[derive(Clone, Debug, PartialEq)]
pub enum DomOp {
    /// Start a fresh document (standards mode when `doctype` is given) known by `document`.
    Reset {
        /// The recorded document node's id.
        document: NodeId,
        /// The doctype as markup (`<!DOCTYPE html>`), or `None` for quirks mode.
        doctype: Option<String>,
    },
    /// Create an element.
    CreateElement {
        /// Its id.
        id: NodeId,
        /// Tag name.
        tag: String,
        /// Namespace, when not HTML.
        ns: Option<String>,
    },
    /// Create a text node.
    CreateText {
        /// Its id.
        id: NodeId,
        /// Its data.
        text: String,
    },
    /// Create a comment.
    CreateComment {
        /// Its id.
        id: NodeId,
        /// Its data.
        text: String,
    },
    /// Set an attribute.
    SetAttribute {
        /// The element.
        id: NodeId,
        /// Name (may carry a namespace prefix such as `xlink:`).
        name: String,
        /// Value.
        value: String,
    },
    /// Remove an attribute.
    RemoveAttribute {
        /// The element.
        id: NodeId,
        /// Name.
        name: String,
    },
    /// Replace the text content of an element (captured stylesheet text of a `<style>`).
    SetStyleText {
        /// The element.
        id: NodeId,
        /// CSS text.
        css: String,
    },
    /// Insert `id` into `parent` before `before` (append when `None`).
    Insert {
        /// The parent.
        parent: NodeId,
        /// The node.
        id: NodeId,
        /// The following sibling.
        before: Option<NodeId>,
    },
    /// Remove a node (and forget its subtree).
    Remove {
        /// The node.
        id: NodeId,
        /// Every id in the removed subtree, the node first, so the shell can forget them.
        subtree: Vec<NodeId>,
    },
    /// Attach a shadow root known by `id` to the element `host` (the shadow root's creation).
    AttachShadow {
        /// The host element.
        host: NodeId,
        /// The shadow root's id.
        id: NodeId,
        /// Open or closed, as recorded.
        mode: ShadowMode,
    },
    /// Replace rules of a sheet: the sheet of an element (a `<style>` in the document), or a
    /// constructed sheet (created on first use). Same meaning as the [`SheetRules`] event.
    SheetRules(SheetRules),
    /// Set the `adoptedStyleSheets` of the document or of a shadow root to these constructed
    /// sheets.
    Adopt {
        /// The document or shadow root.
        id: NodeId,
        /// Constructed sheets, by id.
        sheets: Vec<u32>,
    },
    /// Set a text or comment node's data.
    SetText {
        /// The node.
        id: NodeId,
        /// The data.
        text: String,
    },
    /// Set a form control's live state.
    SetForm {
        /// The control.
        id: NodeId,
        /// Its state.
        state: FormState,
    },
    /// Scroll an element (or the viewport, for the document's id).
    Scroll {
        /// The node.
        id: NodeId,
        /// scrollLeft.
        x: f64,
        /// scrollTop.
        y: f64,
    },
    /// Move focus (blur when `None`).
    Focus {
        /// The element.
        id: Option<NodeId>,
        /// Whether the browser would draw its focus ring (`:focus-visible`), as far as the
        /// recording tells (see [`VirtualDom`]'s focus rules).
        visible: bool,
    },
    /// The recorded viewport size.
    Viewport {
        /// Width in CSS pixels.
        width: u32,
        /// Height in CSS pixels.
        height: u32,
    },
    /// Draw the pointer at a position.
    Pointer {
        /// x in CSS pixels.
        x: f64,
        /// y in CSS pixels.
        y: f64,
    },
    /// Show no pointer: the page shown has no recorded position yet, or it is in a frame that is
    /// not shown.
    NoPointer,
    /// Draw a click marker at a position.
    Click {
        /// x in CSS pixels.
        x: f64,
        /// y in CSS pixels.
        y: f64,
    },
    /// Show a recorded picture in a `<canvas>` (drawn into it) or a `<video>` (as its picture).
    DrawFrame {
        /// The canvas or video element.
        id: NodeId,
        /// The picture's blob.
        hash: BlobHash,
        /// Its size in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
    },
    /// Set a media element's playback state.
    Media {
        /// The `<video>` or `<audio>`.
        id: NodeId,
        /// Its state.
        state: MediaState,
    },
    /// Set the document's selection (clear it when `None`).
    Select {
        /// Anchor and focus.
        range: Option<(SelectionPoint, SelectionPoint)>,
    },
    /// The operations that follow (up to the next `Frame`) are for the document of `frame`,
    /// which the element `host` of frame `parent` shows; node ids are that frame's own. Frame 0
    /// is the top-level document (`parent` and `host` then mean nothing). Every list of
    /// operations starts in frame 0. Positions (`Pointer`, `Click`) are in the frame's viewport.
    Frame {
        /// The frame.
        frame: FrameId,
        /// The frame whose document holds the host.
        parent: FrameId,
        /// The `<iframe>` (or `<frame>`) element showing the frame's document.
        host: NodeId,
    },
}

/// Text shown in a masked field that held something: fixed, so it reveals no length.
pub const MASK_PLACEHOLDER: &str = "••••••••";

/// A focus that follows a pointer event by less than this (ms) counts as a pointer focus.
const POINTER_FOCUS_MS: f64 = 1000.0;

/// `<input>` types that take typed text: Chrome shows their focus ring however they got focus.
const TEXT_INPUT_TYPES: &[&str] = &["", "text", "search", "url", "tel", "email", "password", "number", "date", "month", "week", "time", "datetime-local"];
/// Every `<input>` type; an unknown one is a text field.
const KNOWN_INPUT_TYPES: &[&str] = &[
    "", "text", "search", "url", "tel", "email", "password", "number", "date", "month", "week", "time", "datetime-local", "hidden", "checkbox", "radio", "file",
    "submit", "image", "reset", "button", "color", "range",
];

#[derive(Clone, Debug)]
struct VNode {
    kind: NodeKind,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
}

/// The replayed document at the player's current time.
#[derive(Clone, Debug, Default)]
pub struct VirtualDom {
    nodes: IdMap<NodeId, VNode>,
    document: Option<NodeId>,
    page: Option<u32>,
    scrolls: IdMap<NodeId, (f64, f64)>,
    focus: Option<NodeId>,
    focus_visible: bool,
    /// When the pointer last moved or clicked (event time), to tell pointer from keyboard focus.
    last_pointer: Option<f64>,
    viewport: (u32, u32),
    pointer: Option<(f64, f64)>,
    url: String,
    /// The document's base URL: its first `<base href>` resolved against `url`, else `url`.
    base: String,
    /// The `<base>` element that gave `base`, if any.
    base_node: Option<NodeId>,
    title: String,
    /// While set, events update the model only: no operations are built (see [`Self::update`]).
    quiet: bool,
    /// Rules of constructed stylesheets, by sheet id.
    sheets: IdMap<u32, Vec<String>>,
    /// CSSOM rules of `<style>`/`<link>` elements whose sheet differs from their text.
    owner_rules: IdMap<NodeId, Vec<String>>,
    /// `adoptedStyleSheets` of the document and shadow roots.
    adopted: IdMap<NodeId, Vec<u32>>,
    /// The session's stored assets (the same for every page).
    assets: Rc<AssetUrls>,
    /// The last recorded picture of each canvas or video (kept while its node is away: a node
    /// moved in the page is removed and inserted again under its id, with its picture).
    frames: IdMap<NodeId, (BlobHash, u32, u32)>,
    /// The last recorded playback state of each media element (kept like `frames`).
    media: IdMap<NodeId, MediaState>,
    /// The selection: anchor and focus.
    selection: Option<(SelectionPoint, SelectionPoint)>,
    /// `<iframe>`/`<frame>` elements in the model and the frame each shows.
    hosts: IdMap<NodeId, FrameId>,
    /// Frames whose host elements were inserted since [`Self::take_new_hosts`] was last called.
    new_hosts: Vec<FrameId>,
}

/// A model that recorded events change, which says how to show each change: one document
/// ([`VirtualDom`]) or a page with its frames (`core::frames::TabDom`).
pub trait EventModel {
    /// Applies one event, appending the operations that show it to `ops`.
    fn apply_into(&mut self, event: &Event, ops: &mut Vec<DomOp>);

    /// Builds no operations while set (seeking updates the model only).
    fn set_quiet(&mut self, quiet: bool);

    /// Applies one event and returns the operations that show it.
    fn apply(&mut self, event: &Event) -> Vec<DomOp> {
        let mut ops = Vec::new();
        self.apply_into(event, &mut ops);
        ops
    }

    /// Applies one event to the model without building the operations that show it: seeking
    /// replays many events and renders once at the end.
    fn update(&mut self, event: &Event) {
        let mut ignored = Vec::new();
        self.set_quiet(true);
        self.apply_into(event, &mut ignored);
        self.set_quiet(false);
    }
}

impl EventModel for VirtualDom {
    fn apply_into(&mut self, event: &Event, ops: &mut Vec<DomOp>) {
        self.apply_event(event, ops);
    }

    fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }
}

impl VirtualDom {
    /// Points recorded URLs at these stored copies from now on (set before the first event).
    pub fn set_assets(&mut self, assets: Rc<AssetUrls>) {
        self.assets = assets;
    }

    /// The CSS a `<link>` is replayed with: the stored source of its sheet, else the text captured
    /// with it; `None` for a link that is not a stylesheet with either.
    fn link_css<'a>(&'a self, e: &'a ElementNode) -> Option<&'a str> {
        if e.ns.is_none() && e.tag.eq_ignore_ascii_case("link") {
            let attr = |name: &str| e.attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
            let stylesheet = attr("rel").is_some_and(|r| r.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case("stylesheet")));
            if stylesheet {
                if let Some(source) = attr("href").and_then(|h| resolve(&self.base, h)).and_then(|u| self.assets.sheet(&u)) {
                    return Some(source);
                }
            }
        }
        e.css.as_deref()
    }

    /// The page (navigation index) currently shown, if any.
    pub fn page(&self) -> Option<u32> {
        self.page
    }

    /// The viewport size of the current page.
    pub fn viewport(&self) -> (u32, u32) {
        self.viewport
    }

    /// URL of the page currently shown.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Base URL of the page currently shown (what its relative URLs resolve against).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Title recorded with the current page's snapshot.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The frames linked to their hosts since the last call: their documents go in next.
    pub fn take_new_hosts(&mut self) -> Vec<FrameId> {
        std::mem::take(&mut self.new_hosts)
    }

    /// The element showing `frame`'s document, if the model has one.
    pub fn host_of(&self, frame: FrameId) -> Option<NodeId> {
        self.hosts.iter().filter(|(_, f)| **f == frame).map(|(id, _)| *id).min()
    }

    /// The frames that elements of the model show.
    pub fn hosted_frames(&self) -> Vec<FrameId> {
        let mut frames: Vec<(NodeId, FrameId)> = self.hosts.iter().map(|(id, f)| (*id, *f)).collect();
        frames.sort_unstable();
        frames.into_iter().map(|(_, f)| f).collect()
    }

    /// Number of nodes in the model.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when nothing has been loaded.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Applies one event, appending the operations that show it to `ops`.
    fn apply_event(&mut self, event: &Event, ops: &mut Vec<DomOp>) {
        if let EventData::Snapshot(snapshot) = &event.data {
            self.load(snapshot, event.page);
            if !self.quiet {
                self.render_into(ops);
            }
            return;
        }
        if self.page != Some(event.page) {
            return; // events of a page whose snapshot we do not have
        }
        match &event.data {
            EventData::Snapshot(_) => unreachable!(),
            EventData::Mutation(batch) => self.apply_mutation(batch, ops),
            EventData::PointerMove { x, y } => {
                self.pointer = Some((*x, *y));
                self.last_pointer = Some(event.t);
                ops.push(DomOp::Pointer { x: *x, y: *y });
            }
            EventData::Click { x, y, .. } => {
                self.pointer = Some((*x, *y));
                self.last_pointer = Some(event.t);
                ops.push(DomOp::Pointer { x: *x, y: *y });
                ops.push(DomOp::Click { x: *x, y: *y });
            }
            EventData::Scroll { target, x, y } => {
                if self.nodes.contains_key(target) {
                    self.scrolls.insert(*target, (*x, *y));
                    ops.push(DomOp::Scroll { id: *target, x: *x, y: *y });
                }
            }
            EventData::Input { target, state } => {
                if let Some(VNode { kind: NodeKind::Element(e), .. }) = self.nodes.get_mut(target) {
                    e.form = Some(state.clone());
                    ops.push(DomOp::SetForm { id: *target, state: state.clone() });
                }
            }
            EventData::Focus { target } => {
                let target = target.filter(|t| self.nodes.contains_key(t));
                let by_pointer = self.last_pointer.is_some_and(|p| event.t - p < POINTER_FOCUS_MS);
                self.focus = target;
                self.focus_visible = target.is_some_and(|t| !by_pointer || self.takes_typed_text(t));
                ops.push(DomOp::Focus { id: target, visible: self.focus_visible });
            }
            EventData::Viewport { width, height } => {
                self.viewport = (*width, *height);
                ops.push(DomOp::Viewport { width: *width, height: *height });
            }
            EventData::SheetRules(change) => {
                if self.apply_sheet_rules(change) && !self.quiet {
                    ops.push(DomOp::SheetRules(self.frame_rules(change.sheet, change.start, change.deleted, &change.rules)));
                }
            }
            EventData::CanvasFrame { target, hash, width, height } => {
                if self.is_element(*target) {
                    self.frames.insert(*target, (hash.clone(), *width, *height));
                    if !self.quiet {
                        ops.push(DomOp::DrawFrame { id: *target, hash: hash.clone(), width: *width, height: *height });
                    }
                }
            }
            EventData::Media { target, state } => {
                if self.is_element(*target) {
                    self.media.insert(*target, *state);
                    ops.push(DomOp::Media { id: *target, state: *state });
                }
            }
            EventData::Selection { anchor, focus } => {
                let range = anchor.zip(*focus).filter(|(a, f)| self.nodes.contains_key(&a.node) && self.nodes.contains_key(&f.node));
                self.selection = range;
                ops.push(DomOp::Select { range });
            }
            EventData::FrameHost { host, child } => self.link_host(*host, *child),
            EventData::Adopted { target, sheets } => {
                let is_root = self.nodes.get(target).is_some_and(|n| matches!(n.kind, NodeKind::Document | NodeKind::ShadowRoot { .. }));
                if is_root {
                    if sheets.is_empty() {
                        self.adopted.remove(target);
                    } else {
                        self.adopted.insert(*target, sheets.clone());
                    }
                    if !self.quiet {
                        ops.push(DomOp::Adopt { id: *target, sheets: sheets.clone() });
                    }
                }
            }
        }
    }

    /// A change of CSSOM rules as the frame needs it: each rule rewritten like recorded `<style>`
    /// text ([`sanitize_css`]), against the stylesheet's own URL for a captured `<link>` and the
    /// document's base URL otherwise (a constructed sheet's base is its document's).
    fn frame_rules(&self, sheet: SheetRef, start: u32, deleted: Option<u32>, rules: &[String]) -> SheetRules {
        let link_href = match sheet {
            SheetRef::Owner(id) => match self.nodes.get(&id) {
                Some(VNode { kind: NodeKind::Element(e), .. }) if e.tag.eq_ignore_ascii_case("link") && self.link_css(e).is_some() => {
                    e.attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case("href")).and_then(|(_, h)| resolve(&self.base, h))
                }
                _ => None,
            },
            SheetRef::Sheet(_) => None,
        };
        let base = link_href.as_deref().unwrap_or(&self.base);
        SheetRules { sheet, start, deleted, rules: rules.iter().map(|r| self.assets.css(r, base)).collect() }
    }

    /// Applies a change of CSSOM rules to the model; false when it does not apply (an unknown
    /// owner, or a partial change to a sheet the model has no rules for).
    fn apply_sheet_rules(&mut self, change: &SheetRules) -> bool {
        let rules = match change.sheet {
            SheetRef::Owner(id) => {
                if !matches!(self.nodes.get(&id), Some(VNode { kind: NodeKind::Element(_), .. })) {
                    return false;
                }
                self.owner_rules.get_mut(&id)
            }
            SheetRef::Sheet(id) => self.sheets.get_mut(&id),
        };
        let whole = change.start == 0 && change.deleted.is_none();
        match (rules, whole) {
            (Some(rules), _) => splice_rules(rules, change),
            (None, true) => {
                let rules = change.rules.clone();
                match change.sheet {
                    SheetRef::Owner(id) => self.owner_rules.insert(id, rules),
                    SheetRef::Sheet(id) => self.sheets.insert(id, rules),
                };
            }
            (None, false) => return false,
        }
        true
    }

    fn load(&mut self, snapshot: &Snapshot, page: u32) {
        *self = VirtualDom {
            page: Some(page),
            viewport: (snapshot.width, snapshot.height),
            url: snapshot.url.clone(),
            title: snapshot.title.clone(),
            assets: self.assets.clone(),
            quiet: self.quiet,
            ..Default::default()
        };
        let root = snapshot.nodes.first().map(|n| n.id);
        self.document = root;
        self.insert_subtree(&snapshot.nodes, None, None);
        for s in &snapshot.scrolls {
            if self.nodes.contains_key(&s.target) {
                self.scrolls.insert(s.target, (s.x, s.y));
            }
        }
        self.focus = snapshot.focus.filter(|f| self.nodes.contains_key(f));
        // Nothing tells how it got there: like an autofocus, it shows its ring.
        self.focus_visible = self.focus.is_some();
        self.update_base();
    }

    fn is_element(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(&id), Some(VNode { kind: NodeKind::Element(_), .. }))
    }

    /// The recorded picture of `id` as an operation, if it has one.
    fn frame_op(&self, id: NodeId) -> Option<DomOp> {
        let (hash, width, height) = self.frames.get(&id)?;
        Some(DomOp::DrawFrame { id, hash: hash.clone(), width: *width, height: *height })
    }

    /// Whether focusing `id` always shows its ring in Chrome (`:focus-visible` matches elements
    /// that take typed text however they got focus; others only after keyboard use).
    fn takes_typed_text(&self, id: NodeId) -> bool {
        let Some(VNode { kind: NodeKind::Element(e), .. }) = self.nodes.get(&id) else { return false };
        let attr = |name: &str| e.attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_ascii_lowercase());
        if e.ns.is_some() {
            return false;
        }
        match e.tag.to_ascii_lowercase().as_str() {
            "textarea" => true,
            "input" => {
                let t = attr("type").unwrap_or_default();
                TEXT_INPUT_TYPES.contains(&t.as_str()) || !KNOWN_INPUT_TYPES.contains(&t.as_str())
            }
            _ => attr("contenteditable").is_some_and(|v| v != "false"),
        }
    }

    /// Recomputes the document's base URL from its first `<base href>` (document order).
    fn update_base(&mut self) {
        self.base = self.url.clone();
        self.base_node = None;
        let Some(doc) = self.document else { return };
        let mut stack = vec![doc];
        while let Some(id) = stack.pop() {
            let Some(node) = self.nodes.get(&id) else { continue };
            if let NodeKind::Element(e) = &node.kind {
                if e.ns.is_none() && e.tag.eq_ignore_ascii_case("base") {
                    if let Some((_, href)) = e.attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case("href")) {
                        if let Some(base) = resolve(&self.url, href) {
                            self.base = base;
                        }
                        self.base_node = Some(id);
                        return;
                    }
                }
            }
            stack.extend(node.children.iter().rev());
        }
    }

    /// Whether `id` is a `<style>` element (HTML or SVG), whose text is CSS.
    fn is_style(&self, id: Option<NodeId>) -> bool {
        matches!(id.and_then(|i| self.nodes.get(&i)), Some(VNode { kind: NodeKind::Element(e), .. }) if e.tag.eq_ignore_ascii_case("style"))
    }

    /// The text of node `id` as it goes to the frame: CSS text is rewritten for the replay.
    fn frame_text(&self, id: NodeId, text: &str) -> String {
        if self.is_style(self.nodes.get(&id).and_then(|n| n.parent)) {
            self.assets.css(text, &self.base)
        } else {
            text.to_owned()
        }
    }

    /// Adds a flat subtree to the model under `parent` before `before`; returns the root id if it
    /// was added. Nodes whose parent is unknown are skipped (a malformed subtree).
    fn insert_subtree(&mut self, nodes: &[SerializedNode], parent: Option<NodeId>, before: Option<NodeId>) -> Option<NodeId> {
        let root = nodes.first()?;
        if self.nodes.contains_key(&root.id) {
            self.remove_subtree(root.id);
        }
        if let Some(p) = parent {
            if !self.can_hold(p, &root.kind) {
                return None;
            }
            let siblings = &mut self.nodes.get_mut(&p)?.children;
            let pos = match root.kind {
                NodeKind::ShadowRoot { .. } => 0,
                _ => before.and_then(|b| siblings.iter().position(|&c| c == b)).unwrap_or(siblings.len()),
            };
            siblings.insert(pos, root.id);
        }
        self.nodes.insert(root.id, VNode { kind: root.kind.clone(), parent, children: vec![] });
        for n in &nodes[1..] {
            let Some(p) = n.parent else { continue };
            if self.nodes.contains_key(&n.id) || !self.can_hold(p, &n.kind) {
                continue; // a duplicate id would corrupt the tree
            }
            let Some(pnode) = self.nodes.get_mut(&p) else { continue };
            match n.kind {
                NodeKind::ShadowRoot { .. } => pnode.children.insert(0, n.id),
                _ => pnode.children.push(n.id),
            }
            self.nodes.insert(n.id, VNode { kind: n.kind.clone(), parent: Some(p), children: vec![] });
        }
        Some(root.id)
    }

    /// Remembers that the `<iframe>`/`<frame>` `host` shows `child`'s document (any other element,
    /// or an unknown one, shows nothing).
    fn link_host(&mut self, host: NodeId, child: FrameId) {
        let is_frame = matches!(self.nodes.get(&host), Some(VNode { kind: NodeKind::Element(e), .. })
            if e.ns.is_none() && (e.tag.eq_ignore_ascii_case("iframe") || e.tag.eq_ignore_ascii_case("frame")));
        if is_frame {
            self.hosts.retain(|_, f| *f != child);
            self.hosts.insert(host, child);
            self.new_hosts.push(child);
        }
    }

    /// Whether `parent` can take a child of this kind: a shadow root only under an element that
    /// has none yet.
    fn can_hold(&self, parent: NodeId, kind: &NodeKind) -> bool {
        if !matches!(kind, NodeKind::ShadowRoot { .. }) {
            return true;
        }
        self.nodes.get(&parent).is_some_and(|p| matches!(p.kind, NodeKind::Element(_)) && self.shadow_root_of(p).is_none())
    }

    fn shadow_root_of(&self, host: &VNode) -> Option<NodeId> {
        let first = *host.children.first()?;
        matches!(self.nodes.get(&first)?.kind, NodeKind::ShadowRoot { .. }).then_some(first)
    }

    /// Removes a node and its subtree from the model; returns the removed ids, the node first.
    fn remove_subtree(&mut self, id: NodeId) -> Vec<NodeId> {
        let mut removed = Vec::new();
        if let Some(parent) = self.nodes.get(&id).and_then(|n| n.parent) {
            if let Some(p) = self.nodes.get_mut(&parent) {
                p.children.retain(|&c| c != id);
            }
        }
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if let Some(node) = self.nodes.remove(&n) {
                removed.push(n);
                self.scrolls.remove(&n);
                self.owner_rules.remove(&n);
                self.adopted.remove(&n);
                self.hosts.remove(&n);
                if self.focus == Some(n) {
                    self.focus = None;
                }
                stack.extend(node.children.iter().rev());
            }
        }
        removed
    }

    fn apply_mutation(&mut self, batch: &MutationBatch, ops: &mut Vec<DomOp>) {
        // A `<base>` element coming, going or changing moves the base URL (applied from the next
        // batch on: recorded pages practically never do this).
        let is_base = |n: &SerializedNode| matches!(&n.kind, NodeKind::Element(e) if e.ns.is_none() && e.tag.eq_ignore_ascii_case("base"));
        let mut base_touched = batch.adds.iter().any(|a| a.nodes.iter().any(is_base))
            || batch.attrs.iter().any(|c| matches!(self.nodes.get(&c.id), Some(VNode { kind: NodeKind::Element(e), .. }) if e.tag.eq_ignore_ascii_case("base")));
        for r in &batch.removes {
            if self.nodes.get(&r.id).is_some_and(|n| n.parent == Some(r.parent)) {
                self.owner_rules.remove(&r.parent); // a <style> whose text changes is parsed again
                let subtree = self.remove_subtree(r.id);
                ops.push(DomOp::Remove { id: r.id, subtree });
            }
        }
        let mut late = Vec::new();
        for a in &batch.adds {
            let Some(root) = a.nodes.first() else { continue };
            if !self.nodes.contains_key(&a.parent) {
                continue;
            }
            if self.nodes.contains_key(&root.id) {
                let subtree = self.remove_subtree(root.id);
                ops.push(DomOp::Remove { id: root.id, subtree });
            }
            if matches!(root.kind, NodeKind::ShadowRoot { .. }) {
                // A host has one shadow root; a newer one replaces what the model had.
                if let Some(old) = self.nodes.get(&a.parent).and_then(|host| self.shadow_root_of(host)) {
                    let subtree = self.remove_subtree(old);
                    ops.push(DomOp::Remove { id: old, subtree });
                }
            }
            self.owner_rules.remove(&a.parent);
            let before = a.before.filter(|b| self.nodes.get(b).is_some_and(|n| n.parent == Some(a.parent)));
            if let Some(id) = self.insert_subtree(&a.nodes, Some(a.parent), before) {
                if !self.quiet {
                    self.create_into(id, ops, &mut late);
                    if !matches!(self.nodes[&id].kind, NodeKind::ShadowRoot { .. }) {
                        ops.push(DomOp::Insert { parent: a.parent, id, before });
                    }
                    ops.append(&mut late);
                }
            }
        }
        for c in &batch.attrs {
            let Some(VNode { kind: NodeKind::Element(e), .. }) = self.nodes.get_mut(&c.id) else { continue };
            let tag = e.tag.to_ascii_lowercase();
            match &c.value {
                Some(v) => {
                    match e.attrs.iter_mut().find(|(n, _)| *n == c.name) {
                        Some(slot) => slot.1 = v.clone(),
                        None => e.attrs.push((c.name.clone(), v.clone())),
                    }
                    if self.quiet {
                        continue;
                    }
                    let Some(VNode { kind: NodeKind::Element(e), .. }) = self.nodes.get(&c.id) else { continue };
                    if tag == "link" && self.link_css(e).is_some() {
                        continue; // replayed as a <style>
                    }
                    if let Some(((name, value), recorded)) = replay_attribute(&tag, &c.name, v, &self.base, &self.assets) {
                        ops.push(DomOp::SetAttribute { id: c.id, name, value });
                        match recorded {
                            Some((name, value)) => ops.push(DomOp::SetAttribute { id: c.id, name, value }),
                            None if !self.assets.is_empty() && names_assets(&tag, &c.name) => {
                                ops.push(DomOp::RemoveAttribute { id: c.id, name: format!("{RECORDED_ATTR_PREFIX}{}", c.name.to_ascii_lowercase()) })
                            }
                            None => {}
                        }
                    }
                }
                None => {
                    e.attrs.retain(|(n, _)| *n != c.name);
                    ops.push(DomOp::RemoveAttribute { id: c.id, name: c.name.clone() });
                }
            }
            // Setting a canvas's size clears its bitmap: the picture it had is drawn again.
            if tag == "canvas" && (c.name.eq_ignore_ascii_case("width") || c.name.eq_ignore_ascii_case("height")) && !self.quiet {
                ops.extend(self.frame_op(c.id));
            }
        }
        for t in &batch.texts {
            if let Some(VNode { kind: NodeKind::Text { text } | NodeKind::Comment { text }, parent, .. }) = self.nodes.get_mut(&t.id) {
                text.clone_from(&t.text);
                if let Some(parent) = *parent {
                    self.owner_rules.remove(&parent);
                }
                if !self.quiet {
                    ops.push(DomOp::SetText { id: t.id, text: self.frame_text(t.id, &t.text) });
                }
            }
        }
        base_touched |= self.base_node.is_some_and(|b| !self.nodes.contains_key(&b));
        if base_touched {
            self.update_base();
        }
    }

    /// The document's doctype as markup, `None` for quirks mode.
    fn doctype(&self) -> Option<String> {
        let root = self.nodes.get(&self.document?)?;
        root.children.iter().find_map(|c| match &self.nodes.get(c)?.kind {
            NodeKind::Doctype { name, public_id, system_id } => Some(doctype_markup(name, public_id, system_id)),
            _ => None,
        })
    }

    /// Operations that build the whole current document from nothing.
    pub fn render(&self) -> Vec<DomOp> {
        let mut ops = Vec::new();
        self.render_into(&mut ops);
        ops
    }

    /// [`Self::render`], appending to `ops`.
    pub fn render_into(&self, ops: &mut Vec<DomOp>) {
        let Some(doc) = self.document else { return };
        let Some(root) = self.nodes.get(&doc) else { return };
        let doctype = self.doctype();
        ops.push(DomOp::Viewport { width: self.viewport.0, height: self.viewport.1 });
        ops.push(DomOp::Reset { document: doc, doctype });
        let mut sheets: Vec<_> = self.sheets.iter().collect();
        sheets.sort_by_key(|(id, _)| **id);
        for (&id, rules) in sheets {
            ops.push(DomOp::SheetRules(self.frame_rules(SheetRef::Sheet(id), 0, None, rules)));
        }
        let mut late = Vec::new();
        for &child in &root.children {
            if matches!(self.nodes[&child].kind, NodeKind::Doctype { .. }) {
                continue;
            }
            self.create_into(child, ops, &mut late);
            ops.push(DomOp::Insert { parent: doc, id: child, before: None });
        }
        if let Some(sheets) = self.adopted.get(&doc) {
            ops.push(DomOp::Adopt { id: doc, sheets: sheets.clone() });
        }
        ops.append(&mut late);
        let mut scrolls: Vec<_> = self.scrolls.iter().collect();
        scrolls.sort_by_key(|(id, _)| **id);
        for (&id, &(x, y)) in scrolls {
            ops.push(DomOp::Scroll { id, x, y });
        }
        if self.focus.is_some() {
            ops.push(DomOp::Focus { id: self.focus, visible: self.focus_visible });
        }
        if let Some((x, y)) = self.pointer {
            ops.push(DomOp::Pointer { x, y });
        }
        let range = self.selection.filter(|(a, f)| self.nodes.contains_key(&a.node) && self.nodes.contains_key(&f.node));
        if range.is_some() {
            ops.push(DomOp::Select { range });
        }
    }

    /// Operations that build the detached subtree rooted at `id`: every node is created (with its
    /// sanitised attributes; a shadow root is attached to its host), then children are inserted
    /// in order, then form state is set (a `<select>` needs its options first). What needs the
    /// subtree in the document (CSSOM rules, adopted sheets) goes to `late`, for the caller to
    /// apply once it has inserted the subtree.
    fn create_into(&self, id: NodeId, ops: &mut Vec<DomOp>, late: &mut Vec<DomOp>) {
        let mut order = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let Some(node) = self.nodes.get(&n) else { continue };
            if !self.create_node(n, ops, late) {
                continue;
            }
            stack.extend(node.children.iter().rev());
            order.push(n);
        }
        for &n in &order {
            if n == id || matches!(self.nodes[&n].kind, NodeKind::ShadowRoot { .. }) {
                continue;
            }
            if let Some(parent) = self.nodes[&n].parent {
                ops.push(DomOp::Insert { parent, id: n, before: None });
            }
        }
        for &n in &order {
            if let NodeKind::Element(e) = &self.nodes[&n].kind {
                if let Some(state) = &e.form {
                    ops.push(DomOp::SetForm { id: n, state: state.clone() });
                }
            }
        }
    }

    /// Operations that create node `n` alone, detached (a shadow root: attached to its host):
    /// its sanitised attributes and style text; what needs it in the document goes to `late`.
    /// False for what is never created (the document, a doctype, an unknown node).
    fn create_node(&self, n: NodeId, ops: &mut Vec<DomOp>, late: &mut Vec<DomOp>) -> bool {
        let Some(node) = self.nodes.get(&n) else { return false };
        match &node.kind {
            NodeKind::ShadowRoot { mode } => {
                let Some(host) = node.parent else { return false };
                ops.push(DomOp::AttachShadow { host, id: n, mode: *mode });
                if let Some(sheets) = self.adopted.get(&n) {
                    late.push(DomOp::Adopt { id: n, sheets: sheets.clone() });
                }
            }
            NodeKind::Element(e) => {
                let safe = sanitize_element(&e.tag, &e.attrs, self.link_css(e), &self.base, &self.assets);
                ops.push(DomOp::CreateElement { id: n, tag: safe.tag, ns: e.ns.clone() });
                for (name, value) in safe.attrs {
                    ops.push(DomOp::SetAttribute { id: n, name, value });
                }
                if let Some(css) = safe.css {
                    ops.push(DomOp::SetStyleText { id: n, css });
                }
                if let Some(rules) = self.owner_rules.get(&n) {
                    late.push(DomOp::SheetRules(self.frame_rules(SheetRef::Owner(n), 0, None, rules)));
                }
                late.extend(self.frame_op(n));
                if let Some(state) = self.media.get(&n) {
                    late.push(DomOp::Media { id: n, state: *state });
                }
            }
            NodeKind::Text { text } => ops.push(DomOp::CreateText { id: n, text: self.frame_text(n, text) }),
            NodeKind::Comment { text } => ops.push(DomOp::CreateComment { id: n, text: text.clone() }),
            NodeKind::Document | NodeKind::Doctype { .. } => return false,
        }
        true
    }

    /// A normalised, comparable text form of the model (used by tests and diagnostics).
    pub fn outline(&self) -> String {
        let mut out = String::new();
        let Some(doc) = self.document else { return out };
        let mut stack = vec![(doc, 0usize)];
        while let Some((id, depth)) = stack.pop() {
            let node = &self.nodes[&id];
            let line = match &node.kind {
                NodeKind::Document => "#document".to_string(),
                NodeKind::Doctype { name, .. } => format!("<!DOCTYPE {name}>"),
                NodeKind::Element(e) => {
                    let attrs: Vec<String> = e.attrs.iter().map(|(n, v)| format!(" {n}={v:?}")).collect();
                    let form = e.form.as_ref().map(|f| format!(" [{f:?}]")).unwrap_or_default();
                    format!("<{}{}>{}", e.tag, attrs.concat(), form)
                }
                NodeKind::Text { text } => format!("{text:?}"),
                NodeKind::Comment { text } => format!("<!--{text}-->"),
                NodeKind::ShadowRoot { mode } => format!("#shadow-root ({mode:?})"),
            };
            out.push_str(&"  ".repeat(depth));
            out.push_str(&line);
            out.push('\n');
            for &c in node.children.iter().rev() {
                stack.push((c, depth + 1));
            }
        }
        out
    }
}

/// Replaces rules `start..start + deleted` (clamped to the list) by the change's rules.
fn splice_rules(rules: &mut Vec<String>, change: &SheetRules) {
    let start = (change.start as usize).min(rules.len());
    let end = change.deleted.map_or(rules.len(), |d| start.saturating_add(d as usize).min(rules.len()));
    rules.splice(start..end, change.rules.iter().cloned());
}

/// The doctype as markup for `document.write`. The name is kept only if it is a plain word and
/// the ids only if they cannot close the quotes or the tag, so a recorded or imported doctype
/// can never inject markup into the replay frame.
fn doctype_markup(name: &str, public_id: &str, system_id: &str) -> String {
    let name = if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') { name } else { "html" };
    let safe = |id: &str| !id.contains(['"', '<', '>', '\'']);
    let (public_id, system_id) = (if safe(public_id) { public_id } else { "" }, if safe(system_id) { system_id } else { "" });
    match (public_id.is_empty(), system_id.is_empty()) {
        (true, true) => format!("<!DOCTYPE {name}>"),
        (false, true) => format!("<!DOCTYPE {name} PUBLIC \"{public_id}\">"),
        (true, false) => format!("<!DOCTYPE {name} SYSTEM \"{system_id}\">"),
        (false, false) => format!("<!DOCTYPE {name} PUBLIC \"{public_id}\" \"{system_id}\">"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{Addition, ElementNode, TextChange};

    fn el(id: NodeId, parent: Option<NodeId>, tag: &str) -> SerializedNode {
        SerializedNode { id, parent, kind: NodeKind::Element(ElementNode { tag: tag.into(), ns: None, attrs: vec![], form: None, css: None }) }
    }
    fn text(id: NodeId, parent: NodeId, t: &str) -> SerializedNode {
        SerializedNode { id, parent: Some(parent), kind: NodeKind::Text { text: t.into() } }
    }
    fn root(id: NodeId, host: NodeId) -> SerializedNode {
        SerializedNode { id, parent: Some(host), kind: NodeKind::ShadowRoot { mode: ShadowMode::Open } }
    }
    fn event(data: EventData) -> Event {
        Event { t: 0.0, page: 0, frame: 0, data }
    }
    fn snapshot(nodes: Vec<SerializedNode>) -> Event {
        event(EventData::Snapshot(Snapshot { url: String::new(), title: String::new(), width: 1, height: 1, nodes, scrolls: vec![], focus: None }))
    }
    fn mutation(batch: MutationBatch) -> Event {
        event(EventData::Mutation(batch))
    }
    fn rules(sheet: SheetRef, start: u32, deleted: Option<u32>, rules: &[&str]) -> SheetRules {
        SheetRules { sheet, start, deleted, rules: rules.iter().map(|r| r.to_string()).collect() }
    }
    fn position(ops: &[DomOp], f: impl Fn(&DomOp) -> bool) -> usize {
        ops.iter().position(f).unwrap_or_else(|| panic!("no such op in {ops:#?}"))
    }

    /// document 1 > html 2 > body 3 > x-card 4 (shadow root 5 > slot 6; light text 7).
    fn page_with_a_shadow_host() -> Vec<SerializedNode> {
        vec![
            SerializedNode { id: 1, parent: None, kind: NodeKind::Document },
            el(2, Some(1), "html"),
            el(3, Some(2), "body"),
            el(4, Some(3), "x-card"),
            root(5, 4),
            el(6, Some(5), "slot"),
            text(7, 4, "light"),
        ]
    }

    #[test]
    fn shadow_roots_are_attached_before_their_content_and_never_inserted() {
        let mut vdom = VirtualDom::default();
        let ops = vdom.apply(&snapshot(page_with_a_shadow_host()));
        let attach = position(&ops, |o| matches!(o, DomOp::AttachShadow { host: 4, id: 5, mode: ShadowMode::Open }));
        assert!(attach > position(&ops, |o| matches!(o, DomOp::CreateElement { id: 4, .. })));
        assert!(attach < position(&ops, |o| matches!(o, DomOp::Insert { parent: 5, id: 6, .. })));
        assert!(!ops.iter().any(|o| matches!(o, DomOp::Insert { id: 5, .. })), "a shadow root is attached, not inserted");
        assert!(ops.iter().any(|o| matches!(o, DomOp::Insert { parent: 4, id: 7, .. })));
        assert_eq!(vdom.outline(), "#document\n  <html>\n    <body>\n      <x-card>\n        #shadow-root (Open)\n          <slot>\n        \"light\"\n");
    }

    #[test]
    fn a_late_shadow_root_goes_first_under_its_host_and_replaces_an_older_one() {
        let mut nodes = page_with_a_shadow_host();
        nodes.truncate(4);
        nodes.push(text(7, 4, "light"));
        let mut vdom = VirtualDom::default();
        vdom.apply(&snapshot(nodes));
        let add = |nodes| mutation(MutationBatch { adds: vec![Addition { parent: 4, before: None, nodes }], ..Default::default() });
        let ops = vdom.apply(&add(vec![root(5, 4), text(8, 5, "inside")]));
        assert_eq!(
            ops,
            vec![
                DomOp::AttachShadow { host: 4, id: 5, mode: ShadowMode::Open },
                DomOp::CreateText { id: 8, text: "inside".into() },
                DomOp::Insert { parent: 5, id: 8, before: None },
            ]
        );
        assert!(vdom.outline().contains("<x-card>\n        #shadow-root (Open)\n          \"inside\"\n        \"light\""), "{}", vdom.outline());
        let ops = vdom.apply(&add(vec![root(9, 4)]));
        assert_eq!(ops[0], DomOp::Remove { id: 5, subtree: vec![5, 8] });
        assert_eq!(vdom.outline().matches("#shadow-root").count(), 1);
    }

    #[test]
    fn malformed_shadow_roots_are_skipped() {
        let mut vdom = VirtualDom::default();
        // Under a text node, and a second root for one host in the same list.
        vdom.apply(&snapshot(vec![SerializedNode { id: 1, parent: None, kind: NodeKind::Document }, el(2, Some(1), "html"), text(3, 2, "t"), root(4, 3), root(5, 2), root(6, 2)]));
        assert_eq!(vdom.outline(), "#document\n  <html>\n    #shadow-root (Open)\n    \"t\"\n");
    }

    #[test]
    fn cssom_rules_of_a_style_are_applied_after_insertion_and_dropped_when_its_text_changes() {
        let mut nodes = page_with_a_shadow_host();
        nodes.push(el(8, Some(5), "style"));
        nodes.push(text(9, 8, "/* empty */"));
        let mut vdom = VirtualDom::default();
        vdom.apply(&snapshot(nodes));
        let full = rules(SheetRef::Owner(8), 0, None, &[".a{color:red}", ".b{color:blue}"]);
        assert_eq!(vdom.apply(&event(EventData::SheetRules(full.clone()))), vec![DomOp::SheetRules(full.clone())]);
        // A later change carries only what changed.
        let insert = rules(SheetRef::Owner(8), 1, Some(0), &[".c{}"]);
        vdom.apply(&event(EventData::SheetRules(insert)));
        let ops = vdom.render();
        let expected = DomOp::SheetRules(rules(SheetRef::Owner(8), 0, None, &[".a{color:red}", ".c{}", ".b{color:blue}"]));
        let applied = position(&ops, |o| *o == expected);
        assert!(applied > position(&ops, |o| matches!(o, DomOp::Insert { parent: 1, .. })), "once the style is in the document");
        // New text: the page parses the sheet again, and so does the replay.
        vdom.apply(&mutation(MutationBatch { texts: vec![TextChange { id: 9, text: ".d{}".into() }], ..Default::default() }));
        assert!(!vdom.render().iter().any(|o| matches!(o, DomOp::SheetRules(_))));
        // A partial change to rules the model does not have is ignored; so is an unknown owner.
        assert!(vdom.apply(&event(EventData::SheetRules(rules(SheetRef::Owner(8), 0, Some(1), &["x{}"])))).is_empty());
        assert!(vdom.apply(&event(EventData::SheetRules(rules(SheetRef::Owner(99), 0, None, &["x{}"])))).is_empty());
    }

    #[test]
    fn adopted_sheets_are_rendered_for_documents_and_shadow_roots() {
        let mut vdom = VirtualDom::default();
        vdom.apply(&snapshot(page_with_a_shadow_host()));
        for e in [
            EventData::SheetRules(rules(SheetRef::Sheet(1), 0, None, &[":host{display:block}"])),
            EventData::SheetRules(rules(SheetRef::Sheet(2), 0, None, &["p{}"])),
            EventData::Adopted { target: 5, sheets: vec![1, 2] },
            EventData::Adopted { target: 1, sheets: vec![2] },
        ] {
            assert_eq!(vdom.apply(&event(e)).len(), 1);
        }
        assert!(vdom.apply(&event(EventData::Adopted { target: 6, sheets: vec![1] })).is_empty(), "a slot adopts nothing");
        let ops = vdom.render();
        let sheet = position(&ops, |o| matches!(o, DomOp::SheetRules(SheetRules { sheet: SheetRef::Sheet(2), .. })));
        assert!(sheet > position(&ops, |o| matches!(o, DomOp::Reset { .. })));
        let adopt_root = position(&ops, |o| *o == DomOp::Adopt { id: 5, sheets: vec![1, 2] });
        let adopt_doc = position(&ops, |o| *o == DomOp::Adopt { id: 1, sheets: vec![2] });
        let inserted = position(&ops, |o| matches!(o, DomOp::Insert { parent: 1, .. }));
        assert!(sheet < inserted && inserted < adopt_root && inserted < adopt_doc);
        // Removing the host forgets what its root adopted.
        vdom.apply(&mutation(MutationBatch { removes: vec![crate::core::event::Removal { parent: 3, id: 4 }], ..Default::default() }));
        assert!(!vdom.render().iter().any(|o| matches!(o, DomOp::Adopt { id: 5, .. })));
    }

    #[test]
    fn cssom_rules_are_rewritten_for_the_frame_like_style_text() {
        let link = SerializedNode {
            id: 4,
            parent: Some(2),
            kind: NodeKind::Element(ElementNode {
                tag: "link".into(),
                ns: None,
                attrs: vec![("rel".into(), "stylesheet".into()), ("href".into(), "css/site.css".into())],
                form: None,
                css: Some("p{}".into()),
            }),
        };
        let nodes = vec![SerializedNode { id: 1, parent: None, kind: NodeKind::Document }, el(2, Some(1), "html"), el(3, Some(2), "style"), link];
        let mut vdom = VirtualDom::default();
        let Event { data: EventData::Snapshot(mut snap), .. } = snapshot(nodes) else { unreachable!() };
        snap.url = "http://site.test/app/index.html".into();
        vdom.apply(&event(EventData::Snapshot(snap)));
        let rule = "a:hover{background:url(img/x.png)}";
        for (sheet, expected) in [
            (SheetRef::Owner(3), "a[data-tabreel-hover]{background:url(\"http://site.test/app/img/x.png\")}"),
            (SheetRef::Owner(4), "a[data-tabreel-hover]{background:url(\"http://site.test/app/css/img/x.png\")}"),
            (SheetRef::Sheet(1), "a[data-tabreel-hover]{background:url(\"http://site.test/app/img/x.png\")}"),
        ] {
            let ops = vdom.apply(&event(EventData::SheetRules(rules(sheet, 0, None, &[rule]))));
            assert_eq!(ops, vec![DomOp::SheetRules(rules(sheet, 0, None, &[expected]))], "{sheet:?}");
        }
        // Seeking updates the model only: no operations are built.
        vdom.update(&event(EventData::SheetRules(rules(SheetRef::Owner(3), 1, Some(0), &["b{}"]))));
        vdom.update(&event(EventData::Adopted { target: 1, sheets: vec![1] }));
        let ops = vdom.render();
        assert!(ops.contains(&DomOp::SheetRules(rules(SheetRef::Owner(3), 0, None, &["a[data-tabreel-hover]{background:url(\"http://site.test/app/img/x.png\")}", "b{}"]))));
        assert!(ops.contains(&DomOp::Adopt { id: 1, sheets: vec![1] }));
    }

    #[test]
    fn rule_splices_are_clamped() {
        let mut list = vec!["a".to_string(), "b".to_string()];
        splice_rules(&mut list, &rules(SheetRef::Sheet(1), 9, Some(u32::MAX), &["z"]));
        assert_eq!(list, ["a", "b", "z"]);
        splice_rules(&mut list, &rules(SheetRef::Sheet(1), 1, Some(u32::MAX), &[]));
        assert_eq!(list, ["a"]);
    }

    #[test]
    fn doctypes_cannot_inject_markup() {
        assert_eq!(doctype_markup("html", "", ""), "<!DOCTYPE html>");
        assert_eq!(
            doctype_markup("html", "-//W3C//DTD XHTML 1.0 Strict//EN", "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"),
            "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">"
        );
        assert_eq!(doctype_markup("html", "x\"><script>alert(1)</script>", ""), "<!DOCTYPE html>");
        assert_eq!(doctype_markup("html><img src=x onerror=alert(1)", "", "a'b"), "<!DOCTYPE html>");
    }
}
