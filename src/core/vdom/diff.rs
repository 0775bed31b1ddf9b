//! Brings a replayed document that shows one model to show another, touching only what differs.
//!
//! A seek used to rebuild the replay frame from nothing: a fresh document, every node created,
//! then the browser's first style and layout of the whole page (measured: ~100 ms for the
//! bench's 5,000-element page on two busy cores, twice the seek itself). Within one page of a
//! recording node ids are stable, so the shown document can be brought to the target model by
//! id instead: nodes only the old model has are removed, nodes only the new one has are created,
//! kept nodes move only where their order changed (the longest run of them that kept its order
//! stays), and attributes, texts, form state, sheets, pictures, media state and scrolls are set
//! where they differ. The browser then restyles and lays out what changed.
//!
//! A node is kept when the shown one can become the target's in place: same kind, tag and
//! namespace, and nothing about it that the renderer cannot undo (a shadow root that came, went
//! or changed, CSSOM rules over a changed `<style>` text or that went away, a picture or media
//! state that went away, a form control whose value was set and now follows its attributes
//! again). Anything else is made afresh under the same id. Another document, page, doctype or
//! base URL: no diff ([`VirtualDom::render_from`] answers `None`), the caller renders afresh.

use super::*;
use crate::core::ids::IdSet;

/// Nodes a diff created or moved. Whatever is inside one of them was (re)inserted into the
/// document, so a frame it hosts shows a fresh, empty document (see [`VirtualDom::stays`]).
pub type Placed = IdSet<NodeId>;

impl VirtualDom {
    /// Appends the operations that bring a document showing `old` (as rendered, then changed by
    /// the operations of both models) to show this model, and answers the nodes it placed; `None`
    /// (and nothing appended) when `old` is another document, page, doctype or base URL. Like
    /// [`Self::render_into`] it ends with the focus and selection (the pointer is the tab's: [`TabDom`](crate::core::frames::TabDom) draws it last). The elements in
    /// `afresh` are made anew even if they could be kept (frame hosts whose document must go).
    pub fn render_from(&self, old: &VirtualDom, afresh: &IdSet<NodeId>, ops: &mut Vec<DomOp>) -> Option<Placed> {
        let doc = self.document?;
        let comparable = old.document == Some(doc)
            && old.nodes.contains_key(&doc)
            && self.nodes.contains_key(&doc)
            && old.page == self.page
            && old.url == self.url
            && old.base == self.base
            && Rc::ptr_eq(&old.assets, &self.assets)
            && old.doctype() == self.doctype();
        if !comparable {
            return None;
        }
        let mut diff = Diff::new(self, old, afresh);
        diff.run(doc, ops);
        Some(diff.placed)
    }

    /// Nodes of the model that the document does not reach (test diagnostics).
    #[cfg(test)]
    pub fn unreachable(&self) -> Vec<NodeId> {
        let mut seen = IdSet::default();
        let mut stack: Vec<NodeId> = self.document.into_iter().collect();
        while let Some(n) = stack.pop() {
            seen.insert(n);
            stack.extend(self.nodes.get(&n).map(|n| n.children.clone()).unwrap_or_default());
        }
        let mut out: Vec<NodeId> = self.nodes.keys().filter(|k| !seen.contains(k)).copied().collect();
        out.sort_unstable();
        out
    }

    /// Whether node `id` kept its place in the document through a diff that placed `placed`:
    /// neither it nor any ancestor was created or moved.
    pub fn stays(&self, id: NodeId, placed: &Placed) -> bool {
        let mut cur = Some(id);
        while let Some(n) = cur {
            if placed.contains(&n) {
                return false;
            }
            cur = self.nodes.get(&n).and_then(|n| n.parent);
        }
        true
    }
}

/// One diff in progress.
struct Diff<'a> {
    new: &'a VirtualDom,
    old: &'a VirtualDom,
    /// Nodes of both models that the shown document keeps.
    kept: IdSet<NodeId>,
    /// Nodes of the new model with a kept node somewhere below them.
    above_kept: IdSet<NodeId>,
    placed: Placed,
    /// Form controls whose state is set once the tree is done (a `<select>` needs its options).
    forms: Vec<NodeId>,
    /// What needs the tree in place (CSSOM rules, adopted sheets, pictures, media state).
    late: Vec<DomOp>,
}

impl<'a> Diff<'a> {
    fn new(new: &'a VirtualDom, old: &'a VirtualDom, afresh: &IdSet<NodeId>) -> Diff<'a> {
        let mut kept = IdSet::default();
        for (&id, n) in &new.nodes {
            if !afresh.contains(&id) && old.nodes.get(&id).is_some_and(|o| same_node(old, new, id, o, n)) {
                kept.insert(id);
            }
        }
        let mut above_kept = IdSet::default();
        for &k in &kept {
            let mut p = new.nodes.get(&k).and_then(|n| n.parent);
            while let Some(pid) = p {
                if !above_kept.insert(pid) {
                    break;
                }
                p = new.nodes.get(&pid).and_then(|n| n.parent);
            }
        }
        Diff { new, old, kept, above_kept, placed: Placed::default(), forms: Vec::new(), late: Vec::new() }
    }

    fn run(&mut self, doc: NodeId, ops: &mut Vec<DomOp>) {
        let (new, old) = (self.new, self.old);
        let viewport_changed = new.viewport != old.viewport;
        if viewport_changed {
            ops.push(DomOp::Viewport { width: new.viewport.0, height: new.viewport.1 });
        }
        let mut sheets: Vec<_> = new.sheets.iter().filter(|(id, rules)| old.sheets.get(id) != Some(rules)).collect();
        sheets.sort_by_key(|(id, _)| **id);
        for (&id, rules) in sheets {
            ops.push(DomOp::SheetRules(new.frame_rules(SheetRef::Sheet(id), 0, None, rules)));
        }
        // A constructed sheet the new model does not have yet is emptied (the renderer keeps it).
        let mut gone: Vec<u32> = old.sheets.keys().filter(|id| !new.sheets.contains_key(id)).copied().collect();
        gone.sort_unstable();
        for id in gone {
            ops.push(DomOp::SheetRules(SheetRules { sheet: SheetRef::Sheet(id), start: 0, deleted: None, rules: vec![] }));
        }
        self.remove_gone(ops);
        self.place_tree(doc, ops);
        for &id in &self.forms {
            if let Some(VNode { kind: NodeKind::Element(ElementNode { form: Some(state), .. }), .. }) = new.nodes.get(&id) {
                ops.push(DomOp::SetForm { id, state: state.clone() });
            }
        }
        if old.adopted.get(&doc) != new.adopted.get(&doc) {
            ops.push(DomOp::Adopt { id: doc, sheets: new.adopted.get(&doc).cloned().unwrap_or_default() });
        }
        ops.append(&mut self.late);
        let mut scrolls: Vec<_> = new
            .scrolls
            .iter()
            .filter(|(id, pos)| viewport_changed || old.scrolls.get(id) != Some(pos) || !new.stays(**id, &self.placed))
            .collect();
        // A kept node scrolled in the old model but not in the new one goes back to the origin.
        let unscrolled: Vec<_> = old.scrolls.keys().filter(|id| !new.scrolls.contains_key(id) && self.kept.contains(id) && new.stays(**id, &self.placed)).map(|id| (id, &(0.0, 0.0))).collect();
        scrolls.extend(unscrolled);
        scrolls.sort_by_key(|(id, _)| **id);
        for (&id, &(x, y)) in scrolls {
            ops.push(DomOp::Scroll { id, x, y });
        }
        // Always: the renderer may still hold a focus that live operations removed from the model.
        ops.push(DomOp::Focus { id: new.focus, visible: new.focus_visible });
        // Always too: live operations may have left a selection in nodes since removed.
        let range = new.selection.filter(|(a, f)| new.nodes.contains_key(&a.node) && new.nodes.contains_key(&f.node));
        ops.push(DomOp::Select { range });
    }

    /// Removes the old nodes that are not kept: each whose parent is kept goes from the
    /// document, with the ids below it that are not kept (kept ones are moved out later).
    fn remove_gone(&self, ops: &mut Vec<DomOp>) {
        let old = self.old;
        let mut gone: Vec<NodeId> = old
            .nodes
            .iter()
            .filter(|(id, n)| !self.kept.contains(id) && !matches!(n.kind, NodeKind::Doctype { .. }) && n.parent.is_some_and(|p| self.kept.contains(&p)))
            .map(|(id, _)| *id)
            .collect();
        gone.sort_unstable();
        for id in gone {
            let mut subtree = Vec::new();
            let mut stack = vec![id];
            while let Some(n) = stack.pop() {
                subtree.push(n);
                if let Some(node) = old.nodes.get(&n) {
                    stack.extend(node.children.iter().rev().filter(|c| !self.kept.contains(c)));
                }
            }
            ops.push(DomOp::Remove { id, subtree });
        }
    }

    /// Puts every node of the new model in place, parents before children, so a node is only
    /// ever inserted under a parent that already has its final ancestors.
    fn place_tree(&mut self, doc: NodeId, ops: &mut Vec<DomOp>) {
        let new = self.new;
        let mut stack = vec![doc];
        while let Some(p) = stack.pop() {
            let Some(node) = new.nodes.get(&p) else { continue };
            if self.kept.contains(&p) {
                self.update(p, ops);
            }
            if matches!(&node.kind, NodeKind::Element(e) if e.form.is_some()) {
                self.forms.push(p);
            }
            let stable = self.stable_children(p);
            let mut anchor = None;
            for &c in node.children.iter().rev() {
                let Some(child) = new.nodes.get(&c) else { continue };
                let kept = self.kept.contains(&c);
                match child.kind {
                    NodeKind::Doctype { .. } => continue,
                    NodeKind::ShadowRoot { .. } => {
                        // Attached, never inserted; a kept one is under its kept host.
                        if !kept && new.create_node(c, ops, &mut self.late) {
                            self.placed.insert(c);
                        }
                        stack.push(c);
                        continue;
                    }
                    _ => {}
                }
                if stable.contains(&c) {
                    stack.push(c);
                } else if kept {
                    ops.push(DomOp::Insert { parent: p, id: c, before: anchor });
                    self.placed.insert(c);
                    stack.push(c);
                } else if !self.above_kept.contains(&c) {
                    // Wholly new: built detached, inserted once.
                    let mut late = Vec::new();
                    new.create_into(c, ops, &mut late);
                    ops.push(DomOp::Insert { parent: p, id: c, before: anchor });
                    ops.append(&mut late);
                    self.placed.insert(c);
                } else if new.create_node(c, ops, &mut self.late) {
                    ops.push(DomOp::Insert { parent: p, id: c, before: anchor });
                    self.placed.insert(c);
                    stack.push(c);
                } else {
                    continue;
                }
                anchor = Some(c);
            }
        }
    }

    /// The children of `p` that stay where they are: kept children that were under `p` already,
    /// the longest run of them in the order they had.
    fn stable_children(&self, p: NodeId) -> IdSet<NodeId> {
        let mut stable = IdSet::default();
        if !self.kept.contains(&p) {
            return stable;
        }
        let (Some(now), Some(was)) = (self.new.nodes.get(&p), self.old.nodes.get(&p)) else { return stable };
        let is_candidate = |c: &NodeId| {
            self.kept.contains(c)
                && self.old.nodes.get(c).is_some_and(|o| o.parent == Some(p) && !matches!(o.kind, NodeKind::ShadowRoot { .. } | NodeKind::Doctype { .. }))
        };
        let wanted: Vec<NodeId> = now.children.iter().copied().filter(is_candidate).collect();
        let had: Vec<NodeId> = was.children.iter().copied().filter(is_candidate).collect();
        if wanted == had {
            stable.extend(wanted);
            return stable;
        }
        let index: crate::core::ids::IdMap<NodeId, usize> = had.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        let order: Vec<usize> = wanted.iter().map(|c| index[c]).collect();
        stable.extend(longest_increasing(&order).into_iter().map(|i| wanted[i]));
        stable
    }

    /// Sets what differs on a kept node (its attributes, text, picture, media state, rules).
    fn update(&mut self, id: NodeId, ops: &mut Vec<DomOp>) {
        let (new, old) = (self.new, self.old);
        let (Some(o), Some(n)) = (old.nodes.get(&id), new.nodes.get(&id)) else { return };
        match (&o.kind, &n.kind) {
            (NodeKind::Element(oe), NodeKind::Element(ne)) => {
                let (old_css, new_css) = (old.link_css(oe), new.link_css(ne));
                let attrs_changed = oe.attrs != ne.attrs || old_css != new_css;
                if attrs_changed {
                    let was = sanitize_element(&oe.tag, &oe.attrs, old_css, &old.base, &old.assets);
                    let now = sanitize_element(&ne.tag, &ne.attrs, new_css, &new.base, &new.assets);
                    for (name, value) in &now.attrs {
                        if was.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v) != Some(value) {
                            ops.push(DomOp::SetAttribute { id, name: name.clone(), value: value.clone() });
                        }
                    }
                    for (name, _) in &was.attrs {
                        if !now.attrs.iter().any(|(n, _)| n == name) {
                            ops.push(DomOp::RemoveAttribute { id, name: name.clone() });
                        }
                    }
                    if was.css != now.css {
                        if let Some(css) = now.css {
                            ops.push(DomOp::SetStyleText { id, css });
                        }
                    }
                }
                // A canvas whose size was set lost its bitmap: its picture is drawn again, as
                // one that shows another picture now.
                if attrs_changed || old.frames.get(&id) != new.frames.get(&id) {
                    self.late.extend(new.frame_op(id));
                }
                if old.media.get(&id) != new.media.get(&id) {
                    if let Some(state) = new.media.get(&id) {
                        self.late.push(DomOp::Media { id, state: *state });
                    }
                }
                if let Some(rules) = new.owner_rules.get(&id).filter(|r| old.owner_rules.get(&id) != Some(*r)) {
                    self.late.push(DomOp::SheetRules(new.frame_rules(SheetRef::Owner(id), 0, None, rules)));
                }
            }
            (NodeKind::Text { text: a }, NodeKind::Text { text: b }) => {
                if a != b || old.is_style(o.parent) != new.is_style(n.parent) {
                    ops.push(DomOp::SetText { id, text: new.frame_text(id, b) });
                }
            }
            (NodeKind::Comment { text: a }, NodeKind::Comment { text: b }) if a != b => ops.push(DomOp::SetText { id, text: b.clone() }),
            (NodeKind::ShadowRoot { .. }, NodeKind::ShadowRoot { .. }) if old.adopted.get(&id) != new.adopted.get(&id) => {
                self.late.push(DomOp::Adopt { id, sheets: new.adopted.get(&id).cloned().unwrap_or_default() });
            }
            _ => {}
        }
    }
}

/// Whether the node `id`, `o` in `old` and `n` in `new`, can be shown by the same real node.
fn same_node(old: &VirtualDom, new: &VirtualDom, id: NodeId, o: &VNode, n: &VNode) -> bool {
    match (&o.kind, &n.kind) {
        (NodeKind::Element(oe), NodeKind::Element(ne)) => {
            let shadow = |d: &VirtualDom, v: &VNode| d.shadow_root_of(v).map(|r| (r, d.nodes.get(&r).map(|n| n.kind.clone())));
            oe.tag == ne.tag
                && oe.ns == ne.ns
                && old.link_css(oe).is_some() == new.link_css(ne).is_some()
                && !(oe.form.is_some() && ne.form.is_none())
                && !(old.frames.contains_key(&id) && !new.frames.contains_key(&id))
                && !(old.media.contains_key(&id) && !new.media.contains_key(&id))
                && shadow(old, o) == shadow(new, n)
                && same_rules_source(old, new, id, o, n)
        }
        (NodeKind::ShadowRoot { mode: a }, NodeKind::ShadowRoot { mode: b }) => a == b && o.parent == n.parent,
        (NodeKind::Text { .. }, NodeKind::Text { .. })
        | (NodeKind::Comment { .. }, NodeKind::Comment { .. })
        | (NodeKind::Document, NodeKind::Document)
        | (NodeKind::Doctype { .. }, NodeKind::Doctype { .. }) => true,
        _ => false,
    }
}

/// For an element with CSSOM rules of its own in the new model: whether its sheet's source (its
/// text, or a captured link's CSS) is the same in both models, so that replacing the rules
/// suffices. Rules that went away need the element afresh (its text parsed again).
fn same_rules_source(old: &VirtualDom, new: &VirtualDom, id: NodeId, o: &VNode, n: &VNode) -> bool {
    match (old.owner_rules.get(&id), new.owner_rules.get(&id)) {
        (None, None) => true,
        (Some(_), None) => false,
        (_, Some(_)) => {
            let texts = |d: &VirtualDom, v: &VNode| -> Vec<(NodeId, Option<String>)> {
                v.children
                    .iter()
                    .map(|c| (*c, d.nodes.get(c).and_then(|n| if let NodeKind::Text { text } = &n.kind { Some(text.clone()) } else { None })))
                    .collect()
            };
            let css = |d: &VirtualDom, v: &VNode| if let NodeKind::Element(e) = &v.kind { d.link_css(e).map(str::to_owned) } else { None };
            texts(old, o) == texts(new, n) && css(old, o) == css(new, n)
        }
    }
}

/// Indexes into `seq` of a longest strictly increasing subsequence (patience sorting).
fn longest_increasing(seq: &[usize]) -> Vec<usize> {
    let mut tails: Vec<usize> = Vec::new();
    let mut prev = vec![usize::MAX; seq.len()];
    for i in 0..seq.len() {
        let pos = tails.partition_point(|&t| seq[t] < seq[i]);
        if pos > 0 {
            prev[i] = tails[pos - 1];
        }
        if pos == tails.len() {
            tails.push(i);
        } else {
            tails[pos] = i;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut k = tails.last().copied();
    while let Some(i) = k {
        out.push(i);
        k = (prev[i] != usize::MAX).then_some(prev[i]);
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::longest_increasing;
    use crate::core::event::*;
    use crate::core::player::Player;
    use crate::core::screen::Screen;
    use crate::core::vdom::DomOp;
    use std::collections::HashMap;

    use crate::core::lcg::Lcg;

    fn element(tag: &str, attrs: &[(&str, &str)]) -> NodeKind {
        NodeKind::Element(ElementNode { tag: tag.into(), ns: None, attrs: attrs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(), form: None, css: None })
    }

    /// The recorded page as the generator knows it: node id -> (kind, parent, children).
    #[derive(Default)]
    struct Page {
        nodes: HashMap<NodeId, (NodeKind, Option<NodeId>, Vec<NodeId>)>,
        next: NodeId,
    }

    impl Page {
        fn add(&mut self, id: NodeId, parent: Option<NodeId>, kind: NodeKind) {
            if let Some(p) = parent {
                self.nodes.get_mut(&p).unwrap().2.push(id);
            }
            self.nodes.insert(id, (kind, parent, vec![]));
        }
        /// The subtree at `id`, flat and in document order, as a recorder serialises it.
        fn serialize(&self, id: NodeId) -> Vec<SerializedNode> {
            let mut out = vec![];
            let mut stack = vec![id];
            while let Some(n) = stack.pop() {
                let (kind, parent, children) = &self.nodes[&n];
                out.push(SerializedNode { id: n, parent: *parent, kind: kind.clone() });
                stack.extend(children.iter().rev());
            }
            out
        }
        fn descendants(&self, id: NodeId) -> Vec<NodeId> {
            let mut out = vec![];
            let mut stack = vec![id];
            while let Some(n) = stack.pop() {
                out.push(n);
                stack.extend(self.nodes[&n].2.iter());
            }
            out
        }
        fn detach(&mut self, id: NodeId) {
            if let Some(p) = self.nodes[&id].1 {
                self.nodes.get_mut(&p).unwrap().2.retain(|c| *c != id);
            }
            self.nodes.get_mut(&id).unwrap().1 = None;
        }
        fn remove(&mut self, id: NodeId) {
            self.detach(id);
            for n in self.descendants(id) {
                self.nodes.remove(&n);
            }
        }
        fn ids(&self, pred: impl Fn(&NodeKind) -> bool) -> Vec<NodeId> {
            let mut ids: Vec<NodeId> = self.nodes.iter().filter(|(_, (k, p, _))| p.is_some() && pred(k)).map(|(id, _)| *id).collect();
            ids.sort_unstable();
            ids
        }
    }

    const FIXED: [NodeId; 7] = [1, 2, 3, 20, 21, 22, 10];

    /// A page with a stylesheet, a frame, a canvas, a video, a field and a shadow host.
    fn first_page(frame_host: NodeId) -> Page {
        let mut p = Page { next: 100, ..Page::default() };
        p.add(1, None, NodeKind::Document);
        p.add(10, Some(1), NodeKind::Doctype { name: "html".into(), public_id: String::new(), system_id: String::new() });
        p.add(2, Some(1), element("html", &[]));
        p.add(20, Some(2), element("head", &[]));
        p.add(21, Some(20), element("style", &[]));
        p.add(22, Some(21), NodeKind::Text { text: "p{color:red}".into() });
        p.add(3, Some(2), element("body", &[("class", "a")]));
        p.add(frame_host, Some(3), element("iframe", &[]));
        p.add(31, Some(3), element("canvas", &[("width", "10")]));
        p.add(32, Some(3), element("video", &[]));
        p.add(33, Some(3), element("input", &[("value", "v")]));
        p.add(34, Some(3), element("x-card", &[]));
        p.add(35, Some(34), NodeKind::ShadowRoot { mode: ShadowMode::Open });
        p.add(36, Some(35), element("span", &[]));
        p.add(37, Some(36), NodeKind::Text { text: "in shadow".into() });
        for i in 0..4 {
            let div = 40 + i * 3;
            p.add(div, Some(3), element("div", &[("id", &format!("d{i}"))]));
            p.add(div + 1, Some(div), element("p", &[]));
            p.add(div + 2, Some(div + 1), NodeKind::Text { text: format!("text {i}") });
        }
        p
    }

    fn frame_page() -> Page {
        let mut p = Page { next: 100, ..Page::default() };
        p.add(1, None, NodeKind::Document);
        p.add(2, Some(1), element("html", &[]));
        p.add(3, Some(2), element("body", &[]));
        p.add(4, Some(3), NodeKind::Text { text: "frame".into() });
        p
    }

    fn snapshot(t: f64, page: u32, frame: FrameId, p: &Page) -> Event {
        let snap = Snapshot { url: format!("http://127.0.0.1/{page}/{frame}"), title: String::new(), width: 800, height: 600, nodes: p.serialize(1), scrolls: vec![], focus: None };
        Event { t, page, frame, data: EventData::Snapshot(snap) }
    }

    /// A random session: two pages of random mutations (inserts, removals, moves, attributes,
    /// texts, a `<style>` and its CSSOM rules, constructed sheets, shadow roots replaced), form
    /// input, scrolls, pictures, media, selection, focus and pointer moves in the page and in a
    /// frame whose `<iframe>` is replaced now and then.
    fn random_session(seed: u64, steps: usize) -> Vec<Event> {
        let mut rng = Lcg(seed);
        let mut page_no = 0;
        let mut host = 30;
        let mut child: FrameId = 7;
        let mut page = first_page(host);
        let mut frame = frame_page();
        let mut events = vec![
            snapshot(0.0, 0, 0, &page),
            Event { t: 0.5, page: 0, frame: 0, data: EventData::FrameHost { host, child } },
            snapshot(1.0, 0, child, &frame),
        ];
        let mut sheet_rules = 0;
        for step in 0..steps {
            let t = 10.0 + step as f64 * 10.0;
            let ev = |data| Event { t, page: page_no, frame: 0, data };
            if step == steps * 2 / 3 {
                page_no = 1;
                host += 1000;
                child += 1;
                page = first_page(host);
                frame = frame_page();
                events.push(snapshot(t, page_no, 0, &page));
                events.push(Event { t: t + 0.5, page: page_no, frame: 0, data: EventData::FrameHost { host, child } });
                events.push(snapshot(t + 1.0, page_no, child, &frame));
                continue;
            }
            let elements = page.ids(|k| matches!(k, NodeKind::Element(e) if !["style", "iframe", "input", "canvas", "video"].contains(&e.tag.as_str())));
            let texts = page.ids(|k| matches!(k, NodeKind::Text { .. }));
            let movable: Vec<NodeId> = page.ids(|_| true).into_iter().filter(|id| !FIXED.contains(id) && !matches!(page.nodes[id].0, NodeKind::ShadowRoot { .. })).collect();
            let mut batch = MutationBatch::default();
            match rng.below(17) {
                0..=2 => {
                    // Insert a new subtree somewhere.
                    let parent = elements[rng.below(elements.len())];
                    let siblings = page.nodes[&parent].2.clone();
                    let before = siblings.get(rng.below(siblings.len() + 1)).copied().filter(|b| !matches!(page.nodes[b].0, NodeKind::ShadowRoot { .. }));
                    let id = page.next;
                    page.next += 3;
                    let kind = element(["div", "span", "li", "b"][rng.below(4)], &[("class", ["x", "y", "z"][rng.below(3)])]);
                    page.add(id, Some(parent), kind);
                    if let Some(b) = before {
                        let kids = &mut page.nodes.get_mut(&parent).unwrap().2;
                        kids.pop();
                        let pos = kids.iter().position(|c| *c == b).unwrap();
                        kids.insert(pos, id);
                    }
                    page.add(id + 1, Some(id), NodeKind::Text { text: format!("new {id}") });
                    if rng.chance(40) {
                        page.add(id + 2, Some(id), element("i", &[("title", "t")]));
                    }
                    batch.adds.push(Addition { parent, before, nodes: page.serialize(id) });
                }
                3 if !movable.is_empty() => {
                    let id = movable[rng.below(movable.len())];
                    batch.removes.push(Removal { parent: page.nodes[&id].1.unwrap(), id });
                    page.remove(id);
                }
                4 | 5 if !movable.is_empty() => {
                    // Move a node (with its subtree) under another parent or among its siblings.
                    let id = movable[rng.below(movable.len())];
                    let inside = page.descendants(id);
                    let targets: Vec<NodeId> = elements.iter().copied().filter(|e| !inside.contains(e)).collect();
                    let parent = targets[rng.below(targets.len())];
                    batch.removes.push(Removal { parent: page.nodes[&id].1.unwrap(), id });
                    page.detach(id);
                    let siblings: Vec<NodeId> = page.nodes[&parent].2.iter().copied().filter(|c| !matches!(page.nodes[c].0, NodeKind::ShadowRoot { .. })).collect();
                    let before = siblings.get(rng.below(siblings.len() + 1)).copied();
                    let kids = &mut page.nodes.get_mut(&parent).unwrap().2;
                    match before {
                        Some(b) => {
                            let pos = kids.iter().position(|c| *c == b).unwrap();
                            kids.insert(pos, id);
                        }
                        None => kids.push(id),
                    }
                    page.nodes.get_mut(&id).unwrap().1 = Some(parent);
                    batch.adds.push(Addition { parent, before, nodes: page.serialize(id) });
                }
                6 | 7 => {
                    let all = page.ids(|k| matches!(k, NodeKind::Element(_)));
                    let id = all[rng.below(all.len())];
                    let (name, value) = match rng.below(4) {
                        0 => ("class", Some(["x", "y", "a b"][rng.below(3)].to_string())),
                        1 => ("data-n", Some(step.to_string())),
                        2 => ("data-n", None),
                        _ => ("width", Some((10 + rng.below(3)).to_string())),
                    };
                    if let NodeKind::Element(e) = &mut page.nodes.get_mut(&id).unwrap().0 {
                        e.attrs.retain(|(n, _)| n != name);
                        if let Some(v) = &value {
                            e.attrs.push((name.to_string(), v.clone()));
                        }
                    }
                    batch.attrs.push(AttributeChange { id, name: name.into(), value });
                }
                8 if !texts.is_empty() => {
                    let id = texts[rng.below(texts.len())];
                    let text = if page.nodes[&id].1 == Some(21) { format!("p{{margin:{step}px}}") } else { format!("t{step}") };
                    page.nodes.get_mut(&id).unwrap().0 = NodeKind::Text { text: text.clone() };
                    batch.texts.push(TextChange { id, text });
                }
                9 => {
                    let sheet = if rng.chance(50) { SheetRef::Owner(21) } else { SheetRef::Sheet(1) };
                    sheet_rules += 1;
                    let whole = rng.chance(30);
                    events.push(ev(EventData::SheetRules(SheetRules { sheet, start: 0, deleted: if whole { None } else { Some(0) }, rules: vec![format!("b{{top:{sheet_rules}px}}")] })));
                    if matches!(sheet, SheetRef::Sheet(_)) && rng.chance(50) {
                        let target = if rng.chance(50) { 1 } else { 35 };
                        events.push(ev(EventData::Adopted { target, sheets: if rng.chance(80) { vec![1] } else { vec![] } }));
                    }
                    continue;
                }
                10 => {
                    let state = if rng.chance(80) { FormState::Value { value: format!("typed {step}") } } else { FormState::Masked { filled: true } };
                    events.push(ev(EventData::Input { target: 33, state }));
                    continue;
                }
                11 => {
                    let target = [1, 3, 40, 43][rng.below(4)];
                    events.push(ev(EventData::Scroll { target, x: 0.0, y: (step % 7) as f64 * 10.0 }));
                    continue;
                }
                12 => {
                    let data = match rng.below(3) {
                        0 => EventData::CanvasFrame { target: 31, hash: format!("{:064}", step % 5), width: 10, height: 10 },
                        1 => EventData::Media { target: 32, state: MediaState { paused: rng.chance(50), time: step as f64, rate: 1.0, muted: false, volume: 1.0 } },
                        _ => {
                            let point = texts.get(rng.below(texts.len())).map(|&node| SelectionPoint { node, offset: 1 });
                            EventData::Selection { anchor: point, focus: point }
                        }
                    };
                    events.push(ev(data));
                    continue;
                }
                13 => {
                    let all = page.ids(|k| matches!(k, NodeKind::Element(_)));
                    let target = if rng.chance(20) { None } else { Some(all[rng.below(all.len())]) };
                    events.push(ev(EventData::Focus { target }));
                    continue;
                }
                14 => {
                    let in_frame = rng.chance(30);
                    let data = EventData::PointerMove { x: step as f64, y: 1.0 };
                    events.push(Event { t, page: page_no, frame: if in_frame { child } else { 0 }, data });
                    continue;
                }
                15 => {
                    // In the frame's document.
                    let id = frame.next;
                    frame.next += 1;
                    frame.add(id, Some(3), NodeKind::Text { text: format!("f{step}") });
                    let batch = MutationBatch { adds: vec![Addition { parent: 3, before: None, nodes: frame.serialize(id) }], ..Default::default() };
                    events.push(Event { t, page: page_no, frame: child, data: EventData::Mutation(batch) });
                    continue;
                }
                _ => {
                    if rng.chance(50) {
                        // The iframe is replaced: a new element showing a new frame.
                        if let Some(parent) = page.nodes.get(&host).and_then(|n| n.1) {
                            batch.removes.push(Removal { parent, id: host });
                            page.remove(host);
                        }
                        host = page.next;
                        page.next += 3;
                        child += 1;
                        page.add(host, Some(3), element("iframe", &[]));
                        batch.adds.push(Addition { parent: 3, before: None, nodes: page.serialize(host) });
                        events.push(ev(EventData::Mutation(std::mem::take(&mut batch))));
                        events.push(Event { t: t + 1.0, page: page_no, frame: 0, data: EventData::FrameHost { host, child } });
                        frame = frame_page();
                        events.push(snapshot(t + 2.0, page_no, child, &frame));
                        continue;
                    }
                    // The shadow root is replaced by a new one.
                    let root = page.next;
                    page.next += 3;
                    if let Some(old) = page.nodes.get(&34).and_then(|h| h.2.first().copied()) {
                        page.remove(old);
                    }
                    if page.nodes.contains_key(&34) {
                        page.add(root, Some(34), NodeKind::ShadowRoot { mode: ShadowMode::Open });
                        let kids = &mut page.nodes.get_mut(&34).unwrap().2;
                        kids.pop();
                        kids.insert(0, root);
                        page.add(root + 1, Some(root), NodeKind::Text { text: format!("root {root}") });
                        batch.adds.push(Addition { parent: 34, before: None, nodes: page.serialize(root) });
                    }
                }
            }
            events.push(ev(EventData::Mutation(batch)));
        }
        events
    }

    /// What a fresh replay shows at `at`.
    fn fresh(events: &[Event], duration: f64, at: f64) -> (String, String) {
        let mut player = Player::new(events.to_vec(), 0.0, duration);
        let mut screen = Screen::default();
        screen.apply(&player.seek(at));
        (screen.outline(), player.dom().outline())
    }

    #[test]
    fn seeks_in_any_order_and_play_show_what_a_fresh_replay_shows() {
        let mut diffs = 0;
        for seed in 1..=12u64 {
            let events = random_session(seed, 400);
            let duration = events.last().unwrap().t;
            let mut rng = Lcg(seed * 31);
            let mut player = Player::new(events.clone(), 0.0, duration);
            let mut screen = Screen::default();
            for round in 0..40 {
                let at = match rng.below(4) {
                    0 => duration,
                    1 => (player.position() + rng.below(200) as f64).min(duration),
                    _ => rng.below(duration as usize) as f64,
                };
                let ops = player.seek(at);
                assert_eq!(player.dom().top().unreachable(), Vec::<NodeId>::new(), "seed {seed} round {round}");
                diffs += usize::from(!ops.iter().any(|op| matches!(op, DomOp::Reset { .. })));
                screen.apply(&ops);
                let (expected, model) = fresh(&events, duration, at);
                assert_eq!(player.dom().outline(), model, "seed {seed} round {round}: model at {at}");
                assert_eq!(screen.outline(), expected, "seed {seed} round {round}: shown at {at}");
                if rng.chance(30) {
                    // Play a little: live operations, then seek again from there.
                    screen.apply(&player.play()); // from the start again when it had ended
                    for _ in 0..rng.below(5) {
                        screen.apply(&player.tick(rng.below(60) as f64 + 1.0));
                    }
                    player.pause();
                }
            }
        }
        // The rest were seeks to the other page, or took away a pointer drawn in a frame.
        assert!(diffs >= 12 * 40 / 3, "only {diffs} of {} seeks were diffs", 12 * 40);
    }

    #[test]
    fn longest_increasing_run_is_found() {
        let seq = [3, 0, 1, 5, 2, 4];
        let picked: Vec<usize> = longest_increasing(&seq).into_iter().map(|i| seq[i]).collect();
        assert_eq!(picked, vec![0, 1, 2, 4]);
        assert!(longest_increasing(&[]).is_empty());
        assert_eq!(longest_increasing(&[2, 1, 0]).len(), 1);
    }
}
