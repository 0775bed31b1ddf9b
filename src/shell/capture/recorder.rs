//! Records one page: the snapshot (taken in slices of at most [`SLICE_MS`] that yield to the
//! page in between; see `core::walk`), a MutationObserver, and passive capture-phase listeners for
//! pointer, clicks, scrolling, form input, focus and viewport size. Events are batched and handed
//! to a sink at most every [`SEND_MS`] (sooner when the batch is large, and at `pagehide`), so
//! the page pays for one message per batch, not per event.
//!
//! Pointer moves are sampled every [`POINTER_SAMPLE_MS`]; scrolls are throttled per element (not
//! one shared throttle) and the last position of every element is always sent.
//!
//! Shadow roots: each recorded one is observed by the same MutationObserver and gets listeners
//! for the events that do not leave it (`scroll`, `change`, `load`) and for `input` (whose target
//! the document sees as the host). Attaching a shadow root makes no mutation record, so before
//! each batch is sent the recorder looks for shadow roots on recorded custom elements whose
//! definition has run since (`PageDom::newly_defined`), besides the hosts that mutation records
//! touch (`core::coalesce`). The CSSOM (`capture::sheets`) is checked at the same moment. A watch
//! timer runs the same checks when the page is otherwise quiet, backing off from
//! [`WATCH_MIN_MS`] to [`WATCH_MAX_MS`] while it finds nothing.
//!
//! Canvas and video pictures are sampled by [`crate::shell::capture::canvas`] (sent on their
//! own, not in batches); media state (`capture::media`) is recorded on media events and when an
//! element is first seen playing or otherwise changed; the selection on `selectionchange`,
//! throttled like the pointer with its last value always kept.

use std::cell::RefCell;
use crate::core::ids::IdMap;
use std::rc::{Rc, Weak};

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, MutationObserver, MutationObserverInit, MutationRecord, Node};

use crate::core::coalesce::{coalesce_deferring, late_shadow_roots, DomTree, RawRecord};
use crate::core::event::{Addition, Event, EventData, FrameId, MutationBatch, NodeId, Removal, ScrollPosition, Snapshot};
use crate::core::walk::SnapshotWalk;
use crate::shell::capture::dom::{as_element, as_node, matches_selectors, MediaKind, PageDom, ScrollReads};
use crate::shell::capture::canvas::{CanvasSampler, FrameSink};
use crate::shell::capture::{no_element_scrolled_since_start, perf_now};
use crate::shell::capture::media::{media_is_notable, media_state, selection, MEDIA_EVENTS};
use crate::shell::capture::sheets::SheetWatch;

/// How often, while events wait in the page, the recorder looks for what no observer reports
/// (CSSOM changes, shadow roots, custom elements defined) and records the last sampled pointer
/// and scroll positions: the most by which such a change's time can be late in the recording.
pub const TICK_MS: i32 = 200;
/// Longest time an event waits in the page before it is sent. A batch costs the page about 1 ms
/// whatever its size, mostly the extension port's `postMessage` and its bindings: sent every
/// [`TICK_MS`], that was a fifth of the recorder's script on the bench's interactions (every
/// second: -22 % in an A/B). A crashed tab loses at most this much.
pub const SEND_MS: f64 = 1000.0;
/// A batch this large is sent at once.
pub const FLUSH_EVENTS: usize = 500;
/// Minimum interval between recorded pointer positions.
pub const POINTER_SAMPLE_MS: f64 = 50.0;
/// Minimum interval between recorded positions of one scrolling element.
pub const SCROLL_SAMPLE_MS: f64 = 100.0;
/// Time a snapshot slice's task may take before it yields to the page: it sends the previous
/// slice's events, then serialises until this much has passed since it began (checked every few
/// nodes), so a slice stays well under a 50 ms long task.
pub const SLICE_MS: f64 = 8.0;
/// A task that inserted more nodes than this has them recorded in slices too.
pub const DEFER_INSERTED: u32 = 300;
/// First (and after each finding) interval of the watch for shadow roots and CSSOM changes.
pub const WATCH_MIN_MS: i32 = 100;
/// Longest interval of the watch, when nothing was found for a while.
pub const WATCH_MAX_MS: i32 = 2000;
/// The most a batch's buffer is sized ahead (a snapshot slice can be megabytes).
const MAX_PRESIZE_BYTES: usize = 1 << 20;
/// Minimum interval between recorded selections.
pub const SELECTION_SAMPLE_MS: f64 = 100.0;
/// How often tracked canvases and videos are looked at when none is due (visibility changes
/// make one due).
pub const CANVAS_LOOK_MS: f64 = 500.0;
/// Events a shadow root is listened to for (the others reach the document).
const SHADOW_ROOT_EVENTS: &[&str] = &["input", "change", "scroll", "load", "focusin", "focusout"];

/// Receives each batch of events (a JSON array, as UTF-8 bytes) with its count and last time.
pub type Sink = Box<dyn FnMut(u32, f64, Vec<u8>)>;

/// The mutable state shared by the observer and listeners.
struct State {
    page: u32,
    dom: PageDom,
    buffer: Vec<Event>,
    sink: Sink,
    tick_scheduled: bool,
    last_pointer_t: f64,
    pending_pointer: Option<(f64, f64)>,
    last_scroll_t: IdMap<NodeId, f64>,
    /// Scrollers that scrolled inside their sample window: their positions are read once, when
    /// the batch is sent, rather than on every scroll event (a read can force a layout).
    pending_scrolls: Vec<(NodeId, Node)>,
    pending_viewport: Option<(u32, u32)>,
    /// The observer, to drain its queued records before recording out of band.
    observer: Option<MutationObserver>,
    /// The snapshot while it is being taken, a slice per task.
    walk: Option<SnapshotWalk<Node>>,
    /// Whether the snapshot's first slice (the page's `snapshot` event) was taken: nothing is
    /// recorded or sent before it.
    snapshot_taken: bool,
    /// Stylesheets that live in the CSSOM only.
    sheets: SheetWatch,
    /// The listeners put on each recorded shadow root (until it leaves the document), one per
    /// kind in [`SHADOW_ROOT_EVENTS`].
    root_handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    /// Set while the pre-send checks run (they may record, and recording may send).
    checking: bool,
    /// The recording is stopping: the next check looks at everything.
    last_look: bool,
    /// Child frames to name the host of: (frame id, position in `window.frames`), until the
    /// `<iframe>` that shows it is recorded.
    child_frames: Vec<(FrameId, u32)>,
    watch_ms: i32,
    /// Size of the last batch's JSON, to size the next one's buffer.
    last_batch_bytes: usize,
    /// Canvas and video pictures.
    canvas: CanvasSampler,
    canvas_scheduled: bool,
    /// Media elements whose state was looked at when first seen.
    media_seen: crate::core::ids::IdMap<NodeId, ()>,
    last_selection_t: f64,
    selection_pending: bool,
    /// The last focus event recorded or ignored (see [`State::seen_focus_event`]).
    last_focus_event: Option<web_sys::Event>,
    selection: Option<(crate::core::event::SelectionPoint, crate::core::event::SelectionPoint)>,
    myself: Weak<RefCell<State>>,
}

/// A page being recorded; dropping it stops the observer and removes every listener.
pub struct Recorder {
    state: Rc<RefCell<State>>,
    observer: MutationObserver,
    _observer_callback: Closure<dyn FnMut(js_sys::Array, MutationObserver)>,
    _listeners: Vec<EventListener>,
}

fn now() -> f64 {
    js_sys::Date::now()
}

impl Recorder {
    /// Snapshots `document` as `page` and starts observing it.
    pub fn start(document: Document, page: u32, sink: Sink, frames: FrameSink) -> Result<Recorder, JsValue> {
        let window = document.default_view().ok_or_else(|| JsValue::from_str("document has no window"))?;
        let window: web_sys::Window = window.unchecked_into();
        let state = Rc::new_cyclic(|me| {
            RefCell::new(State {
                page,
                dom: PageDom::new(document.clone()),
                buffer: Vec::new(),
                sink,
                tick_scheduled: false,
                last_pointer_t: f64::NEG_INFINITY,
                pending_pointer: None,
                last_scroll_t: IdMap::default(),
                pending_scrolls: Vec::new(),
                pending_viewport: None,
                observer: None,
                walk: None,
                snapshot_taken: false,
                sheets: SheetWatch::default(),
                root_handlers: Vec::new(),
                checking: false,
                last_look: false,
                child_frames: Vec::new(),
                watch_ms: WATCH_MIN_MS,
                last_batch_bytes: 0,
                canvas: CanvasSampler::new(frames),
                canvas_scheduled: false,
                media_seen: Default::default(),
                last_selection_t: f64::NEG_INFINITY,
                selection_pending: false,
                last_focus_event: None,
                selection: None,
                myself: me.clone(),
            })
        });

        let observed = state.clone();
        let callback = Closure::<dyn FnMut(js_sys::Array, MutationObserver)>::new(move |records: js_sys::Array, _| {
            if let Ok(mut s) = observed.try_borrow_mut() {
                s.on_mutations(records);
            }
        });
        let observer = MutationObserver::new(callback.as_ref().unchecked_ref())?;
        let init = MutationObserverInit::new();
        init.set_child_list(true);
        init.set_attributes(true);
        init.set_character_data(true);
        init.set_subtree(true);
        {
            let mut s = state.borrow_mut();
            s.dom.observe_shadow_roots_with(observer.clone(), init.clone());
            s.observer = Some(observer.clone());
            s.begin_snapshot();
        }
        observer.observe_with_options(&document, &init)?;
        state.borrow_mut().schedule_watch();

        let mut listeners = Vec::new();
        let on = |target: &web_sys::EventTarget, kind: &'static str, handler: fn(&mut State, &web_sys::Event)| {
            let state = state.clone();
            EventListener::new_with_options(target, kind, EventListenerOptions::run_in_capture_phase(), move |e| {
                if let Ok(mut s) = state.try_borrow_mut() {
                    handler(&mut s, e);
                }
            })
        };
        for (kind, handler) in [
            ("mousemove", State::on_pointer as fn(&mut State, &web_sys::Event)),
            ("click", State::on_click),
            ("scroll", State::on_scroll),
            ("input", State::on_input),
            ("change", State::on_input),
            ("focusin", State::on_focus_in),
            ("focusout", State::on_focus_out),
            ("visibilitychange", State::on_hidden),
            ("load", State::on_load),
        ] {
            listeners.push(on(document.as_ref(), kind, handler));
        }
        for kind in MEDIA_EVENTS {
            listeners.push(on(document.as_ref(), kind, State::on_media));
        }
        listeners.push(on(document.as_ref(), "selectionchange", State::on_selection));
        listeners.push(on(window.as_ref(), "resize", State::on_resize));
        listeners.push(on(window.as_ref(), "pagehide", State::on_hidden));

        Ok(Recorder { state, observer, _observer_callback: callback, _listeners: listeners })
    }

    /// Records which `<iframe>` shows the child frame `frame` (the service worker tells: the
    /// child's recorder found itself at `index` in this window's `frames`), now or once that
    /// element is recorded.
    pub fn link_child(&self, frame: FrameId, index: u32) {
        let mut s = self.state.borrow_mut();
        s.child_frames.retain(|(f, _)| *f != frame);
        s.child_frames.push((frame, index));
        if s.link_children() {
            s.schedule();
        }
    }

    /// Whether the snapshot is still being taken.
    pub fn snapshot_pending(&self) -> bool {
        self.state.borrow().walk.is_some()
    }

    /// Sends everything recorded so far, including mutations not yet delivered to the observer
    /// and the rest of a snapshot still being taken (recording is stopping: it is finished in
    /// this task rather than lost).
    pub fn flush(&self) {
        let records = self.observer.take_records();
        let mut s = self.state.borrow_mut();
        if records.length() > 0 {
            s.on_mutations(records);
        }
        while s.walk.is_some() {
            s.next_slice();
        }
        s.last_look = true;
        s.flush();
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.observer.disconnect();
        if let Ok(s) = self.state.try_borrow() {
            for root in s.sheets.roots() {
                s.unlisten(root);
            }
        }
    }
}

impl State {
    /// Buffers an event of this page at `t` (its frame is stamped by the service worker).
    fn buffer_at(&mut self, t: f64, data: EventData) {
        self.buffer.push(Event { t, page: self.page, frame: 0, data });
    }

    fn push(&mut self, data: EventData) {
        if !self.snapshot_taken {
            return; // the page's recording begins with its snapshot
        }
        self.buffer_at(now(), data);
        if self.buffer.len() >= FLUSH_EVENTS {
            self.flush();
        } else {
            self.schedule();
        }
    }

    fn schedule(&mut self) {
        if self.tick_scheduled {
            return;
        }
        if self.later(TICK_MS, State::tick) {
            self.tick_scheduled = true;
        }
    }

    /// Every [`TICK_MS`] while events wait: sends them once the oldest has waited about
    /// [`SEND_MS`]; until then records what the checks find and the last sampled positions.
    fn tick(&mut self) {
        self.tick_scheduled = false;
        let oldest = self.buffer.first().map(|e| e.t);
        // Half a tick early rather than a whole tick late.
        if oldest.is_some_and(|t| now() - t + f64::from(TICK_MS) / 2.0 >= SEND_MS) {
            self.flush();
            return;
        }
        self.check();
        if self.snapshot_taken {
            self.buffer_samples(now());
        }
        if !self.buffer.is_empty() {
            self.schedule();
        }
    }

    /// Runs `then` on this state in a later task, after `delay_ms`; false if it cannot be
    /// scheduled. Nothing runs if the recorder is gone by then, or busy (it will flush anyway).
    fn later(&self, delay_ms: i32, then: fn(&mut State)) -> bool {
        let Some(window) = web_sys::window() else { return false };
        let me = self.myself.clone();
        let callback = Closure::once_into_js(move || {
            if let Some(state) = me.upgrade() {
                if let Ok(mut s) = state.try_borrow_mut() {
                    then(&mut s);
                }
            }
        });
        window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), delay_ms).is_ok()
    }

    /// Sends what is buffered, after recording what the observer does not report: shadow roots
    /// attached since, and CSSOM changes.
    fn flush(&mut self) {
        self.check();
        self.send();
    }

    /// Records what changed without a mutation record (see the module doc); true when it found
    /// such a change (records still queued are recorded first, and do not count).
    fn check(&mut self) -> bool {
        if self.checking {
            return false;
        }
        self.checking = true;
        // Records still queued first, so what follows applies to what the replay has.
        if let Some(records) = self.observer.as_ref().map(MutationObserver::take_records) {
            if records.length() > 0 {
                self.on_mutations(records);
            }
        }
        let before = self.buffer.len();
        let defined = self.dom.newly_defined();
        if !defined.is_empty() {
            let adds = late_shadow_roots(&mut self.dom, defined);
            if !adds.is_empty() {
                let batch = MutationBatch { adds, ..Default::default() };
                if let Some(walk) = self.walk.as_mut() {
                    walk.note_batch(&batch);
                }
                self.buffer_at(now(), EventData::Mutation(batch));
                self.after_serialize();
            }
        }
        let mut events = Vec::new();
        let clock = perf_now();
        for root in self.sheets.check(clock, self.last_look, &mut events) {
            self.unlisten(&root);
        }
        self.record_all(events);
        self.link_children();
        self.checking = false;
        self.buffer.len() > before
    }

    /// Records the hosts of the child frames waiting for one that are recorded by now; true when
    /// it recorded any. A child whose window is gone is dropped.
    fn link_children(&mut self) -> bool {
        if self.child_frames.is_empty() {
            return false;
        }
        let Some(window) = self.dom.document().default_view() else { return false };
        let mut linked = Vec::new();
        let mut waiting = Vec::new();
        for (frame, index) in std::mem::take(&mut self.child_frames) {
            let child = js_sys::Reflect::get_u32(&window, index).unwrap_or(JsValue::UNDEFINED);
            if child.is_undefined() || child.is_null() {
                continue;
            }
            match self.dom.frame_element_of(&child) {
                Some(host) => linked.push(EventData::FrameHost { host, child: frame }),
                None => waiting.push((frame, index)),
            }
        }
        self.child_frames = waiting;
        let any = !linked.is_empty();
        self.record_all(linked);
        any
    }

    /// Buffers events (without sending: callers send).
    fn record_all(&mut self, events: Vec<EventData>) {
        let t = now();
        for data in events {
            self.buffer_at(t, data);
        }
    }

    /// Follows up on nodes just serialised: listeners on new shadow roots, the CSSOM of new
    /// roots and stylesheet owners, and the state of new media elements (recorded right after
    /// the event that recorded them); new canvases and videos are sampled from now on.
    fn after_serialize(&mut self) {
        let mut recorded = self.dom.take_recorded();
        if !recorded.media.is_empty() {
            self.follow_media(std::mem::take(&mut recorded.media));
        }
        if recorded.roots.is_empty() && recorded.sheet_owners.is_empty() {
            return;
        }
        for (_, root) in &recorded.roots {
            if root.node_type() == Node::DOCUMENT_FRAGMENT_NODE {
                self.listen_to_shadow_root(root);
            }
        }
        let mut events = Vec::new();
        self.sheets.add(&recorded, &mut events);
        self.record_all(events);
    }

    /// Listens to a shadow root for the events that do not reach the document as they are; each
    /// is handled by the listener on the root of the tree its target is in, and only there. The
    /// listeners are made once and shared by every root.
    fn listen_to_shadow_root(&mut self, root: &Node) {
        if self.root_handlers.is_empty() {
            for &kind in SHADOW_ROOT_EVENTS {
                let me = self.myself.clone();
                let handler = match kind {
                    "scroll" => State::on_scroll as fn(&mut State, &web_sys::Event),
                    "load" => State::on_load,
                    "focusin" => State::on_focus_in,
                    "focusout" => State::on_focus_out,
                    _ => State::on_input,
                };
                self.root_handlers.push(Closure::new(move |e: web_sys::Event| {
                    let (Some(target), Some(root)) = (e.target(), e.current_target()) else { return };
                    let own_tree = as_node(&target).is_some_and(|n| JsValue::from(n.get_root_node()) == JsValue::from(root));
                    if !own_tree {
                        return;
                    }
                    if let Some(state) = me.upgrade() {
                        if let Ok(mut s) = state.try_borrow_mut() {
                            handler(&mut s, &e);
                        }
                    }
                }));
            }
        }
        // Listening twice to one root is harmless: the same listener is added once.
        for (kind, handler) in SHADOW_ROOT_EVENTS.iter().zip(&self.root_handlers) {
            let _ = root.add_event_listener_with_callback_and_bool(kind, handler.as_ref().unchecked_ref(), true);
        }
    }

    fn unlisten(&self, root: &Node) {
        for (kind, handler) in SHADOW_ROOT_EVENTS.iter().zip(&self.root_handlers) {
            let _ = root.remove_event_listener_with_callback_and_bool(kind, handler.as_ref().unchecked_ref(), true);
        }
    }

    /// Runs the checks when the page is quiet (while events wait, every tick runs them): soon
    /// after something was found, less and less often while nothing is. What it finds is sent
    /// like anything else, within [`SEND_MS`].
    fn schedule_watch(&mut self) {
        self.later(self.watch_ms, State::watch);
    }

    fn watch(&mut self) {
        let found = !self.tick_scheduled && self.check();
        if !self.buffer.is_empty() {
            self.schedule();
        }
        self.watch_ms = if found { WATCH_MIN_MS } else { (self.watch_ms * 2).min(WATCH_MAX_MS) };
        self.schedule_watch();
    }

    /// The positions and states sampled since the last were recorded (the last of each), at `t`.
    fn buffer_samples(&mut self, t: f64) {
        if let Some((x, y)) = self.pending_pointer.take() {
            self.buffer_at(t, EventData::PointerMove { x, y });
        }
        for (target, node) in std::mem::take(&mut self.pending_scrolls) {
            if let Some((x, y)) = scroll_position(&node) {
                self.buffer_at(t, EventData::Scroll { target, x, y });
            }
        }
        if let Some((width, height)) = self.pending_viewport.take() {
            self.buffer_at(t, EventData::Viewport { width, height });
        }
        if std::mem::take(&mut self.selection_pending) {
            self.record_selection(t);
        }
    }

    fn send(&mut self) {
        self.tick_scheduled = false;
        if !self.snapshot_taken {
            return; // nothing goes before the page's snapshot
        }
        let t = now();
        self.buffer_samples(t);
        if self.buffer.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.buffer);
        let last_t = events.last().map(|e| e.t).unwrap_or(t);
        // Sized from the last batch: growing a string by doubling copies it byte by byte here
        // (wasm2js), which showed in profiles of busy pages.
        let mut json = Vec::with_capacity(self.last_batch_bytes + self.last_batch_bytes / 4 + 256);
        serde_json::to_writer(&mut json, &events).expect("events serialise");
        self.last_batch_bytes = json.len().min(MAX_PRESIZE_BYTES);
        (self.sink)(events.len() as u32, last_t, json);
    }

    /// Prepares the snapshot and schedules its first slice (the `snapshot` event) in a task of its
    /// own: the start (observer, listeners) and the first slice each pay for compiling the code
    /// they run for the first time, and together they made one long task.
    fn begin_snapshot(&mut self) {
        let doc_node: Node = self.dom.document().clone().into();
        self.walk = Some(SnapshotWalk::new(doc_node));
        self.schedule_slice();
    }

    /// The `snapshot` event from the walk's first slice: the document and as much of it as fit.
    fn snapshot_event(&mut self, nodes: Vec<crate::core::event::SerializedNode>, done: bool) -> EventData {
        let document = self.dom.document().clone();
        let doc_node: &Node = document.as_ref();
        let mut scrolls = self.dom.take_scrolls();
        let window = document.default_view();
        let (x, y) = scroll_position(doc_node).unwrap_or((0.0, 0.0));
        if let (true, Some(doc_id)) = (x != 0.0 || y != 0.0, self.dom.id(doc_node)) {
            scrolls.insert(0, ScrollPosition { target: doc_id, x, y });
        }
        let focus = if done { self.focused() } else { None };
        let (width, height) = window.as_ref().map_or((0, 0), viewport);
        EventData::Snapshot(Snapshot { url: document.url().unwrap_or_default(), title: document.title(), width, height, nodes, scrolls, focus })
    }

    /// The focused element, if it is recorded (and not the body, which holds focus by default):
    /// inside shadow roots, not their host.
    fn focused(&self) -> Option<NodeId> {
        let active = self.dom.focused_within(self.dom.document().active_element()?);
        if active.local_name() == "body" {
            return None;
        }
        self.dom.id(active.as_ref())
    }

    fn schedule_slice(&mut self) {
        self.later(0, State::next_slice);
    }

    /// One more slice of the snapshot: the first is the page's `snapshot` event, the others
    /// mutation batches of insertions. A slice first sends what the one before recorded, inside
    /// its own time budget: encoding and posting a slice cost about half as much as serialising
    /// it, and code run for the first time (the first slice's serialising, the second's encoding)
    /// is compiled then, so a slice's task stays near [`SLICE_MS`] whatever it does.
    fn next_slice(&mut self) {
        let out_of_time = slice_clock();
        // The page's changes since the last slice are recorded first, against what the replay
        // has by then.
        if let Some(records) = self.observer.as_ref().map(MutationObserver::take_records) {
            if records.length() > 0 {
                self.on_mutations(records);
            }
        }
        self.flush();
        let Some(mut walk) = self.walk.take() else { return };
        let first = !self.snapshot_taken;
        if first {
            // Where the loader has listened since the document started and no scroll event
            // reached an element, only the elements scrolled since the recorder started
            // listening itself (and those in shadow trees) can be scrolled.
            self.dom.collect_scrolls(if no_element_scrolled_since_start() { ScrollReads::Scrolled } else { ScrollReads::All });
        }
        let slice = walk.step(&mut self.dom, out_of_time);
        let t = now();
        if let Some(nodes) = slice.snapshot {
            let snapshot = self.snapshot_event(nodes, walk.is_done());
            self.snapshot_taken = true;
            self.buffer_at(t, snapshot);
        } else if !slice.adds.is_empty() {
            self.buffer_at(t, EventData::Mutation(MutationBatch { adds: slice.adds, ..Default::default() }));
        }
        self.after_serialize();
        for ScrollPosition { target, x, y } in self.dom.take_scrolls() {
            self.buffer_at(t, EventData::Scroll { target, x, y });
        }
        if walk.is_done() {
            self.dom.collect_scrolls(ScrollReads::Off);
            if let Some(target) = self.focused().filter(|_| !first) {
                self.buffer_at(t, EventData::Focus { target: Some(target) });
            }
            self.schedule_slice_flush();
        } else {
            self.walk = Some(walk);
            self.schedule_slice();
        }
    }

    /// Sends the last slice's events in a task of their own.
    fn schedule_slice_flush(&mut self) {
        if !self.later(0, State::flush) {
            self.flush();
        }
    }

    fn on_mutations(&mut self, records: js_sys::Array) {
        if !self.snapshot_taken {
            return; // nothing is recorded yet: the snapshot will read the page as it is then
        }
        let mut controls: Vec<web_sys::Element> = Vec::new();
        let mut inserted = 0u32;
        let mut raw = Vec::with_capacity(records.length() as usize);
        for r in records.iter() {
            let r: MutationRecord = r.unchecked_into();
            let Some(target) = r.target() else { continue };
            // The record's kind from its target, without reading `type` (a string per record):
            // only character data has characterData records, and never childList ones.
            let node_type = target.node_type();
            let text = matches!(node_type, Node::TEXT_NODE | Node::COMMENT_NODE | Node::CDATA_SECTION_NODE | Node::PROCESSING_INSTRUCTION_NODE);
            let name = if text { None } else { self.dom.attribute_name(&r, &target) };
            // Most attribute changes (class, style, …) cannot move a control's state: skip the
            // DOM look-ups for them, this runs for every record on the page's main thread.
            let may_move_form_state = name.as_ref().is_none_or(|name| FORM_STATE_ATTRIBUTES.iter().any(|a| a.eq_ignore_ascii_case(name)));
            if may_move_form_state {
                if let Some(control) = affected_control(&target, node_type) {
                    controls.push(control);
                }
            }
            raw.push(match name {
                _ if text => RawRecord::Text { target },
                Some(name) => RawRecord::Attribute { name, target },
                None => {
                    let added = nodes(&r.added_nodes());
                    inserted += added.len() as u32;
                    RawRecord::ChildList { target, added, removed: nodes(&r.removed_nodes()) }
                }
            });
        }
        // A task that inserted many nodes (the parser's chunk, a big render) leaves them to the
        // walk, which records them in slices as it does the snapshot.
        let (batch, deferred) = coalesce_deferring(&mut self.dom, raw, inserted > DEFER_INSERTED);
        self.dom.after_batch(&batch);
        if let Some(walk) = self.walk.as_mut() {
            walk.note_batch(&batch);
        }
        if !deferred.is_empty() {
            let start = self.walk.is_none();
            let walk = self.walk.get_or_insert_with(SnapshotWalk::continuing);
            walk.note_batch(&batch);
            walk.defer(deferred);
            if start {
                self.schedule_slice();
            }
        }
        if !batch.is_empty() {
            self.canvas.poke();
            self.push(EventData::Mutation(batch));
        }
        self.after_serialize();
        // Attribute and option changes move a control's live state without an input event.
        for control in controls {
            if let Some((target, state)) = self.dom.form_change(&control) {
                self.push(EventData::Input { target, state });
            }
        }
    }

    fn target_id(&mut self, event: &web_sys::Event) -> Option<NodeId> {
        let target = event.target()?;
        self.dom.id(as_node(&target)?)
    }

    fn on_pointer(&mut self, event: &web_sys::Event) {
        self.canvas.poke();
        let m: &web_sys::MouseEvent = event.unchecked_ref(); // only registered for mouse events
        let (x, y) = (m.client_x() as f64, m.client_y() as f64);
        let t = now();
        if t - self.last_pointer_t >= POINTER_SAMPLE_MS {
            self.last_pointer_t = t;
            self.pending_pointer = None;
            self.push(EventData::PointerMove { x, y });
        } else {
            self.pending_pointer = Some((x, y));
            self.schedule();
        }
    }

    fn on_click(&mut self, event: &web_sys::Event) {
        let m: &web_sys::MouseEvent = event.unchecked_ref(); // only registered for mouse events
        self.canvas.poke();
        self.pending_pointer = None;
        let target = self.target_id(event);
        self.push(EventData::Click { target, x: m.client_x() as f64, y: m.client_y() as f64 });
    }

    fn on_scroll(&mut self, event: &web_sys::Event) {
        let Some(target) = event.target() else { return };
        let Some(node) = as_node(&target) else { return };
        let Some(id) = self.dom.id(node) else {
            // Not recorded yet (the snapshot is still being taken): read when it is.
            self.dom.note_scrolled(node);
            return;
        };
        let t = now();
        let last = self.last_scroll_t.get(&id).copied().unwrap_or(f64::NEG_INFINITY);
        if t - last >= SCROLL_SAMPLE_MS {
            let Some((x, y)) = scroll_position(node) else { return };
            self.last_scroll_t.insert(id, t);
            self.pending_scrolls.retain(|(p, _)| *p != id);
            self.push(EventData::Scroll { target: id, x, y });
        } else if !self.pending_scrolls.iter().any(|(p, _)| *p == id) {
            self.pending_scrolls.push((id, node.clone()));
            self.schedule();
        }
    }

    /// Records the state of media elements just serialised (when it is worth recording) and
    /// starts sampling the pictures of canvases and videos among them.
    fn follow_media(&mut self, media: Vec<(NodeId, web_sys::Element, MediaKind)>) {
        let mut pictures = false;
        for (id, el, kind) in media {
            if kind != MediaKind::Audio {
                self.canvas.track(id, &el);
                pictures = true;
            }
            if kind != MediaKind::Canvas && self.media_seen.insert(id, ()).is_none() {
                let state = media_state(&el);
                if media_is_notable(&state) {
                    self.buffer_at(now(), EventData::Media { target: id, state });
                }
            }
        }
        if pictures {
            self.schedule_canvas(0.0);
        }
    }

    /// Samples the pictures due, and looks again while any canvas or video is tracked.
    fn canvas_tick(&mut self) {
        self.canvas_scheduled = false;
        self.canvas.prune();
        if self.canvas.is_empty() {
            return; // the next one serialised starts the ticks again
        }
        self.canvas.sample_due();
        let delay = if self.canvas.busy() { MIN_CANVAS_RETRY_MS } else { self.canvas.next_delay().unwrap_or(CANVAS_LOOK_MS).min(CANVAS_LOOK_MS) };
        self.schedule_canvas(delay);
    }

    fn schedule_canvas(&mut self, delay: f64) {
        if !self.canvas_scheduled && self.later(delay.max(0.0).ceil() as i32, State::canvas_tick) {
            self.canvas_scheduled = true;
        }
    }

    fn on_media(&mut self, event: &web_sys::Event) {
        let Some(target) = event.target() else { return };
        let Some(el) = as_node(&target).and_then(as_element) else { return };
        let Some(id) = self.dom.id(el.as_ref()) else { return };
        self.media_seen.insert(id, ());
        let state = media_state(el);
        self.push(EventData::Media { target: id, state });
    }

    fn on_selection(&mut self, _event: &web_sys::Event) {
        let t = now();
        if t - self.last_selection_t >= SELECTION_SAMPLE_MS {
            self.selection_pending = false;
            self.record_selection(t);
            if !self.buffer.is_empty() {
                self.schedule();
            }
        } else {
            self.selection_pending = true;
            self.schedule();
        }
    }

    /// Records the selection if it changed since the last one recorded.
    fn record_selection(&mut self, t: f64) {
        let document = self.dom.document().clone();
        let now_selected = selection(&document, &mut self.dom);
        if now_selected == self.selection {
            return;
        }
        self.last_selection_t = t;
        self.selection = now_selected;
        let (anchor, focus) = match now_selected {
            Some((a, f)) => (Some(a), Some(f)),
            None => (None, None),
        };
        self.buffer_at(t, EventData::Selection { anchor, focus });
    }

    fn on_input(&mut self, event: &web_sys::Event) {
        self.canvas.poke();
        let Some(target) = event.target() else { return };
        let Some(el) = as_node(&target).and_then(as_element) else { return };
        if let Some((target, state)) = self.dom.form_change(el) {
            self.push(EventData::Input { target, state });
        }
    }

    /// Whether `event` is a focus event already handled by the listener of an outer tree: one
    /// focus change is seen by the document and by the shadow roots around the element (each
    /// with its own retargeted target); the outermost listener records it.
    fn seen_focus_event(&mut self, event: &web_sys::Event) -> bool {
        if self.last_focus_event.as_ref() == Some(event) {
            return true;
        }
        self.last_focus_event = Some(event.clone());
        false
    }

    /// Focus moved: records the element that has it, inside shadow roots (the event's target is
    /// their host, seen from outside). The document's listener does not hear a move between two
    /// elements of one shadow tree (the event's target and related target are the same host
    /// there): the listener on that tree's root does.
    fn on_focus_in(&mut self, event: &web_sys::Event) {
        if self.seen_focus_event(event) {
            return;
        }
        let Some(target) = event.target() else { return };
        let Some(el) = as_node(&target).and_then(as_element) else { return };
        if let Some(id) = self.dom.id(self.dom.focused_within(el.clone()).as_ref()) {
            self.push(EventData::Focus { target: Some(id) });
        }
    }

    fn on_focus_out(&mut self, event: &web_sys::Event) {
        if self.seen_focus_event(event) {
            return;
        }
        let moving_within = event.unchecked_ref::<web_sys::FocusEvent>().related_target().is_some();
        if !moving_within {
            self.push(EventData::Focus { target: None });
        }
    }

    fn on_resize(&mut self, _event: &web_sys::Event) {
        if let Some(window) = self.dom.document().default_view() {
            self.pending_viewport = Some(viewport(&window));
            self.schedule();
        }
    }

    fn on_hidden(&mut self, _event: &web_sys::Event) {
        self.flush();
    }

    /// A stylesheet link finished loading after it was recorded (pages recorded from the start
    /// of the document see every `<link>` before its sheet exists): record it again, now with
    /// its text, as a removal and re-insertion in place under the same id.
    fn on_load(&mut self, event: &web_sys::Event) {
        let Some(target) = event.target() else { return };
        let Some(link) = as_node(&target).and_then(as_element) else { return };
        let is_stylesheet = link.local_name() == "link"
            && link.get_attribute("rel").is_some_and(|r| r.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case("stylesheet")));
        if !is_stylesheet {
            return;
        }
        // Everything queued before the load is recorded first, so the replay has the siblings.
        if let Some(records) = self.observer.as_ref().map(MutationObserver::take_records) {
            if records.length() > 0 {
                self.on_mutations(records);
            }
        }
        let node: &Node = link.as_ref();
        let (Some(id), Some(parent)) = (self.dom.id(node), node.parent_node()) else { return };
        let Some(parent_id) = self.dom.id(&parent) else { return };
        if !self.dom.is_connected(node) {
            return;
        }
        let mut before = None;
        let mut sibling = node.next_sibling();
        while let Some(s) = sibling {
            if let Some(sid) = self.dom.id(&s) {
                before = Some(sid);
                break;
            }
            sibling = s.next_sibling();
        }
        let nodes = self.dom.serialize(node);
        let batch = MutationBatch { removes: vec![Removal { parent: parent_id, id }], adds: vec![Addition { parent: parent_id, before, nodes }], ..Default::default() };
        self.push(EventData::Mutation(batch));
        self.after_serialize();
    }
}

/// How soon the canvas tick looks again while pictures are being encoded.
const MIN_CANVAS_RETRY_MS: f64 = 50.0;

/// A clock for one snapshot slice: true once [`SLICE_MS`] have passed since it was made.
fn slice_clock() -> impl FnMut() -> bool {
    let deadline = perf_now() + SLICE_MS;
    move || perf_now() >= deadline
}

fn viewport(window: &web_sys::Window) -> (u32, u32) {
    let dim = |v: Result<JsValue, JsValue>| v.ok().and_then(|v| v.as_f64()).unwrap_or(0.0) as u32;
    (dim(window.inner_width()), dim(window.inner_height()))
}

/// Attributes whose change can move a form control's live state (its value, checkedness or
/// selection) without an input event.
const FORM_STATE_ATTRIBUTES: &[&str] = &["value", "checked", "selected", "type", "multiple"];

/// The form control whose live state a mutation of `target` (of `node_type`) may change: an
/// input or textarea itself, the select of an option or optgroup, the textarea or select around
/// a text node. One `matches` call rules out the usual element, rather than passing its name.
fn affected_control(target: &Node, node_type: u16) -> Option<web_sys::Element> {
    let el = match node_type {
        Node::ELEMENT_NODE => target.unchecked_ref::<web_sys::Element>().clone(),
        Node::TEXT_NODE => target.parent_element()?,
        _ => return None,
    };
    if !CONTROL_TAGS.with(|tags| matches_selectors(&el, tags)) {
        return None;
    }
    match el.local_name().as_str() {
        "input" | "textarea" | "select" => Some(el),
        "option" | "optgroup" | "datalist" => el.closest("select").ok().flatten(),
        _ => None,
    }
}

thread_local! {
    /// The elements [`affected_control`] looks further at, made a JS string once.
    static CONTROL_TAGS: JsValue = JsValue::from_str("input, textarea, select, option, optgroup, datalist");
}

fn nodes(list: &web_sys::NodeList) -> Vec<Node> {
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

/// Where a scroller is scrolled to: the window's scroll for a document, the element's own
/// otherwise.
fn scroll_position(node: &Node) -> Option<(f64, f64)> {
    if node.node_type() == Node::DOCUMENT_NODE {
        let window = node.unchecked_ref::<Document>().default_view()?;
        Some((window.scroll_x().unwrap_or(0.0), window.scroll_y().unwrap_or(0.0)))
    } else {
        let el = as_element(node)?;
        Some((el.scroll_left() as f64, el.scroll_top() as f64))
    }
}
