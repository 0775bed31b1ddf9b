//! Turns the raw records of one MutationObserver callback into one [`MutationBatch`]: the net
//! effect of the task.
//!
//! A task may add a node, change it and remove it again, or add a thousand nodes one by one. The
//! batch records only what the replay needs to reach the same end state: removals of nodes the
//! replay already has, each inserted subtree once (serialised as it is at the end of the task, so
//! later changes inside it are already included), and the final value of each attribute and text
//! that changed on nodes that were already recorded. The DOM is reached through [`DomTree`], so
//! this runs on the host against a fake tree in tests and against web-sys in the page.
//!
//! Shadow roots are children of their hosts here (see [`DomTree::parent`]). Attaching one makes
//! no mutation record, so a recorded element that is the target of a record is also checked for
//! a shadow root the recording does not have yet ([`late_shadow_roots`]); the recorder calls that
//! for other candidates too (custom elements that were not defined yet when recorded).

use crate::core::ids::{IdMap, IdSet};

use crate::core::event::{Addition, AttributeChange, MutationBatch, NodeId, Removal, SerializedNode, TextChange};

/// What the coalescer needs to know about the live DOM.
pub trait DomTree {
    /// A live node handle.
    type Node: Clone;

    /// The node's id if the recorder has assigned one.
    fn id(&self, node: &Self::Node) -> Option<NodeId>;
    /// The node's id, assigning a fresh one if it has none; the flag is true when it was fresh.
    fn id_or_assign(&mut self, node: &Self::Node) -> (NodeId, bool);
    /// The node's parent; a shadow root's parent is its host (the recording's tree, not the DOM's).
    fn parent(&self, node: &Self::Node) -> Option<Self::Node>;
    /// The element's shadow root, when it has one the recorder can reach (open, or closed through
    /// the extension API).
    fn shadow_root(&self, node: &Self::Node) -> Option<Self::Node>;
    /// The node's next sibling.
    fn next_sibling(&self, node: &Self::Node) -> Option<Self::Node>;
    /// Whether the node is currently in the recorded document.
    fn is_connected(&self, node: &Self::Node) -> bool;
    /// Serialises the node and its subtree as they are now (root first, document order),
    /// assigning ids to nodes without one.
    fn serialize(&mut self, node: &Self::Node) -> Vec<SerializedNode>;
    /// The attribute's current value as the recording may hold it.
    fn attribute(&mut self, node: &Self::Node, name: &str) -> AttributeRead;
    /// The current data of a text or comment node, as the recording may hold it.
    fn text(&self, node: &Self::Node) -> String;
    /// Drops the node's id: it is not in the replay, and will be recorded afresh.
    fn forget(&mut self, node: &Self::Node);
}

/// The recordable state of an attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeRead {
    /// The attribute has this value.
    Value(String),
    /// The attribute is absent.
    Removed,
    /// The attribute must not be recorded (privacy policy).
    Withheld,
}

/// One MutationObserver record, reduced to what the coalescer uses.
#[derive(Clone, Debug)]
pub enum RawRecord<N> {
    /// `childList`: nodes added to and removed from `target`.
    ChildList {
        /// The parent.
        target: N,
        /// addedNodes.
        added: Vec<N>,
        /// removedNodes.
        removed: Vec<N>,
    },
    /// `attributes`: attribute `name` of `target` changed.
    Attribute {
        /// The element.
        target: N,
        /// attributeName (with its namespace prefix, if any).
        name: String,
    },
    /// `characterData`: the data of a text or comment node changed.
    Text {
        /// The node.
        target: N,
    },
}

/// An inserted subtree left for the snapshot walk to serialise in slices: the node, the
/// recorded parent it is under, and that parent's id. The node has no id.
pub type Deferred<N> = (N, N, NodeId);

/// Coalesces the records of one callback into the batch the replay applies.
pub fn coalesce<T: DomTree>(tree: &mut T, records: impl IntoIterator<Item = RawRecord<T::Node>>) -> MutationBatch {
    coalesce_deferring(tree, records, false).0
}

/// Like [`coalesce`], but with `defer` the inserted subtrees are not serialised here: they are
/// returned (last first) for [`crate::core::walk::SnapshotWalk::defer`], so that a task that
/// inserts a huge subtree (a page being parsed, a big render) does not get a huge task of
/// recording on top; their ids are dropped, so the batch's other changes ignore them.
pub fn coalesce_deferring<T: DomTree>(
    tree: &mut T,
    records: impl IntoIterator<Item = RawRecord<T::Node>>,
    defer: bool,
) -> (MutationBatch, Vec<Deferred<T::Node>>) {
    let mut deferred = Vec::new();
    let mut batch = MutationBatch::default();
    // Nodes that got their id in this batch: the replay has never seen them.
    let mut fresh: IdSet<NodeId> = IdSet::default();
    // Added nodes by id, in the order first added, with their handles.
    let mut added: Vec<(NodeId, T::Node)> = Vec::new();
    let mut added_ids: IdSet<NodeId> = IdSet::default();
    let mut attr_targets: Vec<(T::Node, String)> = Vec::new();
    let mut text_targets: Vec<T::Node> = Vec::new();
    // Recorded elements that records targeted: one may have attached a shadow root meanwhile.
    let mut hosts: Vec<T::Node> = Vec::new();
    let mut host_ids: IdSet<NodeId> = IdSet::default();
    let mut note_host = |tree: &T, node: &T::Node| {
        if let Some(id) = tree.id(node) {
            if host_ids.insert(id) {
                hosts.push(node.clone());
            }
        }
    };

    for record in records {
        match record {
            RawRecord::ChildList { target, added: adds, removed } => {
                note_host(tree, &target);
                let parent = tree.id(&target);
                for node in &removed {
                    if let (Some(parent), Some(id)) = (parent, tree.id(node)) {
                        if !fresh.contains(&id) {
                            batch.removes.push(Removal { parent, id });
                        }
                    }
                }
                for node in adds {
                    let (id, is_fresh) = tree.id_or_assign(&node);
                    if is_fresh {
                        fresh.insert(id);
                    }
                    if added_ids.insert(id) {
                        added.push((id, node));
                    }
                }
            }
            RawRecord::Attribute { target, name } => {
                note_host(tree, &target);
                attr_targets.push((target, name));
            }
            RawRecord::Text { target } => text_targets.push(target),
        }
    }

    // Keep the added nodes still in the document whose parent the replay will have.
    let pending: IdSet<NodeId> =
        added.iter().filter(|(_, n)| tree.is_connected(n)).map(|(id, _)| *id).collect();
    let mut emitted: IdSet<NodeId> = IdSet::default();
    let mut serialized: IdSet<NodeId> = IdSet::default();
    let mut covered: IdMap<NodeId, bool> = IdMap::default();
    // Last added first: nodes usually arrive in document order (the parser appends them), so
    // each one's next sibling is then already emitted and is its anchor at once, instead of a
    // scan over every later sibling (quadratic on a page that appends thousands at a time).
    // The additions are applied in this order, so every anchor exists when it is used.
    for (id, node) in added.iter().rev() {
        if !pending.contains(id) || emitted.contains(id) {
            continue;
        }
        let Some(parent) = tree.parent(node) else { continue };
        // Covered by an ancestor that is inserted in this batch too (there is none to look for
        // when this is the only one: the usual small batch, on a deep page a walk to the root).
        if pending.len() > 1 && has_pending_ancestor(tree, &parent, &pending, &mut covered) {
            continue;
        }
        let Some(parent_id) = tree.id(&parent) else { continue };
        if defer {
            tree.forget(node);
            deferred.push((node.clone(), parent, parent_id));
            continue;
        }
        let before = next_present_sibling(tree, node, &pending, &emitted);
        let nodes = tree.serialize(node);
        if nodes.is_empty() {
            continue; // a node that is not recorded (a processing instruction): never an anchor
        }
        serialized.extend(nodes.iter().map(|n| n.id));
        emitted.insert(*id);
        batch.adds.push(Addition { parent: parent_id, before, nodes });
    }

    let hosts: Vec<T::Node> =
        hosts.into_iter().filter(|h| tree.id(h).is_some_and(|id| !fresh.contains(&id) && !serialized.contains(&id))).collect();
    for addition in late_shadow_roots(tree, hosts) {
        serialized.extend(addition.nodes.iter().map(|n| n.id));
        batch.adds.push(addition);
    }

    let mut seen_attrs: IdSet<(NodeId, String)> = IdSet::default();
    for (node, name) in attr_targets {
        let Some(id) = tree.id(&node) else { continue };
        if serialized.contains(&id) || fresh.contains(&id) || !tree.is_connected(&node) {
            continue;
        }
        if !seen_attrs.insert((id, name.clone())) {
            continue;
        }
        let value = match tree.attribute(&node, &name) {
            AttributeRead::Value(v) => Some(v),
            AttributeRead::Removed => None,
            AttributeRead::Withheld => continue,
        };
        batch.attrs.push(AttributeChange { id, name, value });
    }

    let mut seen_texts: IdSet<NodeId> = IdSet::default();
    for node in text_targets {
        let Some(id) = tree.id(&node) else { continue };
        if serialized.contains(&id) || fresh.contains(&id) || !tree.is_connected(&node) || !seen_texts.insert(id) {
            continue;
        }
        batch.texts.push(TextChange { id, text: tree.text(&node) });
    }
    (batch, deferred)
}

/// Additions for the shadow roots of recorded, connected `hosts` that the recording does not have
/// yet (attached after the host was recorded): each root with its subtree, under its host.
pub fn late_shadow_roots<T: DomTree>(tree: &mut T, hosts: impl IntoIterator<Item = T::Node>) -> Vec<Addition> {
    let mut adds = Vec::new();
    for host in hosts {
        let Some(host_id) = tree.id(&host) else { continue };
        let Some(root) = tree.shadow_root(&host) else { continue };
        if tree.id(&root).is_some() || !tree.is_connected(&host) {
            continue;
        }
        let nodes = tree.serialize(&root);
        if !nodes.is_empty() {
            adds.push(Addition { parent: host_id, before: None, nodes });
        }
    }
    adds
}

/// Whether `start` or one of its ancestors is inserted in this batch. Answers are remembered per
/// ancestor for the batch, so many nodes under one deep parent cost one walk up, not one each.
fn has_pending_ancestor<T: DomTree>(tree: &T, start: &T::Node, pending: &IdSet<NodeId>, covered: &mut IdMap<NodeId, bool>) -> bool {
    let mut chain: Vec<NodeId> = Vec::new();
    let mut cursor = Some(start.clone());
    let mut answer = false;
    while let Some(node) = cursor {
        let id = tree.id(&node);
        if let Some(id) = id {
            if let Some(&known) = covered.get(&id) {
                answer = known;
                break;
            }
            if pending.contains(&id) {
                answer = true;
                break;
            }
            chain.push(id);
        }
        cursor = tree.parent(&node);
    }
    for id in chain {
        covered.insert(id, answer);
    }
    answer
}

/// The first following sibling the replay will already hold when this node is inserted: one that
/// is not inserted in this batch, or one inserted earlier in it.
fn next_present_sibling<T: DomTree>(
    tree: &T,
    node: &T::Node,
    pending: &IdSet<NodeId>,
    emitted: &IdSet<NodeId>,
) -> Option<NodeId> {
    let mut cursor = tree.next_sibling(node);
    while let Some(sibling) = cursor {
        if let Some(id) = tree.id(&sibling) {
            if !pending.contains(&id) || emitted.contains(&id) {
                return Some(id);
            }
        }
        cursor = tree.next_sibling(&sibling);
    }
    None
}

#[cfg(test)]
pub(crate) mod fake {
    //! An arena DOM for host tests of the coalescer and of the replay.
    use super::*;
    use crate::core::event::{ElementNode, NodeKind, ShadowMode};

    /// The tag of fake shadow roots.
    pub const SHADOW: &str = "#shadow-root";

    /// A node of the fake tree. A shadow root has the tag [`SHADOW`], its host as `parent`, and
    /// is its host's `shadow` (not one of its `children`).
    #[derive(Clone, Debug)]
    pub struct FakeNode {
        pub tag: Option<String>,
        pub text: String,
        pub attrs: Vec<(String, String)>,
        pub parent: Option<usize>,
        pub children: Vec<usize>,
        pub shadow: Option<usize>,
        pub id: Option<NodeId>,
    }

    /// Arena tree; index 0 is the document.
    pub struct FakeDom {
        pub nodes: Vec<FakeNode>,
        pub next_id: NodeId,
        /// How many times `next_sibling` was asked (to check the coalescer stays linear).
        pub sibling_steps: std::cell::Cell<usize>,
    }

    impl FakeDom {
        pub fn new() -> Self {
            let doc = FakeNode { tag: None, text: String::new(), attrs: vec![], parent: None, children: vec![], shadow: None, id: None };
            let mut dom = FakeDom { nodes: vec![doc], next_id: 1, sibling_steps: Default::default() };
            dom.id_or_assign(&0);
            dom
        }
        pub fn element(&mut self, tag: &str) -> usize {
            self.nodes.push(FakeNode { tag: Some(tag.into()), text: String::new(), attrs: vec![], parent: None, children: vec![], shadow: None, id: None });
            self.nodes.len() - 1
        }
        pub fn text_node(&mut self, text: &str) -> usize {
            self.nodes.push(FakeNode { tag: None, text: text.into(), attrs: vec![], parent: None, children: vec![], shadow: None, id: None });
            self.nodes.len() - 1
        }
        /// Attaches a shadow root to `host` (which must not have one) and returns it.
        pub fn attach_shadow(&mut self, host: usize) -> usize {
            assert!(self.nodes[host].shadow.is_none(), "one shadow root per host");
            let root = self.element(SHADOW);
            self.nodes[root].parent = Some(host);
            self.nodes[host].shadow = Some(root);
            root
        }
        pub fn is_shadow_root(&self, node: usize) -> bool {
            self.nodes[node].tag.as_deref() == Some(SHADOW)
        }
        pub fn insert(&mut self, parent: usize, child: usize, before: Option<usize>) {
            self.detach(child);
            let pos = before.and_then(|b| self.nodes[parent].children.iter().position(|&c| c == b));
            match pos {
                Some(p) => self.nodes[parent].children.insert(p, child),
                None => self.nodes[parent].children.push(child),
            }
            self.nodes[child].parent = Some(parent);
        }
        pub fn detach(&mut self, child: usize) {
            if let Some(p) = self.nodes[child].parent.take() {
                self.nodes[p].children.retain(|&c| c != child);
            }
        }
        pub fn set_attr(&mut self, node: usize, name: &str, value: &str) {
            let attrs = &mut self.nodes[node].attrs;
            match attrs.iter_mut().find(|(n, _)| n == name) {
                Some(a) => a.1 = value.into(),
                None => attrs.push((name.into(), value.into())),
            }
        }
    }

    impl DomTree for FakeDom {
        type Node = usize;
        fn id(&self, node: &usize) -> Option<NodeId> {
            self.nodes[*node].id
        }
        fn id_or_assign(&mut self, node: &usize) -> (NodeId, bool) {
            match self.nodes[*node].id {
                Some(id) => (id, false),
                None => {
                    let id = self.next_id;
                    self.next_id += 1;
                    self.nodes[*node].id = Some(id);
                    (id, true)
                }
            }
        }
        fn parent(&self, node: &usize) -> Option<usize> {
            self.nodes[*node].parent
        }
        fn shadow_root(&self, node: &usize) -> Option<usize> {
            self.nodes[*node].shadow
        }
        fn next_sibling(&self, node: &usize) -> Option<usize> {
            self.sibling_steps.set(self.sibling_steps.get() + 1);
            let p = self.nodes[*node].parent?;
            let siblings = &self.nodes[p].children;
            let i = siblings.iter().position(|c| c == node)?;
            siblings.get(i + 1).copied()
        }
        fn is_connected(&self, node: &usize) -> bool {
            let mut n = *node;
            loop {
                if n == 0 {
                    return true;
                }
                match self.nodes[n].parent {
                    Some(p) => n = p,
                    None => return false,
                }
            }
        }
        fn serialize(&mut self, node: &usize) -> Vec<SerializedNode> {
            let mut out = vec![];
            if self.nodes[*node].tag.as_deref() == Some("?pi") {
                return out; // like a processing instruction: not recorded
            }
            let mut stack = vec![(*node, None)];
            while let Some((n, parent)) = stack.pop() {
                let (id, _) = self.id_or_assign(&n);
                let fake = &self.nodes[n];
                let kind = match (&fake.tag, n) {
                    (_, 0) => NodeKind::Document,
                    (Some(tag), _) if tag == SHADOW => NodeKind::ShadowRoot { mode: ShadowMode::Open },
                    (Some(tag), _) => NodeKind::Element(ElementNode {
                        tag: tag.clone(),
                        ns: None,
                        attrs: fake.attrs.clone(),
                        form: None,
                        css: None,
                    }),
                    (None, _) => NodeKind::Text { text: fake.text.clone() },
                };
                stack.extend(fake.children.iter().rev().map(|&c| (c, Some(id))));
                stack.extend(fake.shadow.map(|r| (r, Some(id)))); // the shadow root comes first
                out.push(SerializedNode { id, parent, kind });
            }
            out
        }
        fn attribute(&mut self, node: &usize, name: &str) -> AttributeRead {
            if name == "secret" {
                return AttributeRead::Withheld;
            }
            match self.nodes[*node].attrs.iter().find(|(n, _)| n == name) {
                Some((_, v)) => AttributeRead::Value(v.clone()),
                None => AttributeRead::Removed,
            }
        }
        fn text(&self, node: &usize) -> String {
            self.nodes[*node].text.clone()
        }
        fn forget(&mut self, node: &usize) {
            self.nodes[*node].id = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeDom;
    use super::*;

    fn add(target: usize, added: Vec<usize>) -> RawRecord<usize> {
        RawRecord::ChildList { target, added, removed: vec![] }
    }
    fn remove(target: usize, removed: Vec<usize>) -> RawRecord<usize> {
        RawRecord::ChildList { target, added: vec![], removed }
    }

    /// A document with <body> holding two paragraphs, all recorded.
    fn recorded_page() -> (FakeDom, usize, usize, usize) {
        let mut dom = FakeDom::new();
        let body = dom.element("body");
        let p1 = dom.element("p");
        let p2 = dom.element("p");
        dom.insert(0, body, None);
        dom.insert(body, p1, None);
        dom.insert(body, p2, None);
        dom.serialize(&0);
        (dom, body, p1, p2)
    }

    #[test]
    fn added_then_removed_in_one_task_leaves_no_trace() {
        let (mut dom, body, _, _) = recorded_page();
        let div = dom.element("div");
        dom.insert(body, div, None);
        dom.detach(div);
        let batch = coalesce(&mut dom, vec![add(body, vec![div]), remove(body, vec![div])]);
        assert!(batch.is_empty(), "{batch:?}");
    }

    #[test]
    fn subtree_built_in_steps_is_one_addition_with_final_state() {
        let (mut dom, body, p1, _) = recorded_page();
        let div = dom.element("div");
        let span = dom.element("span");
        let text = dom.text_node("hi");
        dom.insert(body, div, Some(p1));
        dom.insert(div, span, None);
        dom.insert(span, text, None);
        dom.set_attr(span, "class", "x");
        let records = vec![
            add(body, vec![div]),
            add(div, vec![span]),
            add(span, vec![text]),
            RawRecord::Attribute { target: span, name: "class".into() },
        ];
        let batch = coalesce(&mut dom, records);
        assert_eq!(batch.adds.len(), 1);
        assert!(batch.attrs.is_empty());
        let a = &batch.adds[0];
        assert_eq!(a.parent, dom.id(&body).unwrap());
        assert_eq!(a.before, dom.id(&p1));
        assert_eq!(a.nodes.len(), 3);
        assert_eq!(a.nodes[1].parent, Some(a.nodes[0].id));
        assert_eq!(a.nodes[2].parent, Some(a.nodes[1].id));
    }

    #[test]
    fn siblings_added_out_of_order_get_anchors_that_rebuild_document_order() {
        let (mut dom, body, _, p2) = recorded_page();
        let a = dom.element("a");
        let b = dom.element("b");
        // appendChild(b) then insertBefore(a, b): records arrive b, a.
        dom.insert(body, b, None);
        dom.insert(body, a, Some(b));
        let batch = coalesce(&mut dom, vec![add(body, vec![b]), add(body, vec![a])]);
        let ids: Vec<_> = batch.adds.iter().map(|x| (x.nodes[0].id, x.before)).collect();
        let (ia, ib) = (dom.id(&a).unwrap(), dom.id(&b).unwrap());
        // Last added first: a has no present sibling after it yet (b is not in the replay), then
        // b is appended after it.
        assert_eq!(ids, vec![(ia, None), (ib, None)]);
        let _ = p2;
    }

    #[test]
    fn in_order_siblings_anchor_on_a_node_the_replay_has() {
        let (mut dom, body, p1, _) = recorded_page();
        let a = dom.element("a");
        let b = dom.element("b");
        dom.insert(body, a, Some(p1));
        dom.insert(body, b, Some(p1));
        let batch = coalesce(&mut dom, vec![add(body, vec![a]), add(body, vec![b])]);
        // Last added first: b goes before p1, then a before b.
        let ids: Vec<_> = batch.adds.iter().map(|x| (x.nodes[0].id, x.before)).collect();
        assert_eq!(ids, vec![(dom.id(&b).unwrap(), dom.id(&p1)), (dom.id(&a).unwrap(), dom.id(&b))]);
    }

    #[test]
    fn unrecorded_nodes_are_never_insertion_anchors() {
        let (mut dom, body, p1, _) = recorded_page();
        let a = dom.element("a");
        let pi = dom.element("?pi");
        // A new <a> before a new processing instruction, both before p1; the PI arrives first.
        dom.insert(body, pi, Some(p1));
        dom.insert(body, a, Some(pi));
        let batch = coalesce(&mut dom, vec![add(body, vec![pi]), add(body, vec![a])]);
        assert_eq!(batch.adds.len(), 1, "{batch:?}");
        assert_eq!(batch.adds[0].before, dom.id(&p1), "anchored on a node the replay has");
    }

    #[test]
    fn thousands_of_appended_siblings_cost_linear_work() {
        let (mut dom, body, _, _) = recorded_page();
        let list = dom.element("ul");
        dom.insert(body, list, None);
        coalesce(&mut dom, vec![add(body, vec![list])]);
        // The parser appends 5,000 items to a recorded list in one task, one record each.
        let items: Vec<usize> = (0..5_000).map(|_| dom.element("li")).collect();
        for &li in &items {
            dom.insert(list, li, None);
        }
        dom.sibling_steps.set(0);
        let batch = coalesce(&mut dom, items.iter().map(|&li| add(list, vec![li])));
        assert_eq!(batch.adds.len(), 5_000);
        assert!(dom.sibling_steps.get() <= 2 * 5_000, "{} sibling steps for 5,000 appended nodes", dom.sibling_steps.get());
        // Applied in order, the additions rebuild document order.
        let mut order: Vec<NodeId> = Vec::new();
        for a in &batch.adds {
            let at = a.before.and_then(|b| order.iter().position(|&x| x == b)).unwrap_or(order.len());
            order.insert(at, a.nodes[0].id);
        }
        let expected: Vec<NodeId> = items.iter().map(|li| dom.id(li).unwrap()).collect();
        assert_eq!(order, expected);
    }

    #[test]
    fn moved_node_is_removed_then_reinserted_with_its_id() {
        let (mut dom, body, p1, p2) = recorded_page();
        let p1_id = dom.id(&p1).unwrap();
        dom.insert(body, p1, None); // move p1 after p2
        let batch = coalesce(&mut dom, vec![remove(body, vec![p1]), add(body, vec![p1])]);
        assert_eq!(batch.removes, vec![Removal { parent: dom.id(&body).unwrap(), id: p1_id }]);
        assert_eq!(batch.adds.len(), 1);
        assert_eq!(batch.adds[0].nodes[0].id, p1_id);
        assert_eq!(batch.adds[0].before, None);
        let _ = p2;
    }

    #[test]
    fn attribute_and_text_changes_keep_only_final_values() {
        let (mut dom, body, p1, _) = recorded_page();
        let t = dom.text_node("a");
        dom.insert(p1, t, None);
        coalesce(&mut dom, vec![add(p1, vec![t])]);
        dom.set_attr(body, "class", "one");
        dom.set_attr(body, "class", "two");
        dom.nodes[t].text = "final".into();
        let records = vec![
            RawRecord::Attribute { target: body, name: "class".into() },
            RawRecord::Attribute { target: body, name: "class".into() },
            RawRecord::Attribute { target: body, name: "secret".into() },
            RawRecord::Attribute { target: body, name: "gone".into() },
            RawRecord::Text { target: t },
            RawRecord::Text { target: t },
        ];
        let batch = coalesce(&mut dom, records);
        let body_id = dom.id(&body).unwrap();
        assert_eq!(
            batch.attrs,
            vec![
                AttributeChange { id: body_id, name: "class".into(), value: Some("two".into()) },
                AttributeChange { id: body_id, name: "gone".into(), value: None },
            ]
        );
        assert_eq!(batch.texts, vec![TextChange { id: dom.id(&t).unwrap(), text: "final".into() }]);
    }

    #[test]
    fn changes_to_detached_nodes_are_dropped() {
        let (mut dom, body, p1, _) = recorded_page();
        dom.detach(p1);
        dom.set_attr(p1, "class", "x");
        let batch = coalesce(&mut dom, vec![remove(body, vec![p1]), RawRecord::Attribute { target: p1, name: "class".into() }]);
        assert_eq!(batch.removes.len(), 1);
        assert!(batch.attrs.is_empty());
    }

    use crate::core::event::{NodeKind, ShadowMode};

    #[test]
    fn a_host_inserted_with_its_shadow_root_carries_it_first() {
        let (mut dom, body, _, _) = recorded_page();
        let host = dom.element("x-card");
        let light = dom.text_node("light");
        dom.insert(host, light, None);
        let root = dom.attach_shadow(host);
        let inner = dom.element("slot");
        dom.insert(root, inner, None);
        dom.insert(body, host, None);
        let batch = coalesce(&mut dom, vec![add(body, vec![host])]);
        assert_eq!(batch.adds.len(), 1);
        let nodes = &batch.adds[0].nodes;
        let (h, r) = (dom.id(&host).unwrap(), dom.id(&root).unwrap());
        assert_eq!(nodes.len(), 4);
        assert_eq!((nodes[1].id, nodes[1].parent, &nodes[1].kind), (r, Some(h), &NodeKind::ShadowRoot { mode: ShadowMode::Open }));
        assert_eq!((nodes[2].id, nodes[2].parent), (dom.id(&inner).unwrap(), Some(r)), "inside the root: the root is the parent");
        assert_eq!((nodes[3].id, nodes[3].parent), (dom.id(&light).unwrap(), Some(h)), "light children after the root");
    }

    #[test]
    fn changes_inside_a_recorded_shadow_root_name_the_root() {
        let (mut dom, body, _, _) = recorded_page();
        let host = dom.element("x-card");
        let root = dom.attach_shadow(host);
        dom.insert(body, host, None);
        coalesce(&mut dom, vec![add(body, vec![host])]);
        let span = dom.element("span");
        dom.insert(root, span, None);
        let batch = coalesce(&mut dom, vec![add(root, vec![span])]);
        assert_eq!(batch.adds.len(), 1);
        assert_eq!(batch.adds[0].parent, dom.id(&root).unwrap());
        dom.detach(span);
        let batch = coalesce(&mut dom, vec![remove(root, vec![span])]);
        assert_eq!(batch.removes, vec![Removal { parent: dom.id(&root).unwrap(), id: dom.id(&span).unwrap() }]);
    }

    #[test]
    fn a_shadow_root_attached_after_recording_is_added_when_its_host_is_touched() {
        let (mut dom, _, p1, _) = recorded_page();
        let root = dom.attach_shadow(p1);
        let inner = dom.text_node("inside");
        dom.insert(root, inner, None);
        // Attaching makes no record: nothing to see until something touches the host.
        assert!(coalesce(&mut dom, Vec::<RawRecord<usize>>::new()).is_empty());
        dom.set_attr(p1, "class", "ready");
        let batch = coalesce(&mut dom, vec![RawRecord::Attribute { target: p1, name: "class".into() }]);
        assert_eq!(batch.attrs.len(), 1);
        assert_eq!(batch.adds.len(), 1, "{batch:?}");
        let a = &batch.adds[0];
        assert_eq!((a.parent, a.before), (dom.id(&p1).unwrap(), None));
        assert_eq!(a.nodes.iter().map(|n| n.id).collect::<Vec<_>>(), vec![dom.id(&root).unwrap(), dom.id(&inner).unwrap()]);
        // Once recorded it is not added again.
        dom.set_attr(p1, "class", "again");
        let batch = coalesce(&mut dom, vec![RawRecord::Attribute { target: p1, name: "class".into() }]);
        assert!(batch.adds.is_empty());
    }

    #[test]
    fn late_roots_need_a_recorded_connected_host() {
        let (mut dom, body, p1, _) = recorded_page();
        let stranger = dom.element("x-new");
        dom.attach_shadow(stranger);
        dom.insert(body, stranger, None); // not recorded: its insertion will carry the root
        dom.attach_shadow(p1);
        dom.detach(p1);
        assert!(late_shadow_roots(&mut dom, vec![stranger, p1]).is_empty());
        dom.insert(body, p1, None);
        assert_eq!(late_shadow_roots(&mut dom, vec![p1]).len(), 1);
    }

    #[test]
    fn a_host_moved_with_changes_inside_its_root_is_one_addition() {
        let (mut dom, body, p1, _) = recorded_page();
        let host = dom.element("x-card");
        let root = dom.attach_shadow(host);
        dom.insert(body, host, None);
        coalesce(&mut dom, vec![add(body, vec![host])]);
        // One task: the host moves into p1 and its shadow root gains a node.
        dom.insert(p1, host, None);
        let b = dom.element("b");
        dom.insert(root, b, None);
        let batch = coalesce(&mut dom, vec![remove(body, vec![host]), add(p1, vec![host]), add(root, vec![b])]);
        assert_eq!(batch.adds.len(), 1, "{batch:?}");
        assert_eq!(batch.adds[0].nodes.len(), 3);
    }
}
