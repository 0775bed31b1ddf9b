//! The replayed tab: the top-level document and the documents of its frames, each a
//! [`VirtualDom`] of its own, stitched together where the recording says which `<iframe>` shows
//! which frame.
//!
//! Every frame of a recorded tab is recorded by its own recorder, so its events carry its
//! [`FrameId`] and its node ids are its own; the parent's recording says which `<iframe>`
//! element shows it ([`EventData::FrameHost`]). Either may come first: a frame's
//! document is kept from its snapshot on, and rendered into its host once (and whenever) the host
//! is in the parent's model, including after the host was moved or re-inserted (which gives it
//! a fresh, empty document in the replay as in a browser). The operations for a frame's document
//! are bracketed by [`DomOp::Frame`], so the renderer knows which document (and through which
//! host) they address. A top-level snapshot starts a new page and drops the frames of other
//! pages; frames of the same page recorded before it (a frame's recorder can be quicker than the
//! top's, which waits for its parser) are kept.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::core::assets::AssetUrls;
use crate::core::event::{Event, EventData, FrameId, NodeId};
use crate::core::ids::IdSet;
use crate::core::vdom::{DomOp, EventModel, VirtualDom};

/// Frames nested deeper than this are not shown (a hostile file could make frames host each
/// other in a cycle).
pub const MAX_FRAME_DEPTH: usize = 16;

/// The model of every document of the tab shown now.
#[derive(Clone, Debug, Default)]
pub struct TabDom {
    top: VirtualDom,
    /// Documents of the frames (never frame 0), each with the page it belongs to.
    frames: BTreeMap<FrameId, VirtualDom>,
    /// The recorded pointer, in the viewport of this frame.
    pointer: Option<(FrameId, f64, f64)>,
    assets: Rc<AssetUrls>,
    /// While set, events update the models only (see [`TabDom::update`]).
    quiet: bool,
}

impl EventModel for TabDom {
    fn apply_into(&mut self, event: &Event, ops: &mut Vec<DomOp>) {
        self.apply_event(event, ops);
    }

    fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }
}

impl TabDom {
    /// Points recorded URLs at these stored copies from now on (set before the first event).
    pub fn set_assets(&mut self, assets: Rc<AssetUrls>) {
        self.top.set_assets(assets.clone());
        for model in self.frames.values_mut() {
            model.set_assets(assets.clone());
        }
        self.assets = assets;
    }

    /// The top-level document's model.
    pub fn top(&self) -> &VirtualDom {
        &self.top
    }

    /// The model of `frame`'s document, if the page shown has one.
    pub fn frame(&self, frame: FrameId) -> Option<&VirtualDom> {
        if frame == 0 {
            return Some(&self.top);
        }
        self.frames.get(&frame).filter(|m| m.page().is_some() && m.page() == self.top.page())
    }

    /// URL of the page shown.
    pub fn url(&self) -> &str {
        self.top.url()
    }

    /// The page (navigation index) shown, if any.
    pub fn page(&self) -> Option<u32> {
        self.top.page()
    }

    /// Nodes in all models.
    pub fn len(&self) -> usize {
        self.top.len() + self.frames.values().map(VirtualDom::len).sum::<usize>()
    }

    /// True when nothing has been loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies one event, appending the operations that show it to `ops`.
    fn apply_event(&mut self, event: &Event, ops: &mut Vec<DomOp>) {
        let frame = event.frame;
        let snapshot = matches!(event.data, EventData::Snapshot(_));
        if frame == 0 && snapshot {
            self.frames.retain(|_, m| m.page() == Some(event.page));
            self.pointer = None;
        }
        let model = if frame == 0 {
            &mut self.top
        } else if snapshot {
            if self.top.page().is_some_and(|p| event.page < p) {
                return; // a late frame of a page that is gone
            }
            let assets = self.assets.clone();
            self.frames.entry(frame).or_insert_with(|| {
                let mut model = VirtualDom::default();
                model.set_assets(assets);
                model
            })
        } else {
            match self.frames.get_mut(&frame) {
                Some(model) => model,
                None => return,
            }
        };
        let applies = snapshot || model.page() == Some(event.page);
        let start = ops.len();
        if self.quiet {
            model.update(event);
        } else {
            model.apply_into(event, ops);
        }
        let new_hosts = model.take_new_hosts();
        let moved = match event.data {
            EventData::PointerMove { x, y } | EventData::Click { x, y, .. } if applies => Some((x, y)),
            _ => None,
        };
        if let Some((x, y)) = moved {
            self.pointer = Some((frame, x, y));
        }
        if self.quiet {
            return;
        }
        // The pointer is the tab's, not a document's: drawn once, in the frame it is in.
        ops.retain_from(start, |op| !matches!(op, DomOp::Pointer { .. }) && (frame == 0 || !matches!(op, DomOp::Viewport { .. })));
        if let Some((x, y)) = moved {
            let at = ops.iter().skip(start).position(|op| matches!(op, DomOp::Click { .. })).map_or(ops.len(), |i| start + i);
            ops.insert(at, DomOp::Pointer { x, y });
        }
        if ops.len() == start && new_hosts.is_empty() {
            return;
        }
        let Some(scope) = self.scope(frame) else {
            ops.truncate(start); // not shown: its host is not in the replayed page (yet)
            return;
        };
        if frame != 0 {
            ops.insert(start, scope.clone());
        }
        for hosted in new_hosts {
            if self.render_frame(None, hosted, false, ops, 1) {
                ops.push(scope.clone());
            }
        }
        if frame != 0 {
            ops.push(TOP_SCOPE);
        }
    }

    /// Operations that build every document of the tab from nothing.
    pub fn render(&self) -> Vec<DomOp> {
        let mut ops = self.top.render();
        ops.retain(|op| !matches!(op, DomOp::Pointer { .. }));
        for hosted in self.top.hosted_frames() {
            if self.render_frame(None, hosted, false, &mut ops, 1) {
                ops.push(TOP_SCOPE);
            }
        }
        self.push_pointer(&mut ops);
        ops
    }

    /// Operations that bring the documents showing `old` (as rendered, then changed by the
    /// operations of both models) to show this model: each document is diffed
    /// ([`VirtualDom::render_from`]) where it can be, else built afresh; a frame's document is
    /// built afresh too when its host was created or moved (the browser gave it an empty one).
    pub fn render_from(&self, old: &TabDom) -> Vec<DomOp> {
        let mut ops = Vec::new();
        let afresh = self.emptied_hosts(old, 0, &self.top, &old.top);
        let Some(placed) = self.top.render_from(&old.top, &afresh, &mut ops) else { return self.render() };
        for hosted in self.top.hosted_frames() {
            let stays = self.top.host_of(hosted).is_some_and(|h| self.top.stays(h, &placed));
            if self.render_frame(Some(old), hosted, stays, &mut ops, 1) {
                ops.push(TOP_SCOPE);
            }
        }
        self.push_pointer(&mut ops);
        ops
    }

    /// The elements of `frame`'s document (`model` here, `shown` in `old`) that showed a frame's
    /// document in `old` and show none now: made afresh, they show an empty one.
    fn emptied_hosts(&self, old: &TabDom, frame: FrameId, model: &VirtualDom, shown: &VirtualDom) -> IdSet<NodeId> {
        let showing = |d: &TabDom, m: &VirtualDom| -> IdSet<NodeId> {
            m.hosted_frames()
                .into_iter()
                .filter_map(|g| match d.scope(g) {
                    Some(DomOp::Frame { parent, host, .. }) if parent == frame => Some(host),
                    _ => None,
                })
                .collect()
        };
        let now = showing(self, model);
        showing(old, shown).into_iter().filter(|h| !now.contains(h)).collect()
    }

    /// Draws the pointer in the frame it is in, or none.
    fn push_pointer(&self, ops: &mut Vec<DomOp>) {
        let Some((frame, x, y, scope)) = self.pointer.and_then(|(f, x, y)| Some((f, x, y, self.scope(f)?))) else {
            ops.push(DomOp::NoPointer);
            return;
        };
        let framed = frame != 0;
        if framed {
            ops.push(scope);
        }
        ops.push(DomOp::Pointer { x, y });
        if framed {
            ops.push(TOP_SCOPE);
        }
    }

    /// Appends the operations that show `frame`'s document (and the frames inside it) in its
    /// host, starting with the [`DomOp::Frame`] that addresses it; false (and nothing appended)
    /// when it is not shown. The document is diffed against `old`'s where `old` is given, the
    /// host `stays` and `old` showed it through the same host; else it is built afresh, and so
    /// are the frames inside it. The caller restores its own scope afterwards.
    fn render_frame(&self, old: Option<&TabDom>, frame: FrameId, stays: bool, ops: &mut Vec<DomOp>, depth: usize) -> bool {
        if depth > MAX_FRAME_DEPTH {
            return false;
        }
        let (Some(model), Some(scope)) = (self.frame(frame).filter(|_| frame != 0), self.scope(frame)) else {
            return false;
        };
        ops.push(scope.clone());
        let start = ops.len();
        let shown = old.filter(|_| stays).and_then(|o| {
            let shown = o.frame(frame)?;
            (o.scope(frame).as_ref() == Some(&scope)).then_some((o, shown))
        });
        let placed = shown.and_then(|(o, shown)| {
            let afresh = self.emptied_hosts(o, frame, model, shown);
            let placed = model.render_from(shown, &afresh, ops);
            if placed.is_none() {
                ops.truncate(start);
            }
            placed
        });
        if placed.is_none() {
            model.render_into(ops);
        }
        ops.retain_from(start, |op| !matches!(op, DomOp::Viewport { .. }));
        for hosted in model.hosted_frames() {
            let stays = placed.as_ref().is_some_and(|p| model.host_of(hosted).is_some_and(|h| model.stays(h, p)));
            if self.render_frame(old.filter(|_| placed.is_some()), hosted, stays, ops, depth + 1) {
                ops.push(scope.clone());
            }
        }
        true
    }

    /// The [`DomOp::Frame`] addressing `frame`'s document, when the replayed page shows it: frame
    /// 0 always, another when its host is in a shown document of the same page.
    fn scope(&self, frame: FrameId) -> Option<DomOp> {
        let mut current = frame;
        let mut first = None;
        for _ in 0..=MAX_FRAME_DEPTH {
            if current == 0 {
                return Some(first.unwrap_or(TOP_SCOPE));
            }
            self.frame(current)?;
            let (parent, host) = self.host(current)?;
            first.get_or_insert(DomOp::Frame { frame, parent, host });
            current = parent;
        }
        None
    }

    /// The frame and element that show `frame`'s document on the page shown.
    fn host(&self, frame: FrameId) -> Option<(FrameId, NodeId)> {
        if let Some(host) = self.top.host_of(frame) {
            return Some((0, host));
        }
        self.frames.iter().filter(|(id, m)| **id != frame && m.page().is_some() && m.page() == self.top.page()).find_map(|(id, m)| m.host_of(frame).map(|host| (*id, host)))
    }

    /// A normalised text form of every shown document (tests and diagnostics): the top-level
    /// document's outline, then each shown frame's, headed by its id and host.
    pub fn outline(&self) -> String {
        let mut out = self.top.outline();
        for (&id, model) in &self.frames {
            if let Some(DomOp::Frame { parent, host, .. }) = self.scope(id) {
                out.push_str(&format!("#frame {id} (in frame {parent}, element {host})\n"));
                out.push_str(&model.outline());
            }
        }
        out
    }
}

/// The scope of the top-level document.
const TOP_SCOPE: DomOp = DomOp::Frame { frame: 0, parent: 0, host: 0 };

/// `Vec::retain` over the elements from `start` on.
trait RetainFrom<T> {
    fn retain_from(&mut self, start: usize, keep: impl FnMut(&T) -> bool);
}

impl<T> RetainFrom<T> for Vec<T> {
    fn retain_from(&mut self, start: usize, mut keep: impl FnMut(&T) -> bool) {
        let mut i = 0;
        self.retain(|op| {
            i += 1;
            i <= start || keep(op)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::screen::Screen;
    use crate::core::event::*;

    const T0: f64 = 1_000.0;

    fn el(id: NodeId, parent: NodeId, tag: &str) -> SerializedNode {
        SerializedNode { id, parent: Some(parent), kind: NodeKind::Element(ElementNode { tag: tag.into(), ns: None, attrs: vec![], form: None, css: None }) }
    }

    /// In `frame`'s document, the element `host` shows frame `child`.
    fn link(t: f64, page: u32, frame: FrameId, host: NodeId, child: FrameId) -> Event {
        at(t, page, frame, EventData::FrameHost { host, child })
    }

    fn text(id: NodeId, parent: NodeId, t: &str) -> SerializedNode {
        SerializedNode { id, parent: Some(parent), kind: NodeKind::Text { text: t.into() } }
    }

    fn at(t: f64, page: u32, frame: FrameId, data: EventData) -> Event {
        Event { t: T0 + t, page, frame, data }
    }

    /// A document: #document(1) > html(2) > body(3) > `body`.
    fn snapshot(t: f64, page: u32, frame: FrameId, body: Vec<SerializedNode>) -> Event {
        let mut nodes = vec![SerializedNode { id: 1, parent: None, kind: NodeKind::Document }, el(2, 1, "html"), el(3, 2, "body")];
        nodes.extend(body);
        let snap = Snapshot { url: format!("http://127.0.0.1/{frame}"), title: String::new(), width: 300, height: 100, nodes, scrolls: vec![], focus: None };
        at(t, page, frame, EventData::Snapshot(snap))
    }

    fn adds(t: f64, page: u32, frame: FrameId, parent: NodeId, before: Option<NodeId>, nodes: Vec<SerializedNode>) -> Event {
        at(t, page, frame, EventData::Mutation(MutationBatch { adds: vec![Addition { parent, before, nodes }], ..Default::default() }))
    }

    /// The documents a fresh render of the model shows.
    fn rendered_documents(dom: &TabDom) -> String {
        let mut screen = Screen::default();
        screen.apply(&dom.render());
        screen.documents()
    }

    /// What a fresh render of the model shows.
    fn rendered(dom: &TabDom) -> String {
        let mut screen = Screen::default();
        screen.apply(&dom.render());
        screen.outline()
    }

    /// A page whose frame 7 (an iframe in the body) records its document before the top-level
    /// recorder's snapshot, then changes; the iframe is later moved, and a frame 9 is nested in 7.
    fn session() -> Vec<Event> {
        let moved = MutationBatch { removes: vec![Removal { parent: 3, id: 4 }], adds: vec![Addition { parent: 3, before: None, nodes: vec![el(6, 3, "iframe")] }], ..Default::default() };
        vec![
            snapshot(0.0, 0, 7, vec![text(4, 3, "inside")]),
            snapshot(10.0, 0, 0, vec![el(4, 3, "iframe"), el(5, 3, "p")]),
            link(10.5, 0, 0, 4, 7),
            adds(20.0, 0, 7, 3, None, vec![el(5, 3, "input")]),
            at(30.0, 0, 7, EventData::Input { target: 5, state: FormState::Value { value: "typed".into() } }),
            at(40.0, 0, 7, EventData::PointerMove { x: 3.0, y: 4.0 }),
            at(45.0, 0, 7, EventData::Viewport { width: 10, height: 10 }),
            // The iframe moves after the <p>: a new browsing context, recorded as a new frame.
            at(50.0, 0, 0, EventData::Mutation(moved)),
            link(55.0, 0, 0, 6, 8),
            snapshot(60.0, 0, 8, vec![el(4, 3, "iframe")]),
            link(65.0, 0, 8, 4, 9),
            snapshot(70.0, 0, 9, vec![text(4, 3, "nested")]),
            adds(80.0, 0, 9, 3, None, vec![text(5, 3, "more")]),
            at(90.0, 0, 0, EventData::PointerMove { x: 1.0, y: 2.0 }),
        ]
    }

    #[test]
    fn frames_recorded_before_their_host_show_once_it_is_there() {
        let events = session();
        let mut dom = TabDom::default();
        let mut screen = Screen::default();
        for (i, e) in events.iter().enumerate() {
            screen.apply(&dom.apply(e));
            // Applying events one by one shows what a fresh render of the model shows.
            // (The pointer stays where it was drawn until it moves again.)
            assert_eq!(screen.documents(), rendered_documents(&dom), "after event {i}");
        }
        let at = |n: usize| {
            let mut dom = TabDom::default();
            events[..n].iter().for_each(|e| dom.update(e));
            rendered(&dom)
        };
        assert!(at(1).is_empty(), "nothing before the page's snapshot:\n{}", at(1));
        let first = at(5);
        let inside =
            "      <iframe>\n        #document\n          <html>\n            <body>\n              \"inside\"\n              <input> [Value { value: \"typed\" }]\n      <p>\n";
        assert!(first.ends_with(inside), "{first}");
        let moved = at(8);
        assert!(moved.ends_with("      <p>\n      <iframe>\n") && !moved.contains("inside"), "the moved iframe is a new frame:\n{moved}");
        let end = at(events.len());
        assert!(end.contains("\"nested\"\n") && end.contains("\"more\"\n"), "{end}");
        assert_eq!(end.matches("#document").count(), 3, "{end}");
    }

    /// The frame each picture, media state and selection operation addresses.
    fn scoped(ops: &[DomOp]) -> Vec<(FrameId, &'static str)> {
        let mut scope = 0;
        let mut out = vec![];
        for op in ops {
            match op {
                DomOp::Frame { frame, .. } => scope = *frame,
                DomOp::DrawFrame { .. } => out.push((scope, "picture")),
                DomOp::Media { .. } => out.push((scope, "media")),
                DomOp::Select { range: Some(_) } => out.push((scope, "selection")),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn pictures_media_and_selection_of_a_frame_go_to_its_document() {
        let media = MediaState { paused: false, time: 2.0, rate: 1.0, muted: true, volume: 0.5 };
        let point = SelectionPoint { node: 6, offset: 1 };
        let events = vec![
            snapshot(0.0, 0, 0, vec![el(4, 3, "iframe"), el(5, 3, "canvas")]),
            link(1.0, 0, 0, 4, 7),
            snapshot(2.0, 0, 7, vec![el(4, 3, "canvas"), el(5, 3, "video"), text(6, 3, "words")]),
            at(3.0, 0, 7, EventData::CanvasFrame { target: 4, hash: "a".repeat(64), width: 2, height: 2 }),
            at(4.0, 0, 7, EventData::Media { target: 5, state: media }),
            at(5.0, 0, 7, EventData::Selection { anchor: Some(point), focus: Some(point) }),
            at(6.0, 0, 0, EventData::CanvasFrame { target: 5, hash: "b".repeat(64), width: 2, height: 2 }),
        ];
        let mut dom = TabDom::default();
        let live: Vec<_> = events.iter().flat_map(|e| scoped(&dom.apply(e))).collect();
        assert_eq!(live, vec![(7, "picture"), (7, "media"), (7, "selection"), (0, "picture")]);
        // A seek renders the model afresh: each frame's state is shown in its own document.
        let mut fresh = scoped(&dom.render());
        fresh.sort();
        assert_eq!(fresh, vec![(0, "picture"), (7, "media"), (7, "picture"), (7, "selection")]);
    }

    #[test]
    fn the_pointer_is_drawn_in_the_frame_it_is_in_and_frames_never_resize_the_viewport() {
        let events = session();
        let mut dom = TabDom::default();
        for e in &events[..6] {
            dom.update(e);
        }
        let mut screen = Screen::default();
        screen.apply(&dom.render());
        assert_eq!(screen.pointer, Some((7, 3.0, 4.0)));
        let ops = dom.apply(&events[6]);
        assert!(ops.is_empty(), "{ops:?}");
        for e in &events[6..] {
            screen.apply(&dom.apply(e));
        }
        assert_eq!(screen.pointer, Some((0, 1.0, 2.0)));
    }

    #[test]
    fn a_new_page_drops_the_frames_of_the_last_one() {
        let mut events = session();
        events.push(snapshot(100.0, 1, 0, vec![el(4, 3, "iframe")]));
        events.push(link(100.5, 1, 0, 4, 9));
        // A late batch of the old page's frame changes nothing.
        events.push(adds(110.0, 0, 9, 3, None, vec![text(6, 3, "late")]));
        let mut dom = TabDom::default();
        events.iter().for_each(|e| dom.update(e));
        let shown = rendered(&dom);
        assert!(shown.ends_with("      <iframe>\n") && shown.matches("#document").count() == 1, "{shown}");
        assert!(dom.frame(9).is_none());
    }

    #[test]
    fn frames_hosting_each_other_are_not_shown_and_do_not_loop() {
        let events = vec![
            snapshot(0.0, 0, 0, vec![el(4, 3, "p")]),
            snapshot(1.0, 0, 5, vec![el(4, 3, "iframe")]),
            link(1.5, 0, 5, 4, 6),
            snapshot(2.0, 0, 6, vec![el(4, 3, "iframe")]),
            link(2.5, 0, 6, 4, 5),
            snapshot(3.0, 0, 7, vec![el(4, 3, "iframe")]),
            link(3.5, 0, 7, 4, 7),
            adds(4.0, 0, 6, 3, None, vec![text(9, 3, "x")]),
        ];
        let mut dom = TabDom::default();
        for e in &events {
            assert!(dom.apply(e).iter().all(|op| !matches!(op, DomOp::Frame { .. })));
        }
        assert_eq!(rendered(&dom).matches("#document").count(), 1);
        // A frame hosted by a non-frame element is not shown either.
        let mut dom = TabDom::default();
        dom.update(&snapshot(0.0, 0, 0, vec![el(4, 3, "div")]));
        dom.update(&link(0.5, 0, 0, 4, 5));
        dom.update(&link(0.6, 0, 0, 99, 5));
        dom.update(&snapshot(1.0, 0, 5, vec![]));
        assert_eq!(rendered(&dom).matches("#document").count(), 1);
    }

    #[test]
    fn seeking_shows_frames_recorded_before_the_page_snapshot() {
        use crate::core::player::Player;
        // The previous page, then the session's page: its frame's snapshot comes first.
        let mut events = vec![snapshot(-50.0, 0, 0, vec![el(4, 3, "b")])];
        events.extend(session().into_iter().map(|mut e| {
            e.page = 1;
            e
        }));
        // One replay seeked in turn (each seek is a diff against what it shows), and a player
        // seeked once from the end.
        let mut replay = Player::new(events.clone(), T0 - 50.0, 150.0);
        let mut shown = Screen::default();
        for at in [95.0, 0.0, 55.0, 35.0, 95.0, 12.0, 70.0, 45.0] {
            let mut player = Player::new(events.clone(), T0 - 50.0, 150.0);
            let mut screen = Screen::default();
            screen.apply(&player.seek(f64::INFINITY));
            screen.apply(&player.seek(at + 50.0));
            shown.apply(&replay.seek(at + 50.0));
            assert_eq!(shown.outline(), screen.outline(), "at {at}");
            let mut fresh = TabDom::default();
            events.iter().filter(|e| e.t <= T0 + at).for_each(|e| fresh.update(e));
            assert_eq!(screen.outline(), rendered(&fresh), "at {at}");
            assert_eq!(player.dom().outline(), fresh.outline(), "at {at}");
            if at >= 10.0 {
                assert!(screen.outline().contains("\"inside\"") || at >= 50.0, "at {at}: {}", screen.outline());
            }
        }
    }
}
