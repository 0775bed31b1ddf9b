//! The replay state machine: a clock over a session's events, play/pause, speed and seeking.
//!
//! The shell calls [`Player::tick`] on every animation frame with the real time elapsed and
//! [`Player::seek`] when the user drags the seek bar; both answer with the [`DomOp`]s to apply.
//! Seeking rebuilds the model from the nearest keyframe or snapshot at or before the target
//! without touching the replay, then answers the operations that bring the shown documents to it
//! (a diff by node id within a page, a fresh render across pages), so seeking backwards costs
//! the same as seeking forwards, and the browser re-lays out only what changed.

use crate::core::event::{Event, EventData};
use std::rc::Rc;

use crate::core::assets::AssetUrls;
use crate::core::frames::TabDom;
use crate::core::vdom::{DomOp, EventModel};

/// Whether the clock runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayState {
    /// The clock advances with real time times the speed.
    Playing,
    /// The clock stands still.
    Paused,
    /// The clock reached the end of the session.
    Ended,
}

/// Plays one session.
#[derive(Debug)]
pub struct Player {
    events: Vec<Event>,
    started_at: f64,
    duration: f64,
    /// Index of the next event to apply.
    cursor: usize,
    /// Milliseconds since `started_at` shown now.
    position: f64,
    state: PlayState,
    speed: f64,
    dom: TabDom,
    /// Models kept along the way (event index, model after the events before it), so a seek
    /// starts from the nearest one instead of the page's snapshot: see [`KEYFRAME_EVENTS`].
    keyframes: Vec<(usize, TabDom)>,
    /// Nodes held by all keyframes, bounded by [`KEYFRAME_NODES`].
    keyframe_nodes: usize,
    /// Where [`Player::prepare`] has got to: the next event and the model before it.
    prepared: Option<(usize, TabDom)>,
    /// The session's stored assets, given to every model.
    assets: Rc<AssetUrls>,
}

/// A keyframe is kept every this many events replayed during a seek.
pub const KEYFRAME_EVENTS: usize = 400;
/// The most nodes all keyframes together may hold (memory bound for huge pages).
pub const KEYFRAME_NODES: usize = 4_000_000;

impl Player {
    /// A paused player at position 0 over `events` (sorted here by time, stably), for a session
    /// that started at `started_at` (epoch ms) and lasted at least `duration_ms`.
    pub fn new(mut events: Vec<Event>, started_at: f64, duration_ms: f64) -> Player {
        events.sort_by(|a, b| a.t.total_cmp(&b.t));
        let last = events.last().map(|e| e.t - started_at).unwrap_or(0.0);
        Player {
            events,
            started_at,
            duration: duration_ms.max(last).max(0.0),
            cursor: 0,
            position: 0.0,
            state: PlayState::Paused,
            speed: 1.0,
            dom: TabDom::default(),
            keyframes: Vec::new(),
            keyframe_nodes: 0,
            prepared: None,
            assets: Rc::default(),
        }
    }

    /// Replays recorded URLs from the session's stored assets (call before the first seek).
    pub fn set_assets(&mut self, assets: AssetUrls) {
        self.assets = Rc::new(assets);
        self.dom.set_assets(self.assets.clone());
    }

    /// An empty model that knows the stored assets.
    fn fresh_dom(&self) -> TabDom {
        let mut dom = TabDom::default();
        dom.set_assets(self.assets.clone());
        dom
    }

    /// Length of the session in ms.
    pub fn duration(&self) -> f64 {
        self.duration
    }

    /// Current position in ms since the start.
    pub fn position(&self) -> f64 {
        self.position
    }

    /// Play state.
    pub fn state(&self) -> PlayState {
        self.state
    }

    /// Playback speed multiplier.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The model of the documents shown now.
    pub fn dom(&self) -> &TabDom {
        &self.dom
    }

    /// Pages of the session as (page index, ms since start of its snapshot, url), for the timeline.
    pub fn pages(&self) -> Vec<(u32, f64, String)> {
        self.events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::Snapshot(s) if e.frame == 0 => Some((e.page, e.t - self.started_at, s.url.clone())),
                _ => None,
            })
            .collect()
    }

    /// Starts the clock (from the start again if the session had ended).
    pub fn play(&mut self) -> Vec<DomOp> {
        let ops = if self.state == PlayState::Ended || self.position >= self.duration { self.seek(0.0) } else { Vec::new() };
        self.state = PlayState::Playing;
        ops
    }

    /// Stops the clock.
    pub fn pause(&mut self) {
        if self.state == PlayState::Playing {
            self.state = PlayState::Paused;
        }
    }

    /// Sets the speed (clamped to 0.1–16).
    pub fn set_speed(&mut self, speed: f64) {
        self.speed = if speed.is_finite() { speed.clamp(0.1, 16.0) } else { 1.0 };
    }

    /// Advances the clock by `real_ms` of wall time and returns the operations to apply.
    pub fn tick(&mut self, real_ms: f64) -> Vec<DomOp> {
        if self.state != PlayState::Playing || !real_ms.is_finite() || real_ms <= 0.0 {
            return Vec::new();
        }
        let target = (self.position + real_ms * self.speed).min(self.duration);
        let mut ops = Vec::new();
        while let Some(event) = self.events.get(self.cursor) {
            if event.t - self.started_at > target {
                break;
            }
            self.dom.apply_into(event, &mut ops);
            self.cursor += 1;
        }
        self.position = target;
        if target >= self.duration {
            self.state = PlayState::Ended;
        }
        ops
    }

    /// Moves to `at` ms (clamped to the session) and returns the operations that render it. The
    /// play state is kept (an ended session becomes paused when moved back).
    pub fn seek(&mut self, at: f64) -> Vec<DomOp> {
        let at = if at.is_nan() { 0.0 } else { at.clamp(0.0, self.duration) };
        // The first snapshot comes a little after the session starts (the recorder is injected
        // after `start`): before it, show the page as it was first recorded, not a blank frame.
        let first_snapshot = self.events.iter().find(|e| starts_page(e)).map(|e| e.t);
        let target = (self.started_at + at).max(first_snapshot.unwrap_or(f64::NEG_INFINITY));
        // Events up to and including `target`; start from the last snapshot among them.
        let end = self.events.partition_point(|e| e.t <= target);
        let start = self.events[..end].iter().rposition(starts_page);
        // The nearest keyframe after the page's snapshot and not past the target.
        let keyframe = start.and_then(|s| {
            let k = self.keyframes.partition_point(|(at, _)| *at <= end);
            k.checked_sub(1).map(|k| &self.keyframes[k]).filter(|(at, _)| *at > s)
        });
        // What the replay shows now: the operations bring it to the target.
        let shown = std::mem::take(&mut self.dom);
        let start = match start {
            // Forward seek within the same page: continue from where we are, unless a keyframe
            // is nearer.
            Some(s) if s < self.cursor && self.cursor <= end && keyframe.is_none_or(|(at, _)| *at <= self.cursor) => {
                self.dom = shown.clone();
                self.cursor
            }
            Some(s) => match keyframe {
                Some((at, dom)) => {
                    self.dom = dom.clone();
                    *at
                }
                None => {
                    self.dom = self.fresh_dom();
                    self.first_of_page(s)
                }
            },
            None => {
                self.dom = self.fresh_dom();
                end
            }
        };
        for i in start..end {
            self.dom.update(&self.events[i]);
            if (i + 1) % KEYFRAME_EVENTS == 0 && i + 1 < end {
                let dom = std::mem::take(&mut self.dom);
                self.keep_keyframe(i + 1, &dom);
                self.dom = dom;
            }
        }
        self.cursor = end;
        self.position = at;
        if self.state == PlayState::Ended && at < self.duration {
            self.state = PlayState::Paused;
        }
        self.dom.render_from(&shown)
    }
}

/// Whether `event` starts a page: a snapshot of the top-level document (a frame's snapshot
/// starts only that frame's document).
fn starts_page(event: &Event) -> bool {
    event.frame == 0 && matches!(event.data, EventData::Snapshot(_))
}

impl Player {
    /// The first of the events of the page that the snapshot at `snapshot` starts: the events
    /// of that page just before it (its frames' recorders may have sent theirs first).
    fn first_of_page(&self, snapshot: usize) -> usize {
        let page = self.events[snapshot].page;
        self.events[..snapshot].iter().rposition(|e| e.page != page).map_or(0, |i| i + 1)
    }

    /// Keeps `dom` as the keyframe before event `at`, if memory allows.
    fn keep_keyframe(&mut self, at: usize, dom: &TabDom) {
        let k = self.keyframes.partition_point(|(i, _)| *i < at);
        if self.keyframes.get(k).is_some_and(|(i, _)| *i == at) {
            return;
        }
        let size = dom.len();
        if self.keyframe_nodes + size > KEYFRAME_NODES {
            return;
        }
        self.keyframe_nodes += size;
        self.keyframes.insert(k, (at, dom.clone()));
    }

    /// Replays up to `max_events` more events in the background to keep keyframes, so the first
    /// long seek is as quick as later ones. The shell calls it while the replay is idle; true
    /// once the whole session has been through.
    pub fn prepare(&mut self, max_events: usize) -> bool {
        let (mut i, mut dom) = self.prepared.take().unwrap_or_else(|| (0, self.fresh_dom()));
        let end = (i + max_events).min(self.events.len());
        while i < end {
            dom.update(&self.events[i]);
            i += 1;
            if i % KEYFRAME_EVENTS == 0 && i < self.events.len() {
                self.keep_keyframe(i, &dom);
            }
        }
        if i < self.events.len() {
            self.prepared = Some((i, dom));
            false
        } else {
            true
        }
    }

    /// How many keyframes are kept (for tests and diagnostics).
    pub fn keyframe_count(&self) -> usize {
        self.keyframes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::*;
    use crate::core::screen::Screen;

    const T0: f64 = 1_000_000.0;

    fn el(id: NodeId, parent: NodeId, tag: &str, attrs: &[(&str, &str)]) -> SerializedNode {
        SerializedNode {
            id,
            parent: Some(parent),
            kind: NodeKind::Element(ElementNode {
                tag: tag.into(),
                ns: None,
                attrs: attrs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
                form: None,
                css: None,
            }),
        }
    }

    fn snapshot(page: u32, t: f64, body_attrs: &[(&str, &str)]) -> Event {
        let mut body = el(3, 2, "body", body_attrs);
        body.parent = Some(2);
        Event {
            t,
            page, frame: 0,
            data: EventData::Snapshot(Snapshot {
                url: format!("http://127.0.0.1/{page}"),
                title: String::new(),
                width: 800,
                height: 600,
                nodes: vec![
                    SerializedNode { id: 1, parent: None, kind: NodeKind::Document },
                    SerializedNode { id: 10, parent: Some(1), kind: NodeKind::Doctype { name: "html".into(), public_id: String::new(), system_id: String::new() } },
                    el(2, 1, "html", &[]),
                    body,
                    SerializedNode { id: 4, parent: Some(3), kind: NodeKind::Text { text: "hello".into() } },
                ],
                scrolls: vec![],
                focus: None,
            }),
        }
    }

    fn mutation(t: f64, batch: MutationBatch) -> Event {
        Event { t, page: 0, frame: 0, data: EventData::Mutation(batch) }
    }

    fn session() -> Vec<Event> {
        vec![
            snapshot(0, T0, &[]),
            mutation(T0 + 100.0, MutationBatch { adds: vec![Addition { parent: 3, before: Some(4), nodes: vec![el(5, 3, "div", &[("id", "a")])] }], ..Default::default() }),
            mutation(T0 + 200.0, MutationBatch { attrs: vec![AttributeChange { id: 3, name: "class".into(), value: Some("dark".into()) }], ..Default::default() }),
            mutation(T0 + 300.0, MutationBatch { texts: vec![TextChange { id: 4, text: "bye".into() }], removes: vec![Removal { parent: 3, id: 5 }], ..Default::default() }),
            Event { t: T0 + 400.0, page: 0, frame: 0, data: EventData::Click { target: Some(3), x: 5.0, y: 6.0 } },
        ]
    }

    #[test]
    fn seeking_gives_the_state_at_that_time_in_any_order() {
        let mut p = Player::new(session(), T0, 0.0);
        assert_eq!(p.duration(), 400.0);
        let at = |p: &mut Player, ms: f64| {
            p.seek(ms);
            p.dom().outline()
        };
        let s250 = at(&mut p, 250.0);
        assert!(s250.contains("<body class=\"dark\">"), "{s250}");
        assert!(s250.contains("<div id=\"a\">"));
        let s50 = at(&mut p, 50.0);
        assert!(!s50.contains("div"), "{s50}");
        assert!(!s50.contains("dark"));
        let end = at(&mut p, f64::INFINITY);
        assert!(end.contains("\"bye\"") && !end.contains("div"), "{end}");
        // Backwards then forwards again yields the same text as a fresh player.
        at(&mut p, 0.0);
        let again = at(&mut p, 250.0);
        assert_eq!(again, s250);
    }

    /// A long session: two pages, thousands of batches that add, change and remove nodes.
    fn long_session() -> Vec<Event> {
        let mut events = vec![snapshot(0, T0 + 1.0, &[])];
        let mut next: NodeId = 100;
        let mut live: Vec<NodeId> = Vec::new();
        for i in 0..5_000u32 {
            let t = T0 + 10.0 + i as f64 * 100.0;
            if i == 3_000 {
                events.push(snapshot(1, t, &[("class", "second")]));
                live.clear();
                continue;
            }
            let page = if i < 3_000 { 0 } else { 1 };
            let mut batch = MutationBatch::default();
            match i % 4 {
                0 | 1 => {
                    let before = live.get((i as usize * 7) % (live.len() + 1)).copied();
                    batch.adds.push(Addition { parent: 3, before, nodes: vec![el(next, 3, "p", &[("n", &i.to_string())]), SerializedNode { id: next + 1, parent: Some(next), kind: NodeKind::Text { text: format!("t{i}") } }] });
                    live.push(next);
                    next += 2;
                }
                2 if !live.is_empty() => {
                    let id = live[(i as usize * 13) % live.len()];
                    batch.attrs.push(AttributeChange { id, name: "class".into(), value: Some(format!("c{i}")) });
                }
                _ if !live.is_empty() => {
                    let id = live.remove((i as usize * 5) % live.len());
                    batch.removes.push(Removal { parent: 3, id });
                }
                _ => {}
            }
            events.push(Event { t, page, frame: 0, data: EventData::Mutation(batch) });
        }
        events
    }

    #[test]
    fn seeks_through_keyframes_show_what_a_fresh_replay_shows() {
        let events = long_session();
        let duration = 5_000.0 * 100.0 + 20.0;
        let mut player = Player::new(events.clone(), T0, duration);
        let mut rng: u64 = 9;
        let mut positions = vec![duration, 0.0, duration / 2.0, duration, 299_000.0, 301_000.0, 150_000.0];
        for _ in 0..25 {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
            positions.push((rng >> 33) as f64 % duration);
        }
        // Each seek's operations go to the same screen, as in the replay (a diff against what it
        // shows); it must then show what a fresh replay shows.
        let mut screen = Screen::default();
        for at in positions {
            screen.apply(&player.seek(at));
            let mut fresh = Player::new(events.clone(), T0, duration);
            let mut expected = Screen::default();
            expected.apply(&fresh.seek(at));
            assert_eq!(player.dom().outline(), fresh.dom().outline(), "model at {at}");
            assert_eq!(screen.outline(), expected.outline(), "shown at {at}");
        }
        assert!(player.keyframe_count() >= 5, "keyframes kept: {}", player.keyframe_count());
    }

    #[test]
    fn prepared_keyframes_give_the_same_seeks() {
        let events = long_session();
        let duration = 5_000.0 * 100.0 + 20.0;
        let mut player = Player::new(events.clone(), T0, duration);
        let mut rounds = 0;
        while !player.prepare(700) {
            rounds += 1;
        }
        assert!(rounds >= 6 && player.keyframe_count() >= 10, "{rounds} rounds, {} keyframes", player.keyframe_count());
        let mut screen = Screen::default();
        for at in [duration, 1.0, 299_950.0, 300_020.0, 123_456.0, duration] {
            screen.apply(&player.seek(at));
            let mut fresh = Player::new(events.clone(), T0, duration);
            let mut expected = Screen::default();
            expected.apply(&fresh.seek(at));
            assert_eq!(screen.outline(), expected.outline(), "shown at {at}");
        }
    }

    #[test]
    fn playing_applies_events_as_the_clock_passes_them() {
        let mut p = Player::new(session(), T0, 0.0);
        let initial = p.seek(0.0);
        assert!(initial.iter().any(|op| matches!(op, DomOp::Reset { doctype: Some(d), .. } if d == "<!DOCTYPE html>")));
        p.play();
        let ops = p.tick(150.0);
        assert_eq!(
            ops.iter().filter(|op| matches!(op, DomOp::Insert { parent: 3, id: 5, before: Some(4) })).count(),
            1,
            "{ops:?}"
        );
        p.set_speed(2.0);
        let ops = p.tick(50.0); // +100 ms of session time: 250
        assert!(ops.contains(&DomOp::SetAttribute { id: 3, name: "class".into(), value: "dark".into() }));
        p.pause();
        assert!(p.tick(1000.0).is_empty());
        p.play();
        let ops = p.tick(1000.0);
        assert!(ops.contains(&DomOp::Click { x: 5.0, y: 6.0 }));
        assert!(ops.iter().any(|op| matches!(op, DomOp::Remove { id: 5, .. })));
        assert_eq!(p.state(), PlayState::Ended);
        assert_eq!(p.position(), 400.0);
    }

    #[test]
    fn rendering_is_sanitised() {
        let mut events = session();
        events.push(mutation(
            T0 + 350.0,
            MutationBatch {
                adds: vec![Addition {
                    parent: 3,
                    before: None,
                    nodes: vec![el(6, 3, "img", &[("src", "javascript:alert(1)"), ("onerror", "alert(2)"), ("alt", "x")]), el(7, 6, "script", &[("src", "/evil.js")])],
                }],
                ..Default::default()
            },
        ));
        let mut p = Player::new(events, T0, 0.0);
        let ops = p.seek(400.0);
        let text = format!("{ops:?}");
        assert!(!text.contains("alert"), "{text}");
        assert!(!text.contains("evil.js"), "{text}");
        assert!(text.contains("text/x-tabreel-inert"));
    }

    #[test]
    fn a_navigation_starts_a_new_page_and_old_page_events_are_ignored() {
        let mut events = session();
        events.push(snapshot(1, T0 + 500.0, &[("class", "page2")]));
        // A straggler from page 0 after page 1 began must not touch page 1.
        events.push(mutation(T0 + 600.0, MutationBatch { texts: vec![TextChange { id: 4, text: "stale".into() }], ..Default::default() }));
        let mut p = Player::new(events, T0, 1000.0);
        assert_eq!(p.pages().len(), 2);
        p.seek(1000.0);
        assert_eq!(p.dom().page(), Some(1));
        let outline = p.dom().outline();
        assert!(outline.contains("page2") && outline.contains("\"hello\"") && !outline.contains("stale"), "{outline}");
        p.seek(450.0);
        assert_eq!(p.dom().page(), Some(0));
    }

    #[test]
    fn the_start_shows_the_first_snapshot_even_when_it_came_late() {
        let mut events = session();
        for e in &mut events {
            e.t += 80.0; // the recorder took its snapshot 80 ms after `start`
        }
        let mut p = Player::new(events, T0, 0.0);
        let ops = p.seek(0.0);
        assert!(ops.iter().any(|op| matches!(op, DomOp::Reset { .. })), "{ops:?}");
        assert!(p.dom().outline().contains("\"hello\""));
        assert!(!p.dom().outline().contains("div"), "nothing after the snapshot is shown yet");
        assert_eq!(p.position(), 0.0);
        p.play();
        let ops = p.tick(100.0); // session time 100: before the div (added at 180)
        assert!(!ops.iter().any(|op| matches!(op, DomOp::Insert { id: 5, .. })));
        let ops = p.tick(100.0);
        assert!(ops.iter().any(|op| matches!(op, DomOp::Insert { id: 5, .. })), "{ops:?}");
    }

    #[test]
    fn malformed_mutations_are_ignored_not_fatal() {
        let events = vec![
            snapshot(0, T0, &[]),
            mutation(T0 + 1.0, MutationBatch {
                removes: vec![Removal { parent: 99, id: 4 }, Removal { parent: 3, id: 12345 }],
                adds: vec![Addition { parent: 777, before: None, nodes: vec![el(8, 777, "p", &[])] }, Addition { parent: 3, before: Some(999), nodes: vec![] }],
                attrs: vec![AttributeChange { id: 4, name: "x".into(), value: Some("y".into()) }],
                texts: vec![TextChange { id: 2, text: "no".into() }],
            }),
        ];
        let mut p = Player::new(events, T0, 0.0);
        p.seek(10.0);
        let outline = p.dom().outline();
        assert!(outline.contains("\"hello\"") && !outline.contains("<p"), "{outline}");
    }

    fn text(id: NodeId, parent: NodeId, text: &str) -> SerializedNode {
        SerializedNode { id, parent: Some(parent), kind: NodeKind::Text { text: text.into() } }
    }

    fn add(t: f64, parent: NodeId, nodes: Vec<SerializedNode>) -> Event {
        mutation(t, MutationBatch { adds: vec![Addition { parent, before: None, nodes }], ..Default::default() })
    }

    /// The text of every CreateText/SetText op for node `id`.
    fn texts_of(ops: &[DomOp], id: NodeId) -> Vec<String> {
        ops.iter()
            .filter_map(|op| match op {
                DomOp::CreateText { id: i, text } | DomOp::SetText { id: i, text } if *i == id => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn recorded_css_is_resolved_against_the_page_and_its_stylesheets() {
        let mut link = el(6, 3, "link", &[("rel", "stylesheet"), ("href", "css/site.css")]);
        if let NodeKind::Element(e) = &mut link.kind {
            e.css = Some("a{background:url(img/a.png)}".into());
        }
        let events = vec![
            snapshot(0, T0, &[]),
            add(T0 + 10.0, 3, vec![el(5, 3, "style", &[]), text(7, 5, "b:hover{background:url(b.png)}")]),
            add(T0 + 20.0, 3, vec![link]),
            mutation(T0 + 30.0, MutationBatch { texts: vec![TextChange { id: 7, text: "c{mask:url(../c.svg)}".into() }], ..Default::default() }),
        ];
        let mut p = Player::new(events, T0, 100.0);
        let ops = p.seek(25.0);
        assert_eq!(texts_of(&ops, 7), vec!["b[data-tabreel-hover]{background:url(\"http://127.0.0.1/b.png\")}".to_string()]);
        assert!(ops.contains(&DomOp::SetStyleText { id: 6, css: "a{background:url(\"http://127.0.0.1/css/img/a.png\")}".into() }), "{ops:?}");
        // The model keeps what was recorded; only what goes to the frame is rewritten.
        assert!(p.dom().outline().contains("\"b:hover{background:url(b.png)}\""));
        p.play();
        let ops = p.tick(100.0);
        assert_eq!(texts_of(&ops, 7), vec!["c{mask:url(\"http://127.0.0.1/c.svg\")}".to_string()]);
        // Text outside <style> is never touched.
        p.seek(0.0);
        assert_eq!(texts_of(&p.dom().render(), 4), vec!["hello".to_string()]);
    }

    #[test]
    fn stored_assets_replace_recorded_urls_and_sheets() {
        let mut captured = el(6, 3, "link", &[("rel", "stylesheet"), ("href", "css/site.css")]);
        if let NodeKind::Element(e) = &mut captured.kind {
            e.css = Some("a{padding:0px}".into()); // what the CSSOM said (var() lost)
        }
        let uncaptured = el(8, 3, "link", &[("rel", "stylesheet"), ("href", "http://cdn.test/x.css"), ("media", "screen")]);
        let events = vec![
            snapshot(0, T0, &[]),
            add(T0 + 10.0, 3, vec![captured, uncaptured, el(9, 3, "img", &[("src", "img/a.png"), ("alt", "a")])]),
            add(T0 + 11.0, 3, vec![el(5, 3, "style", &[]), text(7, 5, "@font-face{src:url(f.woff2)}")]),
            mutation(T0 + 20.0, MutationBatch { attrs: vec![AttributeChange { id: 9, name: "src".into(), value: Some("img/b.png".into()) }], ..Default::default() }),
        ];
        let mut p = Player::new(events, T0, 100.0);
        let resources = vec![("http://127.0.0.1/img/a.png".to_string(), "blob:A".to_string()), ("http://127.0.0.1/f.woff2".to_string(), "blob:F".to_string()), ("http://cdn.test/bg.png".to_string(), "blob:B".to_string())];
        let sheets = vec![("http://127.0.0.1/css/site.css".to_string(), "a{padding:var(--p) 1px}".to_string()), ("http://cdn.test/x.css".to_string(), "b:hover{background:url(bg.png)}".to_string())];
        p.set_assets(AssetUrls::build(resources, sheets, |css| format!("blob:[{css}]")));
        for _ in 0..2 {
            // Twice: the second seek starts from a model kept by the first.
            p.seek(15.0);
            let ops = p.dom().render();
            assert!(ops.contains(&DomOp::SetStyleText { id: 6, css: "a{padding:var(--p) 1px}".into() }), "{ops:?}");
            assert!(ops.contains(&DomOp::CreateElement { id: 8, tag: "style".into(), ns: None }), "{ops:?}");
            assert!(ops.contains(&DomOp::SetStyleText { id: 8, css: "b[data-tabreel-hover]{background:url(\"blob:B\")}".into() }), "{ops:?}");
            assert!(ops.contains(&DomOp::SetAttribute { id: 9, name: "src".into(), value: "blob:A".into() }), "{ops:?}");
            assert!(ops.contains(&DomOp::SetAttribute { id: 9, name: "data-tabreel-recorded-src".into(), value: "img/a.png".into() }), "{ops:?}");
            assert!(ops.contains(&DomOp::SetAttribute { id: 9, name: "alt".into(), value: "a".into() }), "{ops:?}");
            assert_eq!(texts_of(&ops, 7), vec!["@font-face{src:url(\"blob:F\")}".to_string()]);
        }
        p.play();
        let ops = p.tick(10.0);
        // Not stored: the recorded URL, and no stale recorded value.
        assert!(ops.contains(&DomOp::SetAttribute { id: 9, name: "src".into(), value: "img/b.png".into() }), "{ops:?}");
        assert!(ops.contains(&DomOp::RemoveAttribute { id: 9, name: "data-tabreel-recorded-src".into() }), "{ops:?}");
    }

    #[test]
    fn a_base_element_moves_the_base_url() {
        let events = vec![
            snapshot(0, T0, &[]),
            add(T0 + 10.0, 2, vec![el(5, 2, "base", &[("href", "/static/")])]),
            add(T0 + 20.0, 3, vec![el(6, 3, "style", &[]), text(7, 6, "a{b:url(x.png)}")]),
            mutation(T0 + 30.0, MutationBatch { removes: vec![Removal { parent: 2, id: 5 }], ..Default::default() }),
        ];
        let mut p = Player::new(events, T0, 100.0);
        assert_eq!(texts_of(&p.seek(25.0), 7), vec!["a{b:url(\"http://127.0.0.1/static/x.png\")}".to_string()]);
        assert_eq!(p.dom().top().base_url(), "http://127.0.0.1/static/");
        assert_eq!(texts_of(&p.seek(35.0), 7), vec!["a{b:url(\"http://127.0.0.1/x.png\")}".to_string()]);
        assert_eq!(p.dom().top().base_url(), "http://127.0.0.1/0");
    }

    fn frames_of(ops: &[DomOp]) -> Vec<(NodeId, String)> {
        ops.iter()
            .filter_map(|op| match op {
                DomOp::DrawFrame { id, hash, .. } => Some((*id, hash.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn seeking_shows_the_latest_canvas_frame_at_or_before_the_time() {
        let frame = |t: f64, target: NodeId, hash: &str| Event { t, page: 0, frame: 0, data: EventData::CanvasFrame { target, hash: hash.repeat(64), width: 300, height: 150 } };
        let events = vec![
            snapshot(0, T0, &[]),
            add(T0 + 10.0, 3, vec![el(5, 3, "canvas", &[("width", "300")]), el(6, 3, "canvas", &[])]),
            frame(T0 + 100.0, 5, "a"),
            frame(T0 + 200.0, 5, "b"),
            frame(T0 + 250.0, 6, "c"),
            frame(T0 + 300.0, 5, "a"),
            mutation(T0 + 350.0, MutationBatch { attrs: vec![AttributeChange { id: 5, name: "width".into(), value: Some("400".into()) }], ..Default::default() }),
            mutation(T0 + 400.0, MutationBatch { removes: vec![Removal { parent: 3, id: 6 }], ..Default::default() }),
            frame(T0 + 450.0, 99, "d"), // not a recorded node: ignored
        ];
        let mut p = Player::new(events.clone(), T0, 500.0);
        assert_eq!(frames_of(&p.seek(50.0)), vec![]);
        assert_eq!(frames_of(&p.seek(100.0)), vec![(5, "a".repeat(64))]);
        assert_eq!(frames_of(&p.seek(260.0)), vec![(5, "b".repeat(64)), (6, "c".repeat(64))]);
        assert_eq!(frames_of(&p.seek(199.0)), vec![(5, "a".repeat(64))], "backwards");
        assert_eq!(frames_of(&p.seek(500.0)), vec![(5, "a".repeat(64))], "the removed canvas is gone, the unknown node ignored");
        // Playing draws each frame as the clock passes it, and again when the canvas is resized
        // (which clears a canvas).
        let mut p = Player::new(events, T0, 500.0);
        p.seek(0.0);
        p.play();
        assert_eq!(frames_of(&p.tick(150.0)), vec![(5, "a".repeat(64))]);
        assert_eq!(frames_of(&p.tick(110.0)), vec![(5, "b".repeat(64)), (6, "c".repeat(64))]);
        let ops = p.tick(100.0);
        assert_eq!(frames_of(&ops), vec![(5, "a".repeat(64)), (5, "a".repeat(64))]);
        let resize = ops.iter().position(|o| matches!(o, DomOp::SetAttribute { id: 5, .. })).unwrap();
        assert!(matches!(ops.last(), Some(DomOp::DrawFrame { id: 5, .. })) && ops.len() - 1 > resize);
    }

    #[test]
    fn media_state_and_selection_follow_the_recording() {
        let media = |t: f64, paused: bool, time: f64| Event { t, page: 0, frame: 0, data: EventData::Media { target: 5, state: MediaState { paused, time, rate: 1.5, muted: true, volume: 0.25 } } };
        let select = |t: f64, a: Option<(NodeId, u32)>, f: Option<(NodeId, u32)>| Event {
            t,
            page: 0,
            frame: 0,
            data: EventData::Selection { anchor: a.map(|(node, offset)| SelectionPoint { node, offset }), focus: f.map(|(node, offset)| SelectionPoint { node, offset }) },
        };
        let events = vec![
            snapshot(0, T0, &[]),
            add(T0 + 10.0, 3, vec![el(5, 3, "video", &[]), el(6, 3, "p", &[]), text(7, 6, "some text")]),
            media(T0 + 100.0, false, 0.0),
            select(T0 + 150.0, Some((4, 1)), Some((7, 4))),
            media(T0 + 200.0, true, 3.25),
            select(T0 + 250.0, None, None),
            select(T0 + 300.0, Some((7, 0)), Some((7, 9))),
            mutation(T0 + 350.0, MutationBatch { removes: vec![Removal { parent: 3, id: 6 }], ..Default::default() }),
        ];
        let mut p = Player::new(events, T0, 400.0);
        let at = |p: &mut Player, ms: f64| {
            p.seek(ms);
            let ops = p.dom().render();
            let media = ops.iter().find_map(|o| match o { DomOp::Media { id: 5, state } => Some((state.paused, state.time)), _ => None });
            let range = ops.iter().find_map(|o| match o { DomOp::Select { range } => Some(range.map(|(a, f)| (a.node, a.offset, f.node, f.offset))), _ => None }).flatten();
            (media, range)
        };
        assert_eq!(at(&mut p, 50.0), (None, None));
        assert_eq!(at(&mut p, 160.0), (Some((false, 0.0)), Some((4, 1, 7, 4))));
        assert_eq!(at(&mut p, 210.0), (Some((true, 3.25)), Some((4, 1, 7, 4))));
        assert_eq!(at(&mut p, 260.0), (Some((true, 3.25)), None));
        assert_eq!(at(&mut p, 320.0), (Some((true, 3.25)), Some((7, 0, 7, 9))));
        assert_eq!(at(&mut p, 400.0), (Some((true, 3.25)), None), "the selected text left the document");
        assert_eq!(at(&mut p, 120.0), (Some((false, 0.0)), None), "backwards");
    }

    #[test]
    fn focus_shows_its_ring_for_text_fields_and_after_keyboard_use() {
        let focus = |t: f64, id: NodeId| Event { t, page: 0, frame: 0, data: EventData::Focus { target: Some(id) } };
        let pointer = |t: f64| Event { t, page: 0, frame: 0, data: EventData::PointerMove { x: 1.0, y: 2.0 } };
        let events = vec![
            snapshot(0, T0, &[]),
            add(T0 + 1.0, 3, vec![el(5, 3, "button", &[]), el(6, 3, "input", &[("type", "email")]), el(7, 3, "div", &[("contenteditable", "")]), el(8, 3, "input", &[("type", "checkbox")])]),
            pointer(T0 + 100.0),
            focus(T0 + 150.0, 5), // clicked: no ring on a button
            focus(T0 + 200.0, 6), // a text field always shows it
            focus(T0 + 250.0, 7), // so does an editing host
            focus(T0 + 300.0, 8), // a checkbox clicked: none
            focus(T0 + 3000.0, 5), // long after the pointer last moved: the keyboard
        ];
        let mut p = Player::new(events, T0, 4000.0);
        let focus_at = |p: &mut Player, ms: f64| {
            p.seek(ms).into_iter().find_map(|op| match op {
                DomOp::Focus { id, visible } => Some((id, visible)),
                _ => None,
            })
        };
        assert_eq!(focus_at(&mut p, 50.0), None);
        assert_eq!(focus_at(&mut p, 160.0), Some((Some(5), false)));
        assert_eq!(focus_at(&mut p, 210.0), Some((Some(6), true)));
        assert_eq!(focus_at(&mut p, 260.0), Some((Some(7), true)));
        assert_eq!(focus_at(&mut p, 310.0), Some((Some(8), false)));
        assert_eq!(focus_at(&mut p, 3500.0), Some((Some(5), true)));
    }
}
