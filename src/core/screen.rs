//! A stand-in for the replay renderer in host tests: applies [`DomOp`]s to plain trees, one per
//! frame, keeping what a browser keeps and losing what it loses.
//!
//! Seeks answer a diff against what the replay shows, so a test must apply them to the same
//! screen in turn and compare it with a fresh render of a fresh model. To catch diffs that rely
//! on state the real renderer does not have, this behaves like the browser and the shell: a
//! removed subtree's ids are forgotten, an `<iframe>` inserted or removed shows an empty
//! document, a moved element loses its scroll offsets, resizing a canvas clears its picture,
//! changing a `<style>`'s text drops the CSSOM rules set on it, and a top-level `Reset` drops
//! every document, the pointer and the constructed sheets.

use std::collections::{BTreeMap, HashMap};

use crate::core::event::{FormState, FrameId, MediaState, NodeId, SelectionPoint, SheetRef};
use crate::core::vdom::DomOp;

#[derive(Clone, Debug, Default)]
struct Node {
    label: String,
    tag: Option<String>,
    attrs: BTreeMap<String, String>,
    children: Vec<NodeId>,
    parent: Option<NodeId>,
    form: Option<FormState>,
    scroll: Option<(f64, f64)>,
    picture: Option<String>,
    media: Option<MediaState>,
    rules: Option<Vec<String>>,
    adopted: Vec<u32>,
    style_text: Option<String>,
}

#[derive(Debug, Default)]
struct Doc {
    root: NodeId,
    nodes: HashMap<NodeId, Node>,
    focus: Option<(Option<NodeId>, bool)>,
    selection: Option<(SelectionPoint, SelectionPoint)>,
    sheets: BTreeMap<u32, Vec<String>>,
}

/// The replayed documents, as a renderer would hold them.
#[derive(Debug, Default)]
pub struct Screen {
    scope: FrameId,
    docs: HashMap<FrameId, Doc>,
    hosts: HashMap<(FrameId, NodeId), FrameId>,
    /// The recorded pointer, in the viewport of a frame.
    pub pointer: Option<(FrameId, f64, f64)>,
    viewport: Option<(u32, u32)>,
}

impl Screen {
    /// Applies one list of operations (which starts and ends in the top-level document).
    pub fn apply(&mut self, ops: &[DomOp]) {
        self.scope = 0;
        for op in ops {
            self.apply_one(op);
        }
        assert_eq!(self.scope, 0, "every list of operations ends in the top-level document");
    }

    fn apply_one(&mut self, op: &DomOp) {
        let f = self.scope;
        match op {
            DomOp::Frame { frame, parent, host } => {
                self.scope = *frame;
                if *frame != 0 {
                    self.hosts.retain(|_, g| g != frame);
                    self.hosts.insert((*parent, *host), *frame);
                }
            }
            DomOp::Reset { document, .. } => {
                if f == 0 {
                    self.docs.clear();
                    self.hosts.clear();
                    self.pointer = None;
                } else {
                    let inner: Vec<FrameId> = self.hosts.iter().filter(|((p, _), _)| *p == f).map(|(_, g)| *g).collect();
                    for g in inner {
                        self.docs.remove(&g);
                    }
                    self.hosts.retain(|(p, _), _| *p != f);
                }
                let mut doc = Doc { root: *document, ..Doc::default() };
                doc.nodes.insert(*document, Node { label: "#document".into(), ..Node::default() });
                self.docs.insert(f, doc);
            }
            DomOp::CreateElement { id, tag, ns } => {
                let label = match ns {
                    Some(ns) => format!("<{tag} ns={ns}>"),
                    None => format!("<{tag}>"),
                };
                self.doc(f).nodes.insert(*id, Node { label, tag: Some(tag.to_ascii_lowercase()), ..Node::default() });
            }
            DomOp::CreateText { id, text } => {
                self.doc(f).nodes.insert(*id, Node { label: format!("{text:?}"), ..Node::default() });
            }
            DomOp::CreateComment { id, text } => {
                self.doc(f).nodes.insert(*id, Node { label: format!("<!--{text}-->"), ..Node::default() });
            }
            DomOp::SetAttribute { id, name, value } => {
                let node = self.node(f, *id);
                if node.tag.as_deref() == Some("canvas") && (name == "width" || name == "height") {
                    node.picture = None;
                }
                node.attrs.insert(name.clone(), value.clone());
            }
            DomOp::RemoveAttribute { id, name } => {
                self.node(f, *id).attrs.remove(name);
            }
            DomOp::SetStyleText { id, css } => {
                let node = self.node(f, *id);
                node.style_text = Some(css.clone());
                node.rules = None;
            }
            DomOp::Insert { parent, id, before } => {
                self.blank_frames_in(f, *id);
                self.detach(f, *id);
                let doc = self.doc(f);
                let Some(p) = doc.nodes.get_mut(parent) else { panic!("insert into unknown node {parent} in frame {f}") };
                let pos = before.and_then(|b| p.children.iter().position(|c| *c == b)).unwrap_or(p.children.len());
                p.children.insert(pos, *id);
                if p.tag.as_deref() == Some("style") {
                    p.rules = None;
                }
                doc.nodes.get_mut(id).unwrap_or_else(|| panic!("insert of unknown node {id} in frame {f}")).parent = Some(*parent);
                // A node (re)inserted has no scroll offsets until they are set.
                let mut stack = vec![*id];
                while let Some(n) = stack.pop() {
                    if let Some(node) = doc.nodes.get_mut(&n) {
                        node.scroll = None;
                        stack.extend(node.children.iter().copied());
                    }
                }
            }
            DomOp::Remove { id, subtree } => {
                self.blank_frames_in(f, *id);
                self.detach(f, *id);
                let doc = self.doc(f);
                for n in subtree {
                    doc.nodes.remove(n);
                }
            }
            DomOp::AttachShadow { host, id, mode } => {
                let doc = self.doc(f);
                let h = doc.nodes.get(host).unwrap_or_else(|| panic!("attach to unknown host {host}"));
                let first_is_root = h.children.first().is_some_and(|c| doc_label_is_root(&doc.nodes, *c));
                let root = Node { label: format!("#shadow-root ({mode:?})"), parent: Some(*host), ..Node::default() };
                let h = doc.nodes.get_mut(host).unwrap();
                if first_is_root {
                    h.children[0] = *id;
                } else {
                    h.children.insert(0, *id);
                }
                doc.nodes.insert(*id, root);
            }
            DomOp::SheetRules(change) => {
                let doc = self.doc(f);
                let rules = match change.sheet {
                    SheetRef::Owner(id) => doc.nodes.get_mut(&id).map(|n| n.rules.get_or_insert_with(Vec::new)),
                    SheetRef::Sheet(id) => Some(doc.sheets.entry(id).or_default()),
                };
                let rules = rules.expect("rules of a known sheet");
                let start = (change.start as usize).min(rules.len());
                let end = change.deleted.map_or(rules.len(), |d| (start + d as usize).min(rules.len()));
                rules.splice(start..end, change.rules.iter().cloned());
            }
            DomOp::Adopt { id, sheets } => self.node(f, *id).adopted = sheets.clone(),
            DomOp::SetText { id, text } => {
                let doc = self.doc(f);
                let node = doc.nodes.get_mut(id).unwrap_or_else(|| panic!("set text of unknown node {id}"));
                node.label = if node.label.starts_with("<!--") { format!("<!--{text}-->") } else { format!("{text:?}") };
                if let Some(p) = node.parent.and_then(|p| doc.nodes.get_mut(&p)) {
                    if p.tag.as_deref() == Some("style") {
                        p.rules = None;
                    }
                }
            }
            DomOp::SetForm { id, state } => self.node(f, *id).form = Some(state.clone()),
            DomOp::Scroll { id, x, y } => self.node(f, *id).scroll = Some((*x, *y)).filter(|s| *s != (0.0, 0.0)),
            DomOp::Focus { id, visible } => self.doc(f).focus = Some((*id, *visible)),
            DomOp::Viewport { width, height } => {
                assert_eq!(f, 0, "only the top-level document sets the viewport");
                self.viewport = Some((*width, *height));
            }
            DomOp::Pointer { x, y } => self.pointer = Some((f, *x, *y)),
            DomOp::NoPointer => self.pointer = None,
            DomOp::Click { .. } => {}
            DomOp::DrawFrame { id, hash, .. } => self.node(f, *id).picture = Some(hash.clone()),
            DomOp::Media { id, state } => self.node(f, *id).media = Some(*state),
            DomOp::Select { range } => self.doc(f).selection = *range,
        }
    }

    fn doc(&mut self, frame: FrameId) -> &mut Doc {
        self.docs.get_mut(&frame).unwrap_or_else(|| panic!("frame {frame} addressed before its document was reset"))
    }

    fn node(&mut self, frame: FrameId, id: NodeId) -> &mut Node {
        self.doc(frame).nodes.get_mut(&id).unwrap_or_else(|| panic!("unknown node {id} in frame {frame}"))
    }

    /// Takes `id` out of its parent's children, if it is in one.
    fn detach(&mut self, frame: FrameId, id: NodeId) {
        let doc = self.doc(frame);
        let Some(parent) = doc.nodes.get(&id).and_then(|n| n.parent) else { return };
        if let Some(p) = doc.nodes.get_mut(&parent) {
            p.children.retain(|c| *c != id);
            if p.tag.as_deref() == Some("style") {
                p.rules = None;
            }
        }
        if let Some(n) = doc.nodes.get_mut(&id) {
            n.parent = None;
        }
    }

    /// Inserting or removing a subtree gives the frames hosted in it empty documents.
    fn blank_frames_in(&mut self, frame: FrameId, root: NodeId) {
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if let Some(g) = self.hosts.get(&(frame, n)).copied() {
                self.docs.remove(&g);
            }
            if let Some(node) = self.docs.get(&frame).and_then(|d| d.nodes.get(&n)) {
                stack.extend(node.children.iter().copied());
            }
        }
    }

    /// Everything shown, as text: the documents (frames' documents under their hosts) with every
    /// node's attributes and state, after the viewport and pointer.
    pub fn outline(&self) -> String {
        let mut out = String::new();
        if let Some(v) = self.viewport {
            out.push_str(&format!("viewport {v:?}\n"));
        }
        if let Some(p) = self.pointer {
            out.push_str(&format!("pointer {p:?}\n"));
        }
        out.push_str(&self.documents());
        out
    }

    /// The documents alone, as in [`Self::outline`].
    pub fn documents(&self) -> String {
        let mut out = String::new();
        if let Some(doc) = self.docs.get(&0) {
            self.walk(0, doc.root, 0, &mut out);
        }
        out
    }

    fn walk(&self, frame: FrameId, id: NodeId, depth: usize, out: &mut String) {
        let doc = &self.docs[&frame];
        let Some(node) = doc.nodes.get(&id) else {
            out.push_str(&format!("{}(forgotten node {id})\n", "  ".repeat(depth)));
            return;
        };
        let pad = "  ".repeat(depth);
        out.push_str(&pad);
        out.push_str(&node.label);
        for (n, v) in &node.attrs {
            out.push_str(&format!(" {n}={v:?}"));
        }
        if let Some(form) = &node.form {
            out.push_str(&format!(" [{form:?}]"));
        }
        if let Some(s) = node.scroll {
            out.push_str(&format!(" scroll={s:?}"));
        }
        if let Some(p) = &node.picture {
            out.push_str(&format!(" picture={p}"));
        }
        if let Some(m) = &node.media {
            out.push_str(&format!(" media={m:?}"));
        }
        if let Some(css) = &node.style_text {
            out.push_str(&format!(" css={css:?}"));
        }
        if let Some(r) = &node.rules {
            out.push_str(&format!(" rules={r:?}"));
        }
        if !node.adopted.is_empty() {
            // An empty sheet shows as much as a missing one.
            let sheets: Vec<_> = node.adopted.iter().map(|s| (s, doc.sheets.get(s).filter(|r| !r.is_empty()))).collect();
            out.push_str(&format!(" adopted={sheets:?}"));
        }
        out.push('\n');
        if id == doc.root {
            if let Some((Some(f), visible)) = doc.focus {
                out.push_str(&format!("{pad}(focus {f} {visible})\n"));
            }
            if let Some(sel) = doc.selection {
                out.push_str(&format!("{pad}(selection {sel:?})\n"));
            }
        }
        // A frame whose document was blanked shows nothing, as one never written.
        if let Some(d) = self.hosts.get(&(frame, id)).and_then(|g| self.docs.get(g).map(|d| (g, d))) {
            self.walk(*d.0, d.1.root, depth + 1, out);
        }
        for c in &node.children {
            self.walk(frame, *c, depth + 1, out);
        }
    }
}

fn doc_label_is_root(nodes: &HashMap<NodeId, Node>, id: NodeId) -> bool {
    nodes.get(&id).is_some_and(|n| n.label.starts_with("#shadow-root"))
}
