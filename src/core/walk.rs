//! The snapshot of a loaded page, taken in slices so the page never waits for it.
//!
//! A synchronous snapshot of a 200,000-element page blocks the page for seconds (rrweb's does).
//! [`SnapshotWalk`] serialises the document depth first, a slice at a time; the shell runs one
//! slice per task, stops each when its time budget is spent, and lets the page run in between.
//! The first slice becomes the page's `snapshot` event (the document and as much of it as fit);
//! every later slice becomes an ordinary `mutation` batch whose additions insert the next nodes
//! under parents the replay already has.
//!
//! The page may change between slices, and the recording stays exact because of one rule: a node
//! is *recorded* when it has an id, and the coalescer ignores every change under nodes that are
//! not recorded yet (their slice will read them as they are then). The walk keeps its side:
//! - a node waiting on the stack is serialised only if it is still a child of the parent it was
//!   found under and still in the document; otherwise a mutation batch has dealt with it, or it
//!   is somewhere the walk will reach through its new parent;
//! - a node that already has an id when its parent is serialised was recorded once and removed
//!   from the replay since (or got an id while under an unrecorded parent): its id is dropped so
//!   the walk records it afresh;
//! - a slice's subtree goes in before the first following sibling the replay already has, which
//!   is only looked for under parents that mutations inserted into during the walk.
//!
//! A shadow root is walked as the first child of its host ([`WalkTree::children`]).


use crate::core::coalesce::{Deferred, DomTree};
use crate::core::event::{Addition, MutationBatch, NodeId, SerializedNode};
use crate::core::ids::IdSet;

/// What the walk needs of the live DOM beyond what the coalescer needs.
pub trait WalkTree: DomTree {
    /// The node's children, in order, after its shadow root if it has one.
    fn children(&self, node: &Self::Node) -> Vec<Self::Node>;
    /// The node alone (its children are the walk's business), assigning its id; `None` for nodes
    /// that are never recorded (processing instructions and the like).
    fn serialize_node(&mut self, node: &Self::Node, parent: Option<NodeId>) -> Option<SerializedNode>;
    /// Whether two handles are the same node.
    fn same(&self, a: &Self::Node, b: &Self::Node) -> bool;
}

/// How often (in nodes) a slice asks whether its time is up.
const CHECK_EVERY: usize = 32;

/// A node waiting to be serialised, with the recorded parent it was found under.
struct Pending<N> {
    node: N,
    parent: Option<(N, NodeId)>,
}

/// What one slice recorded.
#[derive(Debug, Default, PartialEq)]
pub struct Slice {
    /// The first slice: the document and its first nodes, for the `snapshot` event.
    pub snapshot: Option<Vec<SerializedNode>>,
    /// Later slices: subtrees to insert under nodes the replay already has.
    pub adds: Vec<Addition>,
    /// How many nodes this slice serialised.
    pub nodes: usize,
}

/// A snapshot in progress.
pub struct SnapshotWalk<N> {
    stack: Vec<Pending<N>>,
    /// Parents that mutation batches inserted into during the walk: only under these can a
    /// recorded node follow a node the walk has not reached.
    touched: IdSet<NodeId>,
    /// Whether the page changed since the walk began. Until it does, no node but those the walk
    /// serialised has an id and every waiting node is where it was found: the checks are skipped.
    changed: bool,
    started: bool,
    /// The last subtree root placed under a parent mutations inserted into, with the recorded
    /// sibling it went before: its next sibling goes before the same one, so a parent with
    /// thousands of waiting children is not scanned once per child. Dropped when a mutation batch
    /// inserts or removes under that parent.
    anchor: Option<(NodeId, N, Option<NodeId>)>,
}

impl<N: Clone> SnapshotWalk<N> {
    /// A walk of the subtree at `root` (the document).
    pub fn new(root: N) -> SnapshotWalk<N> {
        SnapshotWalk { stack: vec![Pending { node: root, parent: None }], touched: IdSet::default(), changed: false, started: false, anchor: None }
    }

    /// A walk with nothing to do yet, for subtrees inserted after the snapshot ([`Self::defer`]).
    pub fn continuing() -> SnapshotWalk<N> {
        SnapshotWalk { stack: Vec::new(), touched: IdSet::default(), changed: true, started: true, anchor: None }
    }

    /// Takes over inserted subtrees the coalescer left unserialised (given last first, as
    /// [`crate::core::coalesce::coalesce_deferring`] returns them): they are serialised in
    /// document order, before anything already waiting.
    pub fn defer(&mut self, subtrees: Vec<Deferred<N>>) {
        self.changed = true;
        for (node, parent, parent_id) in subtrees {
            self.touched.insert(parent_id);
            self.stack.push(Pending { node, parent: Some((parent, parent_id)) });
        }
    }

    /// Whether every node has been visited.
    pub fn is_done(&self) -> bool {
        self.stack.is_empty()
    }

    /// Notes a mutation batch recorded while the walk is under way (call it for every batch of
    /// records, even one that recorded nothing: the page changed).
    pub fn note_batch(&mut self, batch: &MutationBatch) {
        self.changed = true;
        self.touched.extend(batch.adds.iter().map(|a| a.parent));
        if let Some((parent, _, _)) = &self.anchor {
            if batch.adds.iter().any(|a| a.parent == *parent) || batch.removes.iter().any(|r| r.parent == *parent) {
                self.anchor = None;
            }
        }
    }

    /// Serialises nodes until the walk is done or `out_of_time` answers true (asked every few
    /// nodes, and never before the first node, so every slice makes progress).
    pub fn step<T: WalkTree<Node = N>>(&mut self, tree: &mut T, mut out_of_time: impl FnMut() -> bool) -> Slice {
        let mut slice = Slice::default();
        let first = !self.started;
        self.started = true;
        // Ids serialised in this slice: a node whose parent is among them joins its subtree.
        let mut here: IdSet<NodeId> = IdSet::default();
        let mut group: Group = None;
        let mut root_group: Option<Vec<SerializedNode>> = None;

        while let Some(Pending { node, parent }) = self.stack.pop() {
            if slice.nodes > 0 && slice.nodes % CHECK_EVERY == 0 && out_of_time() {
                self.stack.push(Pending { node, parent });
                break;
            }
            if self.changed && tree.id(&node).is_some() {
                continue; // a mutation batch recorded it meanwhile
            }
            let parent_id = match &parent {
                Some((p, pid)) => {
                    let still_there =
                        !self.changed || (tree.parent(&node).is_some_and(|now| tree.same(&now, p)) && tree.is_connected(&node));
                    if !still_there {
                        continue;
                    }
                    Some(*pid)
                }
                None => None,
            };
            let joins = parent_id.is_some_and(|p| here.contains(&p));
            let Some(serialized) = tree.serialize_node(&node, if joins { parent_id } else { None }) else { continue };
            let id = serialized.id;
            slice.nodes += 1;
            here.insert(id);
            if !joins {
                // A new subtree: close the previous one.
                close(group.take(), &mut slice.adds, &mut root_group);
                let before = match parent_id {
                    Some(p) if self.touched.contains(&p) => {
                        let follows_anchor = self.anchor.as_ref().is_some_and(|(ap, last, _)| {
                            *ap == p && tree.next_sibling(last).is_some_and(|next| tree.same(&next, &node))
                        });
                        let before = match (&self.anchor, follows_anchor) {
                            (Some((_, _, before)), true) => *before,
                            _ => next_recorded_sibling(tree, &node),
                        };
                        self.anchor = Some((p, node.clone(), before));
                        before
                    }
                    _ => None,
                };
                group = Some((parent_id, before, Vec::new()));
            }
            if let Some((_, _, nodes)) = group.as_mut() {
                nodes.push(serialized);
            }
            let children = tree.children(&node);
            for child in children.into_iter().rev() {
                if self.changed && tree.id(&child).is_some() {
                    tree.forget(&child);
                }
                self.stack.push(Pending { node: child, parent: Some((node.clone(), id)) });
            }
        }
        close(group, &mut slice.adds, &mut root_group);
        if first {
            slice.snapshot = Some(root_group.unwrap_or_default());
        }
        slice
    }
}

/// A subtree being built: (parent, before, nodes); no parent for the document's.
type Group = Option<(Option<NodeId>, Option<NodeId>, Vec<SerializedNode>)>;

/// Ends a subtree: an addition under its parent, or the snapshot's nodes.
fn close(group: Group, adds: &mut Vec<Addition>, root: &mut Option<Vec<SerializedNode>>) {
    match group {
        Some((Some(parent), before, nodes)) => adds.push(Addition { parent, before, nodes }),
        Some((None, _, nodes)) => *root = Some(nodes),
        None => {}
    }
}

fn next_recorded_sibling<T: DomTree>(tree: &T, node: &T::Node) -> Option<NodeId> {
    let mut cursor = tree.next_sibling(node);
    while let Some(sibling) = cursor {
        if let Some(id) = tree.id(&sibling) {
            return Some(id);
        }
        cursor = tree.next_sibling(&sibling);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::coalesce::fake::FakeDom;
    use crate::core::coalesce::{coalesce, coalesce_deferring, RawRecord};
    use crate::core::event::{Event, EventData, Snapshot};
    use crate::core::vdom::{EventModel, VirtualDom};

    impl WalkTree for FakeDom {
        fn children(&self, node: &usize) -> Vec<usize> {
            let n = &self.nodes[*node];
            n.shadow.iter().chain(n.children.iter()).copied().collect()
        }
        fn serialize_node(&mut self, node: &usize, parent: Option<NodeId>) -> Option<SerializedNode> {
            let children = std::mem::take(&mut self.nodes[*node].children);
            let shadow = self.nodes[*node].shadow.take();
            let serialized = self.serialize(node).pop();
            self.nodes[*node].children = children;
            self.nodes[*node].shadow = shadow;
            serialized.map(|n| SerializedNode { parent, ..n })
        }
        fn same(&self, a: &usize, b: &usize) -> bool {
            a == b
        }
    }

    /// One slice of about `nodes` nodes (the clock is out of time after that many).
    fn step_nodes(walk: &mut SnapshotWalk<usize>, dom: &mut FakeDom, nodes: usize) -> Slice {
        let mut budget = nodes;
        walk.step(dom, || {
            budget = budget.saturating_sub(CHECK_EVERY);
            budget == 0
        })
    }

    use crate::core::lcg::Lcg;

    fn snapshot_event(nodes: Vec<SerializedNode>) -> Event {
        let snapshot = Snapshot { url: String::new(), title: String::new(), width: 0, height: 0, nodes, scrolls: vec![], focus: None };
        Event { t: 0.0, page: 0, frame: 0, data: EventData::Snapshot(snapshot) }
    }

    fn mutation_event(batch: MutationBatch) -> Event {
        Event { t: 0.0, page: 0, frame: 0, data: EventData::Mutation(batch) }
    }

    /// The outline a replay of a synchronous snapshot of `dom` shows now.
    fn expected_outline(dom: &FakeDom) -> String {
        let mut fresh = FakeDom { nodes: dom.nodes.clone(), next_id: 1, sibling_steps: Default::default() };
        for n in &mut fresh.nodes {
            n.id = None;
        }
        let mut vdom = VirtualDom::default();
        vdom.apply(&snapshot_event(fresh.serialize(&0)));
        vdom.outline()
    }

    /// A document with `n` elements in nested lists with text.
    fn page(n: usize, rng: &mut Lcg) -> FakeDom {
        let mut dom = FakeDom { nodes: FakeDom::new().nodes, next_id: 1, sibling_steps: Default::default() };
        dom.nodes[0].id = None;
        let mut elements = vec![0];
        for i in 0..n {
            let parent = elements[rng.below(elements.len())];
            let el = dom.element(if i % 3 == 0 { "ul" } else { "li" });
            dom.set_attr(el, "data-i", &i.to_string());
            dom.insert(parent, el, None);
            let t = dom.text_node(&format!("t{i}"));
            dom.insert(el, t, None);
            elements.push(el);
            if i % 7 == 3 && parent != 0 && dom.nodes[parent].shadow.is_none() {
                // Some elements host a shadow root, which later elements may be put into.
                let root = dom.attach_shadow(parent);
                let t = dom.text_node(&format!("shadow{i}"));
                dom.insert(root, t, None);
                elements.push(root);
            }
        }
        dom
    }

    /// Attached nodes other than the document.
    fn attached(dom: &FakeDom) -> Vec<usize> {
        (1..dom.nodes.len()).filter(|&n| dom.is_connected(&n)).collect()
    }

    /// One random page change, with the records a MutationObserver would deliver for it.
    fn mutate(dom: &mut FakeDom, rng: &mut Lcg, round: usize) -> Vec<RawRecord<usize>> {
        let all = attached(dom);
        // Parents: elements and shadow roots. What moves, goes or changes: never a shadow root.
        let parents: Vec<usize> = all.iter().copied().filter(|&n| dom.nodes[n].tag.is_some()).collect();
        let live: Vec<usize> = all.iter().copied().filter(|&n| !dom.is_shadow_root(n)).collect();
        let elements: Vec<usize> = live.iter().copied().filter(|&n| dom.nodes[n].tag.is_some()).collect();
        let pick = |rng: &mut Lcg, from: &[usize]| from[rng.below(from.len())];
        let mut records = Vec::new();
        match rng.below(7) {
            // Attach a shadow root (with content) to an element; something then touches the host.
            6 if !elements.is_empty() => {
                let host = pick(rng, &elements);
                if dom.nodes[host].shadow.is_some() {
                    return records;
                }
                let root = dom.attach_shadow(host);
                let el = dom.element("i");
                dom.insert(root, el, None);
                let t = dom.text_node(&format!("attached{round}"));
                dom.insert(el, t, None);
                dom.set_attr(host, "data-shadow", &round.to_string());
                records.push(RawRecord::Attribute { target: host, name: "data-shadow".into() });
            }
            // Insert a new element (with a child) somewhere, possibly before an existing child.
            0 | 1 => {
                let parent = if parents.is_empty() || rng.below(8) == 0 { 0 } else { pick(rng, &parents) };
                let el = dom.element("b");
                let t = dom.text_node(&format!("new{round}"));
                dom.insert(el, t, None);
                let kids = dom.nodes[parent].children.clone();
                let before = if kids.is_empty() || rng.below(2) == 0 { None } else { Some(kids[rng.below(kids.len())]) };
                dom.insert(parent, el, before);
                records.push(RawRecord::ChildList { target: parent, added: vec![el], removed: vec![] });
            }
            // Remove a node.
            2 if !live.is_empty() => {
                let n = pick(rng, &live);
                let parent = dom.nodes[n].parent.unwrap();
                dom.detach(n);
                records.push(RawRecord::ChildList { target: parent, added: vec![], removed: vec![n] });
            }
            // Move a node under another element (not into its own subtree).
            3 if !live.is_empty() && !parents.is_empty() => {
                let n = pick(rng, &live);
                let target = pick(rng, &parents);
                let mut a = Some(target);
                while let Some(x) = a {
                    if x == n {
                        return records;
                    }
                    a = dom.nodes[x].parent;
                }
                let old = dom.nodes[n].parent.unwrap();
                dom.detach(n);
                records.push(RawRecord::ChildList { target: old, added: vec![], removed: vec![n] });
                let kids = dom.nodes[target].children.clone();
                let before = if kids.is_empty() { None } else { Some(kids[rng.below(kids.len())]) };
                dom.insert(target, n, before);
                records.push(RawRecord::ChildList { target, added: vec![n], removed: vec![] });
            }
            // Change an attribute.
            4 if !elements.is_empty() => {
                let el = pick(rng, &elements);
                dom.set_attr(el, "class", &format!("c{round}"));
                records.push(RawRecord::Attribute { target: el, name: "class".into() });
            }
            // Change a text.
            _ => {
                let texts: Vec<usize> = live.iter().copied().filter(|&n| dom.nodes[n].tag.is_none()).collect();
                if !texts.is_empty() {
                    let t = pick(rng, &texts);
                    dom.nodes[t].text = format!("changed{round}");
                    records.push(RawRecord::Text { target: t });
                }
            }
        }
        records
    }

    /// Walks `dom` `per_slice` nodes at a time with `changes` random changes between slices, and
    /// checks that the replay of what was recorded equals the page, after the walk and after
    /// more changes once it is done.
    fn walk_with_changes(seed: u64, size: usize, per_slice: usize, changes: usize) {
        let mut rng = Lcg(seed);
        let mut dom = page(size, &mut rng);
        let mut walk = SnapshotWalk::new(0usize);
        let mut vdom = VirtualDom::default();
        let mut round = 0;
        let mut slices = 0;
        while !walk.is_done() {
            let slice = step_nodes(&mut walk, &mut dom, per_slice);
            slices += 1;
            if let Some(nodes) = slice.snapshot {
                vdom.apply(&snapshot_event(nodes));
            }
            if !slice.adds.is_empty() {
                vdom.apply(&mutation_event(MutationBatch { adds: slice.adds, ..Default::default() }));
            }
            for _ in 0..changes {
                round += 1;
                let records = mutate(&mut dom, &mut rng, round);
                // Some insertions are left to the walk, as big ones are in the page.
                let (batch, deferred) = coalesce_deferring(&mut dom, records, rng.below(3) == 0);
                walk.note_batch(&batch);
                walk.defer(deferred);
                vdom.apply(&mutation_event(batch));
            }
        }
        assert!(slices > 2, "the walk was sliced ({slices} slices)");
        assert_eq!(vdom.outline(), expected_outline(&dom), "seed {seed}: replay after the walk");
        for _ in 0..50 {
            round += 1;
            let records = mutate(&mut dom, &mut rng, round);
            vdom.apply(&mutation_event(coalesce(&mut dom, records)));
        }
        assert_eq!(vdom.outline(), expected_outline(&dom), "seed {seed}: replay after later changes");
    }

    #[test]
    fn a_sliced_snapshot_of_a_still_page_equals_a_whole_one() {
        walk_with_changes(1, 2_000, 64, 0);
    }

    #[test]
    fn a_sliced_snapshot_stays_exact_while_the_page_changes_between_slices() {
        for seed in 0..40 {
            walk_with_changes(seed, 400, 32, 3);
        }
    }

    #[test]
    fn heavy_changes_between_small_slices() {
        for seed in 100..110 {
            walk_with_changes(seed, 150, 32, 25);
        }
    }

    #[test]
    fn a_wide_parent_that_gains_children_during_the_walk_keeps_its_order() {
        let mut dom = FakeDom { nodes: FakeDom::new().nodes, next_id: 1, sibling_steps: Default::default() };
        dom.nodes[0].id = None;
        let list = dom.element("ul");
        dom.insert(0, list, None);
        let items: Vec<usize> = (0..500).map(|i| {
            let li = dom.element("li");
            dom.set_attr(li, "n", &i.to_string());
            dom.insert(list, li, None);
            li
        }).collect();
        let mut walk = SnapshotWalk::new(0usize);
        let mut vdom = VirtualDom::default();
        let mut round = 0;
        while !walk.is_done() {
            let slice = step_nodes(&mut walk, &mut dom, 64);
            if let Some(nodes) = slice.snapshot {
                vdom.apply(&snapshot_event(nodes));
            }
            vdom.apply(&mutation_event(MutationBatch { adds: slice.adds, ..Default::default() }));
            round += 1;
            // The page appends to the list, and every third round removes an item it recorded.
            let li = dom.element("li");
            dom.set_attr(li, "added", &round.to_string());
            dom.insert(list, li, None);
            let mut records = vec![RawRecord::ChildList { target: list, added: vec![li], removed: vec![] }];
            if round % 3 == 0 {
                if let Some(&gone) = items.iter().find(|&&i| dom.nodes[i].parent.is_some() && dom.nodes[i].id.is_some()) {
                    dom.detach(gone);
                    records.push(RawRecord::ChildList { target: list, added: vec![], removed: vec![gone] });
                }
            }
            let batch = coalesce(&mut dom, records);
            walk.note_batch(&batch);
            vdom.apply(&mutation_event(batch));
        }
        assert!(round > 5);
        assert_eq!(vdom.outline(), expected_outline(&dom));
    }

    #[test]
    fn a_huge_insertion_after_the_snapshot_is_recorded_in_slices() {
        let mut rng = Lcg(3);
        let mut dom = page(50, &mut rng);
        let mut vdom = VirtualDom::default();
        vdom.apply(&snapshot_event(dom.serialize(&0)));
        // A task inserts a 600-element subtree, then the page goes on changing between slices.
        let big = page(600, &mut rng);
        let host = dom.element("section");
        let offset = dom.nodes.len();
        for (i, n) in big.nodes.iter().enumerate().skip(1) {
            let mut n = n.clone();
            n.id = None;
            n.parent = Some(n.parent.map_or(host, |p| if p == 0 { host } else { p + offset - 1 }));
            n.children = n.children.iter().map(|c| c + offset - 1).collect();
            n.shadow = n.shadow.map(|r| r + offset - 1);
            dom.nodes.push(n);
            let _ = i;
        }
        dom.nodes[host].children = big.nodes[0].children.iter().map(|c| c + offset - 1).collect();
        let body = dom.nodes[0].children[0];
        dom.insert(body, host, dom.nodes[body].children.first().copied());
        let records = vec![RawRecord::ChildList { target: body, added: vec![host], removed: vec![] }];
        let (batch, deferred) = coalesce_deferring(&mut dom, records, true);
        assert!(batch.adds.is_empty() && deferred.len() == 1, "the subtree is left to the walk");
        let mut walk = SnapshotWalk::continuing();
        walk.note_batch(&batch);
        walk.defer(deferred);
        let mut slices = 0;
        let mut round = 0;
        while !walk.is_done() {
            let slice = step_nodes(&mut walk, &mut dom, 64);
            assert!(slice.snapshot.is_none());
            slices += 1;
            vdom.apply(&mutation_event(MutationBatch { adds: slice.adds, ..Default::default() }));
            round += 1;
            let records = mutate(&mut dom, &mut rng, round);
            let batch = coalesce(&mut dom, records);
            walk.note_batch(&batch);
            vdom.apply(&mutation_event(batch));
        }
        assert!(slices > 5, "{slices} slices");
        assert_eq!(vdom.outline(), expected_outline(&dom));
    }

    #[test]
    fn first_slice_is_the_snapshot_and_later_slices_are_additions() {
        let mut rng = Lcg(7);
        let mut dom = page(300, &mut rng);
        let mut walk = SnapshotWalk::new(0usize);
        let mut calls = 0;
        let first = walk.step(&mut dom, || {
            calls += 1;
            true
        });
        let nodes = first.snapshot.expect("first slice is the snapshot");
        assert_eq!(nodes.len(), CHECK_EVERY, "stops at the first check");
        assert_eq!(nodes[0].parent, None);
        assert!(first.adds.is_empty());
        let second = walk.step(&mut dom, || false);
        assert!(second.snapshot.is_none());
        assert!(walk.is_done());
        assert!(second.adds.iter().all(|a| a.nodes[0].parent.is_none() && a.before.is_none()));
        let shadow_roots = (1..dom.nodes.len()).filter(|&n| dom.is_shadow_root(n)).count();
        assert!(shadow_roots > 10, "the page has shadow roots ({shadow_roots})");
        assert_eq!(nodes.len() + second.nodes, 1 + attached(&dom).len());
        assert_eq!(nodes.len() + second.nodes, 1 + 300 * 2 + shadow_roots * 2);
    }
}
