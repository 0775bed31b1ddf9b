//! The recorder's view of the live page: node ids, serialisation, and the [`DomTree`] the core's
//! coalescer reads.
//!
//! Ids live in a `WeakMap` from node to id held in the content script's isolated world, so the
//! page cannot see or change them and removed nodes can be collected. Serialisation walks
//! iteratively (no recursion, whatever the depth) and applies the masking policy to every form
//! value and attribute before anything leaves the page.

use std::collections::HashMap;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Node};

use crate::core::coalesce::{AttributeRead, DomTree};
use crate::core::event::{ElementNode, FormState, NodeId, NodeKind, ScrollPosition, SerializedNode};
use crate::core::mask::{can_change_sensitivity, FieldFacts};

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Node ids and the set of fields that were ever sensitive, for one recorded page.
pub struct PageDom {
    document: Document,
    ids: js_sys::WeakMap,
    next_id: NodeId,
    sensitive: js_sys::WeakSet,
    /// Scroll positions found during the last serialisation (snapshot only).
    scrolls: Option<Vec<ScrollPosition>>,
    /// The last recorded state of every form control, to record only changes.
    last_form: HashMap<NodeId, FormState>,
}

impl PageDom {
    /// Ids for `document`, starting at 1.
    pub fn new(document: Document) -> PageDom {
        PageDom {
            document,
            ids: js_sys::WeakMap::new(),
            next_id: 1,
            sensitive: js_sys::WeakSet::new(),
            scrolls: None,
            last_form: HashMap::new(),
        }
    }

    /// The recorded document.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The whole document, with the scroll positions of every scrolled element.
    pub fn snapshot(&mut self) -> (Vec<SerializedNode>, Vec<ScrollPosition>) {
        self.scrolls = Some(Vec::new());
        let doc: Node = self.document.clone().into();
        let nodes = self.serialize(&doc);
        let mut scrolls = self.scrolls.take().unwrap_or_default();
        if let Some(window) = self.document.default_view() {
            let (x, y) = (window.scroll_x().unwrap_or(0.0), window.scroll_y().unwrap_or(0.0));
            if x != 0.0 || y != 0.0 {
                scrolls.insert(0, ScrollPosition { target: nodes[0].id, x, y });
            }
        }
        (nodes, scrolls)
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
        let tag = el.local_name();
        if tag != "input" && tag != "textarea" {
            return false;
        }
        let (t, a) = (el.get_attribute("type"), el.get_attribute("autocomplete"));
        let sensitive = self.field_facts(el, &tag, &t, &a).is_sensitive();
        if sensitive {
            self.sensitive.add(el.as_ref());
        }
        sensitive
    }

    /// The state to record for a form control, masked by policy; `None` for other elements.
    /// Checks tag names rather than `instanceof`, so it works for nodes of any realm (frames).
    pub fn form_state(&self, el: &Element) -> Option<FormState> {
        let masked_or = |value: String| {
            if self.is_sensitive(el) { FormState::Masked { filled: !value.is_empty() } } else { FormState::Value { value } }
        };
        match el.local_name().as_str() {
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
    fn follows_attributes(el: &Element) -> bool {
        match el.local_name().as_str() {
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

    /// Whether a text node's data must not be recorded: script source, and the text of a
    /// sensitive `<textarea>` (its default value, which frameworks keep equal to what was typed).
    fn withholds_text(&self, node: &Node) -> bool {
        node.parent_element().is_some_and(|p| match p.local_name().as_str() {
            "script" => true,
            "textarea" => self.is_sensitive(&p),
            _ => false,
        })
    }

    fn serialize_element(&mut self, el: &Element, id: NodeId) -> ElementNode {
        let ns = el.namespace_uri().filter(|ns| ns != HTML_NS);
        let tag = if ns.is_none() { el.local_name() } else { el.tag_name() };
        let sensitive = self.is_sensitive(el);
        let map = el.attributes();
        let mut attrs = Vec::with_capacity(map.length() as usize);
        for i in 0..map.length() {
            if let Some(attr) = map.item(i) {
                let name = attr.name();
                if sensitive && name.eq_ignore_ascii_case("value") {
                    continue;
                }
                attrs.push((name, attr.value()));
            }
        }
        let css = if tag == "link" && ns.is_none() { linked_stylesheet_text(el) } else { None };
        let state = if ns.is_none() { self.form_state(el) } else { None };
        if let Some(state) = &state {
            self.last_form.insert(id, state.clone());
        }
        let form = state.filter(|_| sensitive || !Self::follows_attributes(el));
        ElementNode { tag, ns, attrs, form, css }
    }
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
        self.ids.get(node.as_ref()).as_f64().map(|f| f as NodeId)
    }

    fn id_or_assign(&mut self, node: &Node) -> (NodeId, bool) {
        match self.id(node) {
            Some(id) => (id, false),
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.ids.set(node.as_ref(), &JsValue::from_f64(id as f64));
                (id, true)
            }
        }
    }

    fn parent(&self, node: &Node) -> Option<Node> {
        node.parent_node()
    }

    fn next_sibling(&self, node: &Node) -> Option<Node> {
        node.next_sibling()
    }

    fn is_connected(&self, node: &Node) -> bool {
        node.is_connected() && node.owner_document().is_some_and(|d| d == self.document)
    }

    fn serialize(&mut self, root: &Node) -> Vec<SerializedNode> {
        let mut out = Vec::new();
        let mut stack: Vec<(Node, Option<NodeId>)> = vec![(root.clone(), None)];
        while let Some((node, parent)) = stack.pop() {
            let node_type = node.node_type();
            if !matches!(node_type, Node::ELEMENT_NODE | Node::TEXT_NODE | Node::CDATA_SECTION_NODE | Node::COMMENT_NODE | Node::DOCUMENT_NODE | Node::DOCUMENT_TYPE_NODE) {
                continue; // processing instructions and the like are not rendered
            }
            let (id, _) = self.id_or_assign(&node);
            let kind = match node_type {
                Node::ELEMENT_NODE => {
                    let el: &Element = node.unchecked_ref();
                    if let Some(scrolls) = self.scrolls.as_mut() {
                        let (x, y) = (el.scroll_left() as f64, el.scroll_top() as f64);
                        if x != 0.0 || y != 0.0 {
                            scrolls.push(ScrollPosition { target: id, x, y });
                        }
                    }
                    NodeKind::Element(self.serialize_element(el, id))
                }
                Node::TEXT_NODE | Node::CDATA_SECTION_NODE => {
                    NodeKind::Text { text: if self.withholds_text(&node) { String::new() } else { node.node_value().unwrap_or_default() } }
                }
                Node::COMMENT_NODE => NodeKind::Comment { text: node.node_value().unwrap_or_default() },
                Node::DOCUMENT_NODE => NodeKind::Document,
                Node::DOCUMENT_TYPE_NODE => {
                    let dt: &web_sys::DocumentType = node.unchecked_ref();
                    NodeKind::Doctype { name: dt.name(), public_id: dt.public_id(), system_id: dt.system_id() }
                }
                _ => unreachable!("filtered above"),
            };
            let children = node.child_nodes();
            for i in (0..children.length()).rev() {
                if let Some(child) = children.item(i) {
                    stack.push((child, Some(id)));
                }
            }
            out.push(SerializedNode { id, parent, kind });
        }
        out
    }

    fn attribute(&mut self, node: &Node, name: &str) -> AttributeRead {
        let Some(el) = as_element(node) else { return AttributeRead::Withheld };
        let is_value = name.eq_ignore_ascii_case("value");
        // Checking also remembers a field that has just become a password field, for good.
        let sensitive = (is_value || can_change_sensitivity(name)) && self.is_sensitive(el);
        if sensitive && is_value {
            return AttributeRead::Withheld;
        }
        match el.get_attribute(name) {
            Some(v) => AttributeRead::Value(v),
            None => AttributeRead::Removed,
        }
    }

    fn text(&self, node: &Node) -> String {
        if self.withholds_text(node) {
            return String::new();
        }
        node.node_value().unwrap_or_default()
    }
}
