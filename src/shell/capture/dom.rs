//! The recorder's view of the live page: node ids, serialisation, and the [`DomTree`] and
//! [`WalkTree`] the core's coalescer and sliced snapshot read.
//!
//! Ids live on the nodes' wrappers in the content script's isolated world, under a symbol of this
//! recorder's own ([`NodeIds`]): the page has its own wrappers and cannot see or change them, and
//! they go with their node when it is collected. Serialisation walks
//! iteratively (no recursion, whatever the depth) and applies the masking policy to every form
//! value and attribute before anything leaves the page.
//!
//! Shadow roots are serialised as the first child of their host: open ones through
//! `element.shadowRoot`, closed ones of custom elements through the extension API
//! `chrome.dom.openOrClosedShadowRoot`. Each recorded shadow root is observed by the recorder's
//! MutationObserver as soon as it is serialised (a document observer does not see inside shadow
//! trees), and is handed to the recorder ([`PageDom::take_recorded`]) with every `<style>` and
//! `<link>` serialised, for their CSSOM (`capture::sheets`). Custom elements that are not defined
//! yet are remembered: their shadow root usually comes when their definition loads.

use crate::core::ids::{IdMap, IdSet};

use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, MutationObserver, MutationObserverInit, MutationRecord, Node};

use crate::core::attr_ns::conventional_prefix;
use crate::core::coalesce::{AttributeRead, DomTree};
use crate::core::event::{ElementNode, FormState, MutationBatch, NodeId, NodeKind, ScrollPosition, SerializedNode, ShadowMode};
use crate::core::mask::{can_change_sensitivity, FieldFacts};
use crate::core::walk::WalkTree;

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

#[wasm_bindgen]
extern "C" {
    /// A node's wrapper in this (isolated) world, read and written under a key.
    #[wasm_bindgen(extends = js_sys::Object)]
    type Keyed;
    #[wasm_bindgen(method, structural, indexing_getter)]
    fn get(this: &Keyed, key: &JsValue) -> Option<f64>;
    #[wasm_bindgen(method, structural, indexing_setter)]
    fn set(this: &Keyed, key: &JsValue, value: f64);
    #[wasm_bindgen(method, structural, indexing_setter)]
    fn clear(this: &Keyed, key: &JsValue, value: &JsValue);

    /// An element whose attributes are read by names that are already JS strings.
    #[wasm_bindgen(extends = Element)]
    type NamedAttributes;
    /// `element.getAttribute(name)` with the name as the JS string `getAttributeNames` gave:
    /// web-sys's takes a `&str`, which would be decoded back into a JS string for every
    /// attribute of every element serialised.
    #[wasm_bindgen(method, structural, js_name = getAttribute)]
    fn get_attribute_named(this: &NamedAttributes, name: &JsValue) -> Option<String>;
    /// A `MutationRecord`, for what web-sys's binding does not give.
    #[wasm_bindgen(extends = js_sys::Object)]
    type Record;
    /// `record.attributeName` as the JS string the browser made (web-sys's returns it in Rust).
    #[wasm_bindgen(method, getter, js_name = attributeName)]
    fn attribute_name_js(this: &Record) -> JsValue;
    /// `element.matches(selectors)` with selectors made a JS string once: web-sys's takes a
    /// `&str`, which would be made into a JS string again at every call.
    #[wasm_bindgen(method, structural, catch, js_name = matches)]
    fn matches_named(this: &NamedAttributes, selectors: &JsValue) -> Result<bool, JsValue>;
}

#[wasm_bindgen(inline_js = "export function connected_in(node, doc) { return node.isConnected && node.ownerDocument === doc; }")]
extern "C" {
    /// Whether `node` is in `doc` (shadow trees included): one call where `isConnected`,
    /// `ownerDocument` and a comparison were three, for every node a batch touches.
    fn connected_in(node: &Node, doc: &Document) -> bool;
}

/// Whether `el` matches `selectors` (a JS string kept by the caller); false for invalid ones.
pub fn matches_selectors(el: &Element, selectors: &JsValue) -> bool {
    el.unchecked_ref::<NamedAttributes>().matches_named(selectors).unwrap_or(false)
}

/// The media elements the recorder follows (their state) and samples (canvas and video pictures).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MediaKind {
    /// `<canvas>`: pictures only.
    Canvas,
    /// `<video>`: pictures and media state.
    Video,
    /// `<audio>`: media state only.
    Audio,
}

impl MediaKind {
    /// The kind of an HTML element by its local name, if it is one.
    fn of(local: &str) -> Option<MediaKind> {
        match local {
            "canvas" => Some(MediaKind::Canvas),
            "video" => Some(MediaKind::Video),
            "audio" => Some(MediaKind::Audio),
            _ => None,
        }
    }
}

/// Node ids, kept as a property of each node's wrapper under a symbol made for this recorder (so
/// a later recorder of the same document, after a back/forward-cache restore, starts afresh).
///
/// Not a `WeakMap`: measured on bigdom-200000 (340,000 nodes), a `WeakMap` keyed by every node's
/// wrapper made the page's scavenges cost 140 ms in all (max 17 ms) against 53 ms (max 8 ms) with
/// the property, and growing its table took up to 30 ms of CPU in one `set`. The page's own
/// wrappers of the same nodes are other objects: it cannot see these.
struct NodeIds {
    key: JsValue,
}

impl NodeIds {
    fn new() -> NodeIds {
        NodeIds { key: JsValue::symbol(Some("tabreel node id")) }
    }

    fn get(&self, node: &Node) -> Option<NodeId> {
        node.unchecked_ref::<Keyed>().get(&self.key).map(|id| id as NodeId)
    }

    fn set(&self, node: &Node, id: NodeId) {
        node.unchecked_ref::<Keyed>().set(&self.key, id as f64);
    }

    fn forget(&self, node: &Node) {
        node.unchecked_ref::<Keyed>().clear(&self.key, &JsValue::UNDEFINED);
    }
}

/// Which elements' scroll offsets serialising reads. Each read is a layout check: on a
/// 50,000-element page reading every element's offsets was a quarter of the snapshot's time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ScrollReads {
    /// None: the nodes serialised are new (insertions), not scrolled yet.
    Off,
    /// Every element that can scroll: the document was there before anything listened to it.
    All,
    /// Only elements that a scroll event reached before they were recorded
    /// ([`PageDom::note_scrolled`]), and elements in shadow trees: something has listened to the
    /// document's scroll events since it started, and none reached an element (a scroll event
    /// does not leave its shadow tree, so those are read).
    Scrolled,
}

/// Nodes serialised since the recorder last asked, that it must do more with.
#[derive(Default)]
pub struct Recorded {
    /// The document and shadow roots: their adopted stylesheets, and listeners on shadow roots.
    pub roots: Vec<(NodeId, Node)>,
    /// `<style>` and `<link>` elements: their sheets may change through the CSSOM.
    pub sheet_owners: Vec<(NodeId, Element)>,
    /// `<canvas>`, `<video>` and `<audio>` elements: pictures to sample and media states to
    /// record. Found as they are serialised, so the page is never searched for them (a search of
    /// a large document on a timer cost it more than recording did).
    pub media: Vec<(NodeId, Element, MediaKind)>,
}

/// Node ids and the set of fields that were ever sensitive, for one recorded page.
pub struct PageDom {
    document: Document,
    ids: NodeIds,
    next_id: NodeId,
    sensitive: js_sys::WeakSet,
    /// Which elements' scroll offsets serialising reads (see [`ScrollReads`]).
    scroll_reads: ScrollReads,
    /// Scroll positions found since the recorder last took them.
    scrolls: Vec<ScrollPosition>,
    /// Elements a scroll event reached before they were recorded ([`ScrollReads::Scrolled`]).
    scrolled: js_sys::WeakSet,
    /// Whether `scrolled` may hold anything (asking it costs a call per element).
    any_scrolled: bool,
    /// The attribute names of the records being coalesced, each with the JS string its record
    /// gave: `getAttribute` with that string, rather than one made again from Rust's, spares a
    /// UTF-8 decode and the browser a look-up of the name, for every attribute change.
    attribute_names: IdMap<String, JsValue>,
    /// Shadow roots and the nodes inside them, while [`ScrollReads::Scrolled`] is on: scroll
    /// events do not leave a shadow tree, so no listener the document had saw theirs.
    in_shadow: IdSet<NodeId>,
    /// Recorded HTML `<script>`s, whose text is never recorded. Known by id, so a text node
    /// serialised under a recorded parent is checked without asking the page; a script leaves it
    /// when a batch removes it and does not put it back (one inside a removed subtree stays).
    scripts: IdSet<NodeId>,
    /// Recorded `<textarea>`s that were ever sensitive, whose text is never recorded either; they
    /// never leave it (few pages have any).
    sensitive_text: std::cell::RefCell<IdSet<NodeId>>,
    /// The last recorded state of every form control, to record only changes.
    last_form: IdMap<NodeId, FormState>,
    /// The recorder's observer, told to observe every shadow root as it is serialised.
    observer: Option<(MutationObserver, MutationObserverInit)>,
    /// `chrome.dom` and its `openOrClosedShadowRoot`, when this world has them.
    open_or_closed: Option<(JsValue, js_sys::Function)>,
    /// The shadow root found when the element last serialised was read, for [`WalkTree::children`].
    last_shadow: std::cell::RefCell<Option<(Node, Node)>>,
    recorded: Recorded,
    /// Custom elements recorded before their definition ran (`:not(:defined)`).
    undefined: Vec<Element>,
    /// Where the next look at `undefined` starts (it looks at [`UNDEFINED_BUDGET`] at a time).
    undefined_cursor: usize,
    /// `<iframe>`/`<frame>` elements serialised (the recorder names the one that shows a frame).
    frame_elements: Vec<Element>,
}

/// Deepest shadow trees [`PageDom::focused_within`] descends into (a bound against hostile
/// nesting).
const MAX_FOCUS_DEPTH: usize = 64;

/// How many waiting custom elements one look checks, in turns: a page full of custom tags that
/// are never defined pays a bounded price per batch.
const UNDEFINED_BUDGET: usize = 512;

impl PageDom {
    /// Ids for `document`, starting at 1.
    pub fn new(document: Document) -> PageDom {
        PageDom {
            document,
            ids: NodeIds::new(),
            next_id: 1,
            sensitive: js_sys::WeakSet::new(),
            scripts: Default::default(),
            sensitive_text: Default::default(),
            scroll_reads: ScrollReads::Off,
            scrolls: Vec::new(),
            scrolled: js_sys::WeakSet::new(),
            any_scrolled: false,
            in_shadow: Default::default(),
            attribute_names: Default::default(),
            last_form: IdMap::default(),
            observer: None,
            open_or_closed: open_or_closed_shadow_root(),
            last_shadow: Default::default(),
            recorded: Recorded::default(),
            undefined: Vec::new(),
            undefined_cursor: 0,
            frame_elements: Vec::new(),
        }
    }

    /// The recorded frame element whose browsing context is `window` (a `WindowProxy`, of any
    /// origin), with its id; forgets frame elements that left the document.
    pub fn frame_element_of(&mut self, window: &JsValue) -> Option<NodeId> {
        self.frame_elements.retain(|el| el.is_connected());
        let el = self.frame_elements.iter().find(|el| js_sys::Reflect::get(el, &"contentWindow".into()).is_ok_and(|w| &w == window))?;
        self.ids.get(el.as_ref())
    }

    /// Observe every shadow root serialised from now on with `observer` (the document's own).
    pub fn observe_shadow_roots_with(&mut self, observer: MutationObserver, init: MutationObserverInit) {
        self.observer = Some((observer, init));
    }

    /// The roots and stylesheet owners serialised since the last call.
    pub fn take_recorded(&mut self) -> Recorded {
        std::mem::take(&mut self.recorded)
    }

    /// Recorded custom elements whose definition has run since they were recorded (dropping
    /// those no longer in the document): their shadow roots may be new. Looks at up to
    /// [`UNDEFINED_BUDGET`] of them, taking turns.
    pub fn newly_defined(&mut self) -> Vec<Node> {
        let mut defined = Vec::new();
        let len = self.undefined.len();
        if len == 0 {
            return defined;
        }
        let start = if len <= UNDEFINED_BUDGET { 0 } else { self.undefined_cursor % len };
        let end = (start + UNDEFINED_BUDGET).min(len);
        let mut kept = 0;
        let mut i = start;
        while i < end {
            let el = &self.undefined[i];
            let settled = !el.is_connected() || el.matches(":defined").unwrap_or(true);
            if settled {
                if el.is_connected() {
                    defined.push(el.clone().into());
                }
            } else {
                self.undefined.swap(start + kept, i);
                kept += 1;
            }
            i += 1;
        }
        self.undefined.drain(start + kept..end);
        self.undefined_cursor = start + kept;
        defined
    }

    /// The shadow root of an element with local name `tag`, open or (for custom elements, through
    /// the extension API) closed. Only custom elements and the few elements the DOM lets host a
    /// shadow root are asked.
    fn shadow_root_of(&self, el: &Element, tag: &str) -> Option<Node> {
        let custom = tag.contains('-');
        if !custom && !can_host_shadow(tag) {
            return None;
        }
        if let Some(root) = el.shadow_root() {
            return Some(root.into());
        }
        let (dom, f) = self.open_or_closed.as_ref().filter(|_| custom)?;
        let root = f.call1(dom, el).ok()?;
        (!root.is_null() && !root.is_undefined()).then(|| root.unchecked_into())
    }

    /// The element that has focus, given `el`, the focused element as seen from its tree (the
    /// document's `activeElement`, or a focus event's target, which are the shadow host when
    /// focus is inside its shadow tree): descends through the shadow roots (open, and closed ones
    /// of custom elements) to the element inside them that has focus.
    pub fn focused_within(&self, mut el: Element) -> Element {
        for _ in 0..MAX_FOCUS_DEPTH {
            let Some(root) = self.shadow_root_of(&el, &el.local_name()) else { break };
            let inner = js_sys::Reflect::get(&root, &"activeElement".into()).ok().filter(|e| e.is_object());
            match inner.map(JsCast::unchecked_into::<Element>) {
                Some(inner) if inner != el => el = inner,
                _ => break,
            }
        }
        el
    }

    /// The recorded document.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// Which elements' scroll positions are read as they are serialised from now on (a snapshot
    /// reads them; later insertions are new elements, not scrolled yet).
    pub fn collect_scrolls(&mut self, reads: ScrollReads) {
        self.scroll_reads = reads;
        if reads != ScrollReads::Scrolled {
            self.in_shadow = Default::default();
        }
    }

    /// The scroll positions collected since the last call.
    pub fn take_scrolls(&mut self) -> Vec<ScrollPosition> {
        std::mem::take(&mut self.scrolls)
    }

    /// The qualified name (`xlink:href`, as `getAttribute` expects it) of the attribute an
    /// `attributes` record is about; `None` for other records. Kept with its JS string until
    /// [`Self::after_batch`].
    pub fn attribute_name(&mut self, record: &MutationRecord, target: &Node) -> Option<String> {
        let js = record.unchecked_ref::<Record>().attribute_name_js();
        let local = js.as_string()?;
        let (name, js) = match record.attribute_namespace() {
            Some(ns) => {
                let el: &Element = target.unchecked_ref(); // only elements have attributes
                // Gone (removed): its prefix is the conventional one of its namespace, as the
                // replay holds it (`xlink:href`), or none.
                let qualified = match el.get_attribute_node_ns(Some(&ns), &local) {
                    Some(attr) => attr.name(),
                    None => match conventional_prefix(&ns) {
                        Some(prefix) => format!("{prefix}:{local}"),
                        None => local,
                    },
                };
                let js = JsValue::from_str(&qualified);
                (qualified, js)
            }
            None => (local, js),
        };
        self.attribute_names.entry(name.clone()).or_insert(js);
        Some(name)
    }

    /// After a batch: drops the names kept by [`Self::attribute_name`], and the scripts it
    /// removed.
    pub fn after_batch(&mut self, batch: &MutationBatch) {
        self.attribute_names.clear();
        let scripts = &mut self.scripts;
        if !batch.removes.is_empty() && !scripts.is_empty() {
            let put_back: IdSet<NodeId> = batch.adds.iter().flat_map(|a| a.nodes.iter().map(|n| n.id)).collect();
            for removal in &batch.removes {
                if !put_back.contains(&removal.id) {
                    scripts.remove(&removal.id);
                }
            }
        }
    }

    /// A scroll event reached `node`, which is not recorded yet: its position is read when it is.
    pub fn note_scrolled(&mut self, node: &Node) {
        self.scrolled.add(node);
        self.any_scrolled = true;
    }

    /// Whether the element `el` (of local name `tag`, with `id`, under `parent`) is one whose
    /// scroll position is read now.
    fn reads_scroll(&mut self, el: &Element, tag: &str, parent: Option<NodeId>, id: NodeId) -> bool {
        match self.scroll_reads {
            ScrollReads::Off => false,
            ScrollReads::All => can_scroll(tag),
            ScrollReads::Scrolled => {
                let in_shadow = parent.is_some_and(|p| self.in_shadow.contains(&p));
                if in_shadow {
                    self.in_shadow.insert(id);
                }
                can_scroll(tag) && (in_shadow || (self.any_scrolled && self.scrolled.has(el.as_ref())))
            }
        }
    }

    /// The facts the masking policy needs about an element.
    fn field_facts<'a>(&self, el: &Element, tag: &'a str, input_type: &'a Option<String>, autocomplete: &'a Option<String>) -> FieldFacts<'a> {
        FieldFacts {
            tag,
            input_type: input_type.as_deref(),
            autocomplete: autocomplete.as_deref(),
            was_sensitive: self.sensitive.has(el.as_ref()),
        }
    }

    /// Whether `el` is a sensitive field now (remembering it if so).
    fn is_sensitive(&self, el: &Element) -> bool {
        self.is_sensitive_tag(el, &el.local_name())
    }

    /// [`Self::is_sensitive`] for an element whose local name the caller has already read.
    fn is_sensitive_tag(&self, el: &Element, tag: &str) -> bool {
        if tag != "input" && tag != "textarea" {
            return false;
        }
        let (t, a) = (el.get_attribute("type"), el.get_attribute("autocomplete"));
        let sensitive = self.field_facts(el, tag, &t, &a).is_sensitive();
        if sensitive {
            self.sensitive.add(el.as_ref());
            if let (true, Some(id)) = (tag == "textarea", self.ids.get(el.as_ref())) {
                self.sensitive_text.borrow_mut().insert(id);
            }
        }
        sensitive
    }

    /// The state to record for a form control, masked by policy; `None` for other elements.
    /// Checks tag names rather than `instanceof`, so it works for nodes of any realm (frames).
    pub fn form_state(&self, el: &Element) -> Option<FormState> {
        self.form_state_tag(el, &el.local_name())
    }

    /// [`Self::form_state`] for an element whose local name the caller has already read.
    fn form_state_tag(&self, el: &Element, tag: &str) -> Option<FormState> {
        if !matches!(tag, "input" | "textarea" | "select") {
            return None;
        }
        let masked_or = |value: String| {
            if self.is_sensitive_tag(el, tag) { FormState::Masked { filled: !value.is_empty() } } else { FormState::Value { value } }
        };
        match tag {
            "input" if el.namespace_uri().as_deref() == Some(HTML_NS) => {
                let input: &web_sys::HtmlInputElement = el.unchecked_ref();
                let t = input.type_().to_ascii_lowercase();
                match t.as_str() {
                    "checkbox" | "radio" => Some(FormState::Checked { checked: input.checked() }),
                    "file" | "submit" | "button" | "reset" | "image" => None,
                    _ => Some(masked_or(input.value())),
                }
            }
            "textarea" if el.namespace_uri().as_deref() == Some(HTML_NS) => {
                Some(masked_or(el.unchecked_ref::<web_sys::HtmlTextAreaElement>().value()))
            }
            "select" if el.namespace_uri().as_deref() == Some(HTML_NS) => {
                Some(FormState::Value { value: el.unchecked_ref::<web_sys::HtmlSelectElement>().value() })
            }
            _ => None,
        }
    }

    /// The control's state if it changed since it was last recorded (recording it as seen).
    pub fn form_change(&mut self, el: &Element) -> Option<(NodeId, FormState)> {
        let id = self.id(el.as_ref())?;
        let state = self.form_state(el)?;
        if self.last_form.get(&id) == Some(&state) {
            return None;
        }
        self.last_form.insert(id, state.clone());
        Some((id, state))
    }

    /// Whether a text field or checkbox shows what its attributes say (its value was never set
    /// directly). Such a field keeps following its attributes in the page, so the replay must not
    /// set its value, which would stop it from following them there.
    fn follows_attributes(el: &Element, tag: &str) -> bool {
        match tag {
            "input" => {
                let input: &web_sys::HtmlInputElement = el.unchecked_ref();
                match input.type_().to_ascii_lowercase().as_str() {
                    "checkbox" | "radio" => input.checked() == input.default_checked(),
                    _ => input.value() == input.default_value(),
                }
            }
            "textarea" => {
                let area: &web_sys::HtmlTextAreaElement = el.unchecked_ref();
                area.default_value().is_ok_and(|d| d == area.value())
            }
            _ => false,
        }
    }

    /// Whether the data of a text node under `parent` (asked of the page when not given) must not
    /// be recorded: script source, and the text of a sensitive `<textarea>` (its default value,
    /// which frameworks keep equal to what was typed).
    fn withholds_text(&self, node: &Node, parent: Option<NodeId>) -> bool {
        // The set is filled when the parent is serialised or checked, which is always before its
        // text is read (parents come first).
        let parent = parent.or_else(|| node.parent_node().and_then(|p| self.ids.get(&p)));
        parent.is_some_and(|p| self.scripts.contains(&p) || self.sensitive_text.borrow().contains(&p))
    }

    fn serialize_element(&mut self, el: &Element, id: NodeId, parent: Option<NodeId>) -> ElementNode {
        let local = el.local_name();
        // `instanceof` answers for this document's HTML elements without bringing their
        // namespace's 28 characters into Rust; an element of another realm (adopted from a
        // frame) or namespace is asked.
        let ns = if el.is_instance_of::<web_sys::HtmlElement>() { None } else { el.namespace_uri().filter(|ns| ns != HTML_NS) };
        let html = ns.is_none();
        let tag = if html { local.clone() } else { el.tag_name() };
        let sensitive = self.is_sensitive_tag(el, &local);
        if self.reads_scroll(el, &local, parent, id) {
            let (x, y) = (el.scroll_left() as f64, el.scroll_top() as f64);
            if x != 0.0 || y != 0.0 {
                self.scrolls.push(ScrollPosition { target: id, x, y });
            }
        }
        if html && local == "script" {
            self.scripts.insert(id);
        }
        // Names then values: reading `attributes[i]` makes the browser create an Attr node per
        // attribute, which showed as the costliest call of a snapshot in profiles. (All of an
        // element's attributes as one JSON string from a JS helper was 9 % slower on
        // bigdom-50000: the browser's JSON and serde's cost more than the calls they save.)
        let names = el.get_attribute_names();
        let mut attrs = Vec::with_capacity(names.length() as usize);
        for js_name in names.iter() {
            let Some(name) = js_name.as_string() else { continue };
            if sensitive && name.eq_ignore_ascii_case("value") {
                continue;
            }
            if let Some(value) = el.unchecked_ref::<NamedAttributes>().get_attribute_named(&js_name) {
                attrs.push((name, value));
            }
        }
        let css = if html && local == "link" { linked_stylesheet_text(el) } else { None };
        if (html && local == "link" && css.is_some()) || local == "style" {
            self.recorded.sheet_owners.push((id, el.clone()));
        }
        if let (true, Some(kind)) = (html, MediaKind::of(&local)) {
            self.recorded.media.push((id, el.clone(), kind));
        }
        let shadow = self.shadow_root_of(el, &local);
        if html && local.contains('-') && shadow.is_none() && !el.matches(":defined").unwrap_or(true) {
            self.undefined.push(el.clone());
        }
        *self.last_shadow.borrow_mut() = shadow.map(|root| (el.clone().into(), root));
        let state = if html { self.form_state_tag(el, &local) } else { None };
        if let Some(state) = &state {
            self.last_form.insert(id, state.clone());
        }
        let form = state.filter(|_| sensitive || !Self::follows_attributes(el, &local));
        if html && (local == "iframe" || local == "frame") {
            self.frame_elements.push(el.clone());
        }
        ElementNode { tag, ns, attrs, form, css }
    }
}

/// `chrome.dom.openOrClosedShadowRoot`, which content scripts have (the only way to reach a
/// closed shadow root without patching the page); `None` where it is missing.
fn open_or_closed_shadow_root() -> Option<(JsValue, js_sys::Function)> {
    let get = |on: &JsValue, key: &str| js_sys::Reflect::get(on, &key.into()).ok().filter(|v| !v.is_undefined() && !v.is_null());
    let dom = get(&get(&js_sys::global().into(), "chrome")?, "dom")?;
    let f = get(&dom, "openOrClosedShadowRoot")?.dyn_into().ok()?;
    Some((dom, f))
}

/// Built-in elements that `attachShadow` accepts (besides custom elements).
fn can_host_shadow(tag: &str) -> bool {
    matches!(
        tag,
        "div" | "span" | "p" | "section" | "article" | "aside" | "nav" | "header" | "footer" | "main" | "blockquote" | "body" | "h1" | "h2"
            | "h3" | "h4" | "h5" | "h6"
    )
}

/// Whether an element may have been scrolled: not one whose box never scrolls (metadata, void
/// elements, table rows and groups), nor an inline phrasing element, which is a scroll container
/// only when a page restyles it as a block with `overflow` (`<span>` is still read: pages do
/// that with spans). Reading scroll offsets costs a layout check per element: on a 50,000-element
/// page it was a sixth of the snapshot's time.
fn can_scroll(tag: &str) -> bool {
    !matches!(
        tag,
        "head" | "meta" | "link" | "script" | "style" | "title" | "base" | "br" | "hr" | "img" | "source" | "track" | "wbr"
            | "col" | "colgroup" | "tr" | "tbody" | "thead" | "tfoot" | "table" | "option" | "optgroup" | "path" | "g" | "rect" | "circle" | "use"
            | "a" | "b" | "i" | "em" | "strong" | "small" | "abbr" | "cite" | "q" | "sub" | "sup" | "u" | "s" | "mark" | "time" | "kbd"
            | "var" | "samp" | "dfn" | "bdi" | "bdo" | "data" | "font" | "label" | "input" | "button" | "svg"
    )
}

/// The text of a `<link rel=stylesheet>`'s sheet, when the browser lets us read it.
fn linked_stylesheet_text(el: &Element) -> Option<String> {
    let link: &web_sys::HtmlLinkElement = el.unchecked_ref();
    let sheet: web_sys::CssStyleSheet = link.sheet()?.unchecked_into();
    let rules = sheet.css_rules().ok()?; // cross-origin sheets throw SecurityError
    let mut text = String::new();
    for i in 0..rules.length() {
        if let Some(rule) = rules.item(i) {
            text.push_str(&rule.css_text());
            text.push('\n');
        }
    }
    Some(text)
}

/// The node as an element, if it is one (any realm).
pub fn as_element(node: &Node) -> Option<&Element> {
    (node.node_type() == Node::ELEMENT_NODE).then(|| node.unchecked_ref())
}

/// An event target as a node, if it is one (any realm).
pub fn as_node(target: &web_sys::EventTarget) -> Option<&Node> {
    let is_node = js_sys::Reflect::get(target, &"nodeType".into()).ok().is_some_and(|v| v.as_f64().is_some());
    is_node.then(|| target.unchecked_ref())
}


impl DomTree for PageDom {
    type Node = Node;

    fn id(&self, node: &Node) -> Option<NodeId> {
        self.ids.get(node)
    }

    fn id_or_assign(&mut self, node: &Node) -> (NodeId, bool) {
        match self.id(node) {
            Some(id) => (id, false),
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.ids.set(node, id);
                (id, true)
            }
        }
    }

    fn parent(&self, node: &Node) -> Option<Node> {
        node.parent_node().or_else(|| {
            // A shadow root's parent in the recording is its host.
            (node.node_type() == Node::DOCUMENT_FRAGMENT_NODE)
                .then(|| js_sys::Reflect::get(node, &"host".into()).ok().filter(|h| !h.is_null() && !h.is_undefined()))
                .flatten()
                .map(JsCast::unchecked_into)
        })
    }

    fn shadow_root(&self, node: &Node) -> Option<Node> {
        let el = as_element(node)?;
        self.shadow_root_of(el, &el.local_name())
    }

    fn next_sibling(&self, node: &Node) -> Option<Node> {
        node.next_sibling()
    }

    fn is_connected(&self, node: &Node) -> bool {
        connected_in(node, &self.document)
    }

    fn serialize(&mut self, root: &Node) -> Vec<SerializedNode> {
        // Inserted nodes are new, so not scrolled yet; reading their offsets would also force a
        // layout in the middle of the page's own task.
        let reads = std::mem::replace(&mut self.scroll_reads, ScrollReads::Off);
        let out = self.serialize_subtree(root);
        self.scroll_reads = reads;
        out
    }

    fn attribute(&mut self, node: &Node, name: &str) -> AttributeRead {
        let el: &Element = node.unchecked_ref(); // only elements have attribute records
        let is_value = name.eq_ignore_ascii_case("value");
        // Checking also remembers a field that has just become a password field, for good.
        let sensitive = (is_value || can_change_sensitivity(name)) && self.is_sensitive(el);
        if sensitive && is_value {
            return AttributeRead::Withheld;
        }
        let value = match self.attribute_names.get(name) {
            Some(js) => el.unchecked_ref::<NamedAttributes>().get_attribute_named(js),
            None => el.get_attribute(name),
        };
        match value {
            Some(v) => AttributeRead::Value(v),
            None => AttributeRead::Removed,
        }
    }

    fn text(&self, node: &Node) -> String {
        if self.withholds_text(node, None) {
            return String::new();
        }
        node.node_value().unwrap_or_default()
    }

    fn forget(&mut self, node: &Node) {
        self.ids.forget(node);
    }
}

impl PageDom {
    /// A shadow root (the only fragment the recorder is ever handed): recorded, and observed from
    /// now on.
    fn serialize_shadow_root(&mut self, node: &Node, parent: Option<NodeId>) -> Option<SerializedNode> {
        let mode = match js_sys::Reflect::get(node, &"mode".into()).ok()?.as_string()?.as_str() {
            "open" => ShadowMode::Open,
            "closed" => ShadowMode::Closed,
            _ => return None,
        };
        let (id, _) = self.id_or_assign(node);
        if self.scroll_reads == ScrollReads::Scrolled {
            self.in_shadow.insert(id);
        }
        if let Some((observer, init)) = &self.observer {
            let _ = observer.observe_with_options(node, init);
        }
        self.recorded.roots.push((id, node.clone()));
        Some(SerializedNode { id, parent, kind: NodeKind::ShadowRoot { mode } })
    }

    /// The shadow root read when `node` was serialised (just before), if it had one.
    fn take_shadow(&self, node: &Node) -> Option<Node> {
        let mut last = self.last_shadow.borrow_mut();
        match last.take() {
            Some((host, root)) if host == *node => Some(root),
            other => {
                *last = other;
                None
            }
        }
    }
}

impl WalkTree for PageDom {
    fn children(&self, node: &Node) -> Vec<Node> {
        let mut children = Vec::new();
        children.extend(self.take_shadow(node));
        let mut child = node.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            children.push(c);
        }
        children
    }

    fn serialize_node(&mut self, node: &Node, parent: Option<NodeId>) -> Option<SerializedNode> {
        let node_type = node.node_type();
        if !matches!(node_type, Node::ELEMENT_NODE | Node::TEXT_NODE | Node::CDATA_SECTION_NODE | Node::COMMENT_NODE | Node::DOCUMENT_NODE | Node::DOCUMENT_TYPE_NODE | Node::DOCUMENT_FRAGMENT_NODE) {
            return None; // processing instructions and the like are not rendered
        }
        if node_type == Node::DOCUMENT_FRAGMENT_NODE {
            return self.serialize_shadow_root(node, parent);
        }
        let (id, _) = self.id_or_assign(node);
        if node_type == Node::DOCUMENT_NODE {
            self.recorded.roots.push((id, node.clone()));
        }
        let kind = match node_type {
            Node::ELEMENT_NODE => {
                let el: &Element = node.unchecked_ref();
                NodeKind::Element(self.serialize_element(el, id, parent))
            }
            Node::TEXT_NODE | Node::CDATA_SECTION_NODE => {
                NodeKind::Text { text: if self.withholds_text(node, parent) { String::new() } else { node.node_value().unwrap_or_default() } }
            }
            Node::COMMENT_NODE => NodeKind::Comment { text: node.node_value().unwrap_or_default() },
            Node::DOCUMENT_NODE => NodeKind::Document,
            _ => {
                let dt: &web_sys::DocumentType = node.unchecked_ref();
                NodeKind::Doctype { name: dt.name(), public_id: dt.public_id(), system_id: dt.system_id() }
            }
        };
        Some(SerializedNode { id, parent, kind })
    }

    fn same(&self, a: &Node, b: &Node) -> bool {
        a == b
    }
}

impl PageDom {
    /// A subtree in document order, shadow roots before light children.
    fn serialize_subtree(&mut self, root: &Node) -> Vec<SerializedNode> {
        let mut out = Vec::new();
        let mut stack: Vec<(Node, Option<NodeId>)> = vec![(root.clone(), None)];
        while let Some((node, parent)) = stack.pop() {
            let Some(serialized) = self.serialize_node(&node, parent) else { continue };
            // Siblings one by one (a leaf costs one call; `childNodes` builds a list per node),
            // pushed last first so they come off the stack in order.
            let first = stack.len();
            let mut child = node.first_child();
            while let Some(c) = child {
                child = c.next_sibling();
                stack.push((c, Some(serialized.id)));
            }
            stack[first..].reverse();
            if let Some(root) = self.take_shadow(&node) {
                stack.push((root, Some(serialized.id))); // before the light children
            }
            out.push(serialized);
        }
        out
    }
}
