//! The player's model of the replayed document, and the DOM operations that bring a real
//! document in line with it.
//!
//! [`VirtualDom`] applies recorded events and answers with [`DomOp`]s; the player shell is a dumb
//! interpreter of those operations over web-sys. Seeking rebuilds the model without touching the
//! real DOM and then renders it once. Every element is passed through [`crate::core::sanitize`]
//! on its way out, so no operation can carry recorded code into the replay frame; recorded CSS
//! (`<style>` text, captured stylesheets) goes through [`sanitize_css`] with the recorded
//! document's base URL, so that its relative URLs keep pointing at the recorded site.

use crate::core::ids::IdMap;

use crate::core::event::{Event, EventData, FormState, MutationBatch, NodeId, NodeKind, SerializedNode, Snapshot};
use crate::core::sanitize::{sanitize_attribute, sanitize_css, sanitize_element};
use crate::core::url::resolve;

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
    /// Draw a click marker at a position.
    Click {
        /// x in CSS pixels.
        x: f64,
        /// y in CSS pixels.
        y: f64,
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
}

impl VirtualDom {
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

    /// Number of nodes in the model.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when nothing has been loaded.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Applies one event and returns the operations that show it.
    pub fn apply(&mut self, event: &Event) -> Vec<DomOp> {
        let mut ops = Vec::new();
        self.apply_into(event, &mut ops);
        ops
    }

    /// Applies one event to the model without building the operations that show it: seeking
    /// replays many events and renders once at the end.
    pub fn update(&mut self, event: &Event) {
        let mut ignored = Vec::new();
        self.quiet = true;
        self.apply_into(event, &mut ignored);
        self.quiet = false;
    }

    /// Applies one event, appending the operations that show it to `ops`.
    pub fn apply_into(&mut self, event: &Event, ops: &mut Vec<DomOp>) {
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
        }
    }

    fn load(&mut self, snapshot: &Snapshot, page: u32) {
        *self = VirtualDom {
            page: Some(page),
            viewport: (snapshot.width, snapshot.height),
            url: snapshot.url.clone(),
            title: snapshot.title.clone(),
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
            sanitize_css(text, &self.base)
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
            let siblings = &mut self.nodes.get_mut(&p)?.children;
            let pos = before.and_then(|b| siblings.iter().position(|&c| c == b)).unwrap_or(siblings.len());
            siblings.insert(pos, root.id);
        }
        self.nodes.insert(root.id, VNode { kind: root.kind.clone(), parent, children: vec![] });
        for n in &nodes[1..] {
            let Some(p) = n.parent else { continue };
            if self.nodes.contains_key(&n.id) {
                continue; // a duplicate id would corrupt the tree
            }
            let Some(pnode) = self.nodes.get_mut(&p) else { continue };
            pnode.children.push(n.id);
            self.nodes.insert(n.id, VNode { kind: n.kind.clone(), parent: Some(p), children: vec![] });
        }
        Some(root.id)
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
                let subtree = self.remove_subtree(r.id);
                ops.push(DomOp::Remove { id: r.id, subtree });
            }
        }
        for a in &batch.adds {
            let Some(root) = a.nodes.first() else { continue };
            if !self.nodes.contains_key(&a.parent) {
                continue;
            }
            if self.nodes.contains_key(&root.id) {
                let subtree = self.remove_subtree(root.id);
                ops.push(DomOp::Remove { id: root.id, subtree });
            }
            let before = a.before.filter(|b| self.nodes.get(b).is_some_and(|n| n.parent == Some(a.parent)));
            if let Some(id) = self.insert_subtree(&a.nodes, Some(a.parent), before) {
                if !self.quiet {
                    self.create_into(id, ops);
                    ops.push(DomOp::Insert { parent: a.parent, id, before });
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
                    if let Some((name, value)) = sanitize_attribute(&tag, &c.name, v) {
                        if !(tag == "link" && e.css.is_some()) {
                            ops.push(DomOp::SetAttribute { id: c.id, name, value });
                        }
                    }
                }
                None => {
                    e.attrs.retain(|(n, _)| *n != c.name);
                    ops.push(DomOp::RemoveAttribute { id: c.id, name: c.name.clone() });
                }
            }
        }
        for t in &batch.texts {
            if let Some(VNode { kind: NodeKind::Text { text } | NodeKind::Comment { text }, .. }) = self.nodes.get_mut(&t.id) {
                text.clone_from(&t.text);
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

    /// Operations that build the whole current document from nothing.
    pub fn render(&self) -> Vec<DomOp> {
        let mut ops = Vec::new();
        self.render_into(&mut ops);
        ops
    }

    fn render_into(&self, ops: &mut Vec<DomOp>) {
        let Some(doc) = self.document else { return };
        let Some(root) = self.nodes.get(&doc) else { return };
        let doctype = root.children.iter().find_map(|c| match &self.nodes[c].kind {
            NodeKind::Doctype { name, public_id, system_id } => Some(doctype_markup(name, public_id, system_id)),
            _ => None,
        });
        ops.push(DomOp::Viewport { width: self.viewport.0, height: self.viewport.1 });
        ops.push(DomOp::Reset { document: doc, doctype });
        for &child in &root.children {
            if matches!(self.nodes[&child].kind, NodeKind::Doctype { .. }) {
                continue;
            }
            self.create_into(child, ops);
            ops.push(DomOp::Insert { parent: doc, id: child, before: None });
        }
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
    }

    /// Operations that build the detached subtree rooted at `id`: every node is created (with its
    /// sanitised attributes), then children are attached in order, then form state is set (a
    /// `<select>` needs its options first).
    fn create_into(&self, id: NodeId, ops: &mut Vec<DomOp>) {
        let mut order = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let Some(node) = self.nodes.get(&n) else { continue };
            match &node.kind {
                NodeKind::Element(e) => {
                    let safe = sanitize_element(&e.tag, &e.attrs, e.css.as_deref(), &self.base);
                    ops.push(DomOp::CreateElement { id: n, tag: safe.tag, ns: e.ns.clone() });
                    for (name, value) in safe.attrs {
                        ops.push(DomOp::SetAttribute { id: n, name, value });
                    }
                    if let Some(css) = safe.css {
                        ops.push(DomOp::SetStyleText { id: n, css });
                    }
                    stack.extend(node.children.iter().rev());
                }
                NodeKind::Text { text } => ops.push(DomOp::CreateText { id: n, text: self.frame_text(n, text) }),
                NodeKind::Comment { text } => ops.push(DomOp::CreateComment { id: n, text: text.clone() }),
                NodeKind::Document | NodeKind::Doctype { .. } => continue,
            }
            order.push(n);
        }
        for &n in &order {
            if n == id {
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
    use super::doctype_markup;

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
