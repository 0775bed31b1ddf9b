//! The content script: connects to the service worker, records the page when told to, and sends
//! batches of events on a port. Built with the `capture` feature and lowered to plain JS by
//! wasm2js, so it runs on every page whatever its CSP, without ever trying to compile wasm there.
//!
//! Lifecycle: `capture_main` connects and says `Hello`; the worker answers `Record` (start, or
//! carry on after the worker restarted) or `Stop`. When the worker is killed the port
//! disconnects; the next batch reconnects and says `Hello` with the session and page it is
//! recording, so the recording carries on where it was.

pub mod canvas;
pub mod dom;
pub mod media;
pub mod recorder;
pub mod sheets;

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::core::protocol::{CaptureMessage, WorkerMessage, EVENTS_FIELD};
use crate::shell::chrome::{runtime_connect, Port};
use crate::shell::error::{from_js, to_js};
use recorder::Recorder;

/// The isolated-world global through which a later injection reaches the live capture (the page
/// cannot see it); removed when the capture stops.
const LIVE_CAPTURE: &str = "__tabreelCapture";

/// The longest a document that is still loading waits for its parser before its recording starts.
const PARSING_WAIT_MS: i32 = 1000;

/// How often a stop waits for a snapshot still being taken.
const STOP_POLL_MS: i32 = 50;

/// Where this page's recording goes.
#[derive(Default)]
struct Link {
    port: Option<Port>,
    session: Option<String>,
    page: Option<u32>,
}

thread_local! {
    static LINK: RefCell<Link> = RefCell::new(Link::default());
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
    /// Child frames the worker named before this page's recorder started: (frame, index).
    static CHILD_FRAMES: RefCell<Vec<(u32, u32)>> = const { RefCell::new(Vec::new()) };
    /// Counts calls of [`start`], so that a start waiting for the parser is dropped when a later
    /// one comes, and runs once although two things (the parser, a timer) may trigger it.
    static STARTS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The window's `performance`, looked up once: `web_sys::window()` (an `instanceof Window`
    /// check) and the `performance` getter cost more than `now()` itself, and the clock is read
    /// in every mutation callback.
    static PERFORMANCE: Option<web_sys::Performance> = web_sys::window().and_then(|w| w.performance());
}

/// Milliseconds since the page's time origin (`performance.now()`; `Date.now()` where there is
/// no `performance`).
pub fn perf_now() -> f64 {
    PERFORMANCE.with(|p| p.as_ref().map(|p| p.now())).unwrap_or_else(js_sys::Date::now)
}

/// Whether the loader (`extension/loader.js`, in this isolated world) has listened to this
/// document's scroll events since the document started, and none reached an element: then no
/// element outside shadow trees was scrolled before the recorder started listening, and the
/// snapshot need not read every element's scroll offsets. False for a document that was open
/// before the extension was loaded (it never ran the loader).
pub fn no_element_scrolled_since_start() -> bool {
    let global: JsValue = js_sys::global().into();
    let flag = |name: &str| js_sys::Reflect::get(&global, &name.into()).ok().and_then(|v| v.as_bool());
    flag("__tabreelWatching") == Some(true) && flag("__tabreelScrolled") != Some(true)
}

/// Entry point, called once by the bundled content script.
#[wasm_bindgen]
pub fn capture_main() {
    // A page restored from the back/forward cache is a new page of the session: its port was
    // closed when it was cached, and its DOM may differ from what was last recorded.
    if let Some(window) = web_sys::window() {
        gloo_events::EventListener::new(&window, "pageshow", |e| {
            let restored = js_sys::Reflect::get(e, &"persisted".into()).ok().and_then(|v| v.as_bool()).unwrap_or(false);
            if restored && LINK.with_borrow(|l| l.session.is_some()) {
                RECORDER.with_borrow_mut(|r| *r = None);
                LINK.with_borrow_mut(|l| {
                    l.page = None;
                    l.port = None;
                });
                connect();
            }
        })
        .forget();
    }
    connect();
}

/// Called when the recorder is injected into a document that already runs one (the worker
/// restarted, or recording started again): introduce this page afresh so the worker can tell it
/// to carry on, to start a new session's page, or to stop.
#[wasm_bindgen]
pub fn capture_reconnect() {
    if let Some(port) = LINK.with_borrow_mut(|l| l.port.take()) {
        port.disconnect();
    }
    connect();
}

fn log(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("tabreel: {message}")));
}

/// Opens a port to the worker and introduces this page.
fn connect() -> Option<Port> {
    let info = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&info, &"name".into(), &"capture".into());
    let port = match runtime_connect(&info) {
        Ok(port) => port,
        Err(e) => {
            // The extension was reloaded or removed: this script is orphaned.
            log(&format!("cannot reach the extension: {}", crate::shell::error::js_message(&e)));
            return None;
        }
    };
    let on_message = Closure::<dyn FnMut(JsValue)>::new(on_worker_message);
    port.on_message().add_listener(on_message.as_ref().unchecked_ref());
    on_message.forget();
    let disconnected = port.clone();
    let on_disconnect = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        LINK.with_borrow_mut(|link| {
            if link.port.as_ref().is_some_and(|p| JsValue::from(p.clone()) == JsValue::from(disconnected.clone())) {
                link.port = None;
            }
        });
    });
    port.on_disconnect().add_listener(on_disconnect.as_ref().unchecked_ref());
    on_disconnect.forget();
    let hello = LINK.with_borrow_mut(|link| {
        link.port = Some(port.clone());
        CaptureMessage::Hello { session: link.session.clone(), page: link.page, index: frame_index() }
    });
    port.post_message(&to_js(&hello)).ok()?;
    Some(port)
}

/// `CaptureMessage::Events` as a JS object, built directly, with the events' JSON as bytes in
/// [`EVENTS_FIELD`]: the port carries a structured clone (the manifest's `message_serialization`),
/// so the bytes are copied once into the message and once across, where a string would be decoded
/// from UTF-8 here and, for a JSON port, escaped into another JSON text on the page's main thread.
/// A host test in `core::protocol` checks that the rest of this shape is what the worker reads.
fn events_message(session: &str, count: u32, last_t: f64, events: &[u8]) -> JsValue {
    let message = js_sys::Object::new();
    for (key, value) in [
        ("type", JsValue::from_str("events")),
        ("session", JsValue::from_str(session)),
        ("count", JsValue::from(count)),
        ("last_t", JsValue::from_f64(last_t)),
        (EVENTS_FIELD, js_sys::Uint8Array::from(events).into()),
    ] {
        let _ = js_sys::Reflect::set(&message, &key.into(), &value);
    }
    message.into()
}

/// Sends a message given as a JS value, reconnecting once if the worker went away.
fn send_value(value: JsValue) {
    let port = LINK.with_borrow(|link| link.port.clone()).or_else(connect);
    if let Some(port) = port {
        if port.post_message(&value).is_ok() {
            return;
        }
        LINK.with_borrow_mut(|link| link.port = None);
        if let Some(port) = connect() {
            if port.post_message(&value).is_ok() {
                return;
            }
        }
    }
    log("a batch of events could not be delivered to the extension");
}

fn on_worker_message(value: JsValue) {
    let message: WorkerMessage = match from_js(&value, "reading a message from the worker") {
        Ok(m) => m,
        Err(e) => return log(&e.to_string()),
    };
    match message {
        WorkerMessage::Record { session, page } => start(session, page),
        WorkerMessage::Stop => stop(),
        WorkerMessage::ChildFrame { frame, index } => {
            let linked = RECORDER.with_borrow(|r| r.as_ref().map(|r| r.link_child(frame, index)).is_some());
            if !linked {
                CHILD_FRAMES.with_borrow_mut(|c| c.push((frame, index)));
            }
        }
    }
}

/// This document's position in its parent's `window.frames`, when it is a frame (a parent of
/// any origin lets every frame read its `frames`). The parent's recorder finds the `<iframe>`
/// whose `contentWindow` that is.
fn frame_index() -> Option<u32> {
    let window = web_sys::window()?;
    let parent = window.parent().ok()??;
    let me: JsValue = window.into();
    if JsValue::from(parent.clone()) == me {
        return None;
    }
    let count = js_sys::Reflect::get(&parent, &"length".into()).ok()?.as_f64()? as u32;
    (0..count.min(10_000)).find(|&i| js_sys::Reflect::get_u32(&parent, i).is_ok_and(|w| w == me))
}

fn start(session: String, page: u32) {
    let already = LINK.with_borrow_mut(|link| {
        let same = link.session.as_deref() == Some(session.as_str()) && link.page == Some(page);
        link.session = Some(session.clone());
        link.page = Some(page);
        same
    });
    if already && RECORDER.with_borrow(|r| r.is_some()) {
        return; // a reconnect: carry on
    }
    STARTS.with(|n| n.set(n.get().wrapping_add(1)));
    let Some(window) = web_sys::window() else { return };
    let Some(document) = window.document() else { return };
    if document.ready_state() == "loading" {
        // Recorded from the document's start: the snapshot waits until the parser is done (or
        // [`PARSING_WAIT_MS`] have passed), so the parser's insertions, one mutation record per
        // node, never reach the recorder; the snapshot reads them in slices instead.
        let start = STARTS.with(|n| n.get());
        let (when_parsed, after_wait) = (session.clone(), session.clone());
        let parsed = gloo_events::EventListener::once(&document, "DOMContentLoaded", move |_| begin(start, when_parsed, page));
        parsed.forget();
        let waited = Closure::once_into_js(move || begin(start, after_wait, page));
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(waited.unchecked_ref(), PARSING_WAIT_MS);
        return;
    }
    begin(STARTS.with(|n| n.get()), session, page);
}

/// Starts the recorder for `session`'s `page` (replacing any other), if `start` is still the
/// latest call of [`start`] and it has not begun yet, and the page was not stopped meanwhile.
fn begin(start: u32, session: String, page: u32) {
    let latest = STARTS.with(|n| {
        let latest = n.get() == start;
        if latest {
            n.set(start.wrapping_add(1)); // begun: a second call for it does nothing
        }
        latest
    });
    let current = LINK.with_borrow(|l| l.session.as_deref() == Some(session.as_str()) && l.page == Some(page));
    if !latest || !current {
        return;
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let frames_session = session.clone();
    let sink = Box::new(move |count: u32, last_t: f64, events: Vec<u8>| {
        send_value(events_message(&session, count, last_t, &events));
    });
    let frames = Box::new(move |f: canvas::Frame| {
        let mime = canvas::FRAME_MIME.to_string();
        let message = to_js(&CaptureMessage::Frame { session: frames_session.clone(), page, t: f.t, target: f.target, width: f.width, height: f.height, mime, data: String::new() });
        let _ = js_sys::Reflect::set(&message, &"data".into(), &f.data);
        send_value(message);
    });
    match Recorder::start(document, page, sink, frames) {
        Ok(recorder) => {
            for (frame, index) in CHILD_FRAMES.with_borrow_mut(std::mem::take) {
                recorder.link_child(frame, index);
            }
            RECORDER.with_borrow_mut(|r| *r = Some(recorder))
        }
        Err(e) => log(&format!("could not start recording: {}", crate::shell::error::js_message(&e))),
    }
}

fn stop() {
    // A snapshot still being taken is finished first, in slices as before: stopping must neither
    // freeze the page nor leave the replay with half a page.
    let pending = RECORDER.with_borrow(|r| r.as_ref().is_some_and(Recorder::snapshot_pending));
    if pending {
        if let Some(window) = web_sys::window() {
            let again = Closure::once_into_js(stop);
            if window.set_timeout_with_callback_and_timeout_and_arguments_0(again.unchecked_ref(), STOP_POLL_MS).is_ok() {
                return;
            }
        }
    }
    let recorder = RECORDER.with_borrow_mut(Option::take);
    if let Some(recorder) = &recorder {
        recorder.flush();
    }
    drop(recorder);
    let (session, port) = LINK.with_borrow_mut(|link| (link.session.take(), link.port.take()));
    if let (Some(session), Some(port)) = (session, port) {
        let _ = port.post_message(&to_js(&CaptureMessage::Stopped { session }));
        port.disconnect();
    }
    let _ = js_sys::Reflect::delete_property(js_sys::global().unchecked_ref::<js_sys::Object>(), &LIVE_CAPTURE.into());
}
