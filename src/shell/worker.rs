//! The service worker: answers the automation contract (`Request`), injects the recorder into
//! recorded tabs (also after every navigation, on the loader's `PageStart`), and writes each
//! batch of events to the [`SessionStore`] as it arrives.
//!
//! Chrome may stop the worker at any time. Everything needed to carry on (which tab records into
//! which session, the next page index) is in IndexedDB, not in memory; in memory are only the
//! open ports, which the content scripts re-open on their next batch. Batches that fail to store
//! (a full disk) are kept and retried with the next batch, and the error is reported by `status`.
//! Every frame of a recorded tab runs its own recorder (injected at the start into every frame,
//! later into every document the loader reports, frames included); its batches are stamped here
//! with the frame they came from (the port's sender, so a page cannot pick it), and it records
//! as the page the top-level document is on.
//! Each stored batch is also looked at for the stylesheets, fonts and images it refers to, which
//! [`crate::shell::assets`] fetches and stores with the session.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::core::blob::{self, PICTURE_MIMES};
use crate::core::chunk;
use crate::core::event::{Event, EventData};
use crate::core::format::{SessionFile, SessionMeta};
use crate::core::protocol::{CaptureMessage, Request, WorkerMessage, EVENTS_FIELD, EXPORT_PART_CHARS};
use crate::shell::assets;
use crate::shell::blob_store::StoredBlob;
use crate::shell::capture_build;
use crate::shell::chrome::{self, Port};
use crate::shell::error::{from_js, to_js, Context, ShellError};
use crate::shell::store::{new_session_id, SessionStore, TabRecording};

/// How many batches of a recording are stored between merges of its small chunks.
const MERGE_EVERY_BATCHES: u32 = 8;
/// Chunks at least this large are left as they are by merges during a recording.
const MERGE_SMALLER_THAN: usize = 64 * 1024;
/// How long `stop` waits for the page to hand over its last batch.
const STOP_ACK_MS: i32 = 30_000;
/// How long after a stop or a tab close a late batch of that session is still stored.
const CLOSING_GRACE_MS: f64 = 3000.0;
/// Most bytes of unsaved batches kept for a retry while storing fails.
const MAX_UNSAVED_BYTES: usize = 64 * 1024 * 1024;
/// How long `stop` waits at most for the session's assets to be fetched and stored.
const ASSETS_SETTLE_MS: i32 = 20_000;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: i32) -> JsValue;
}

/// A batch waiting to be stored.
struct PendingBatch {
    session: String,
    count: u32,
    last_t: f64,
    data: Vec<u8>,
}

#[derive(Default)]
struct WorkerState {
    store: Option<Rc<SessionStore>>,
    /// The recorders' ports by tab and frame.
    ports: HashMap<(i64, i64), Port>,
    stop_waiters: HashMap<(i64, i64), js_sys::Function>,
    /// Child frames to name to their parent frame's recorder once it connects, by (tab, parent
    /// frame): (child frame, its position in the parent's `window.frames`).
    child_frames: HashMap<(i64, i64), Vec<(u32, u32)>>,
    writes_in_flight: usize,
    idle_waiters: Vec<js_sys::Function>,
    unsaved: Vec<PendingBatch>,
    errors: HashMap<String, String>,
    /// Sessions being stopped or just stopped, with the time: their last batches are accepted.
    closing: HashMap<String, f64>,
    /// Batches stored per recording session since its small chunks were last merged.
    batches_since_merge: HashMap<String, u32>,
    /// Recording sessions whose small chunks are being merged now.
    merging: std::collections::HashSet<String>,
    /// The text of a multi-part export, so every part comes from one consistent file.
    export_cache: Option<(String, Rc<String>)>,
}

/// Serialises every change to tab state (start, stop, page numbering, closing), which would
/// otherwise interleave across IndexedDB transactions.
#[derive(Default)]
struct TabLock {
    held: bool,
    waiters: VecDeque<futures_channel::oneshot::Sender<()>>,
}

struct TabGuard;

async fn tab_lock() -> TabGuard {
    let wait = TAB_LOCK.with_borrow_mut(|l| {
        if l.held {
            let (tx, rx) = futures_channel::oneshot::channel();
            l.waiters.push_back(tx);
            Some(rx)
        } else {
            l.held = true;
            None
        }
    });
    if let Some(rx) = wait {
        let _ = rx.await;
    }
    TabGuard
}

impl Drop for TabGuard {
    fn drop(&mut self) {
        TAB_LOCK.with_borrow_mut(|l| {
            while let Some(next) = l.waiters.pop_front() {
                if next.send(()).is_ok() {
                    return; // handed over: still held
                }
            }
            l.held = false;
        });
    }
}

thread_local! {
    static STATE: RefCell<WorkerState> = RefCell::new(WorkerState::default());
    static TAB_LOCK: RefCell<TabLock> = RefCell::new(TabLock::default());
}

/// Who sent a message (Chrome's `MessageSender`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sender {
    id: Option<String>,
    url: Option<String>,
    tab: Option<SenderTab>,
    frame_id: Option<i64>,
    document_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SenderTab {
    id: Option<i64>,
}

impl Sender {
    fn is_extension_page(&self) -> bool {
        let id = chrome::runtime_id();
        self.id.as_deref() == Some(id.as_str()) && self.url.as_deref().is_some_and(|u| u.starts_with(&format!("chrome-extension://{id}/")))
    }

    /// The tab and frame of a content script of this extension in a page (any frame of a tab).
    fn content_frame(&self) -> Option<(i64, i64)> {
        let own = self.id.as_deref() == Some(chrome::runtime_id().as_str());
        let frame = self.frame_id.filter(|f| *f >= 0 && *f <= u32::MAX as i64)?;
        (own && !self.is_extension_page()).then(|| Some((self.tab.as_ref()?.id?, frame))).flatten()
    }
}

async fn store() -> Result<Rc<SessionStore>, ShellError> {
    if let Some(store) = STATE.with_borrow(|s| s.store.clone()) {
        return Ok(store);
    }
    let store = Rc::new(SessionStore::open().await?);
    Ok(STATE.with_borrow_mut(|s| s.store.get_or_insert(store).clone()))
}

/// `chrome.runtime.onMessage`: answers every command with a plain object, never a throw.
#[wasm_bindgen]
pub async fn handle_message(message: JsValue, sender: JsValue) -> JsValue {
    let reply = match dispatch(message, sender).await {
        Ok(v) => v,
        Err(e) => json!({ "ok": false, "error": e.to_string() }),
    };
    to_js(&reply)
}

async fn dispatch(message: JsValue, sender: JsValue) -> Result<Value, ShellError> {
    let sender: Sender = from_js(&sender, "reading the sender").unwrap_or_default();
    let request: Request = from_js(&message, "unknown or malformed command")?;
    if request == Request::PageStart {
        return page_start(&sender).await;
    }
    if request == Request::CaptureFallback {
        return capture_fallback(&sender).await;
    }
    if !sender.is_extension_page() {
        return Err(ShellError::new("refused", "commands are only accepted from the extension's own pages"));
    }
    match request {
        Request::Start { tab_id } => start(tab_id).await,
        Request::Stop { tab_id } => stop(tab_id).await,
        Request::Status { tab_id } => status(tab_id).await,
        Request::List => Ok(json!({ "ok": true, "sessions": store().await?.list().await? })),
        Request::Export { id, format, part } => export(&id, format.as_deref(), part).await,
        Request::Import { data } => import(&data).await,
        Request::Delete { id } => delete(&id).await,
        Request::PageStart | Request::CaptureFallback => unreachable!(),
    }
}

/// Injects the recorder into every frame the tab has now, the top-level document first (so that
/// its recorder is the first to ask for a page number). Each document gets the capture build its
/// loader was told it may run. A frame that cannot be injected (a page of another extension, a
/// `chrome:` page) is left out; the top-level document failing is an error.
async fn inject_existing(tab_id: i64) -> Result<(), ShellError> {
    let frames = chrome::web_navigation_get_all_frames(&to_js(&json!({ "tabId": tab_id }))).await;
    let frames: Vec<Value> = frames.ok().and_then(|f| from_js(&f, "reading the frames of a tab").ok()).unwrap_or_default();
    let mut ids: Vec<i64> = frames.iter().filter_map(|f| f.get("frameId").and_then(Value::as_i64)).filter(|f| *f != 0).collect();
    ids.insert(0, 0);
    for frame_id in ids {
        let injected = async {
            let (document, wasm) = probe(tab_id, frame_id).await?;
            inject_document(tab_id, frame_id, document.as_deref(), wasm).await
        }
        .await;
        match injected {
            Err(e) if frame_id == 0 => return Err(e),
            Err(e) => web_sys::console::warn_1(&JsValue::from_str(&format!("tabreel worker: frame {frame_id} is not recorded: {e}"))),
            Ok(()) => {}
        }
    }
    Ok(())
}

/// Asks a frame's loader for its document's verdict ([`capture_build::PROBE_SCRIPT`]): the
/// document's id and whether it may run the wasm build.
async fn probe(tab_id: i64, frame_id: i64) -> Result<(Option<String>, bool), ShellError> {
    let injection = json!({ "target": { "tabId": tab_id, "frameIds": [frame_id] }, "files": [capture_build::PROBE_SCRIPT], "injectImmediately": true });
    let results = chrome::scripting_execute_script(&to_js(&injection)).await.context("injecting the recorder")?;
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probed {
        document_id: Option<String>,
        #[serde(default)]
        result: Option<bool>,
    }
    let results: Vec<Probed> = from_js(&results, "reading the recorder probe").unwrap_or_default();
    Ok(results.into_iter().next().map(|r| (r.document_id, r.result == Some(true))).unwrap_or((None, false)))
}

async fn badge(tab_id: i64, recording: bool) {
    let text = if recording { "REC" } else { "" };
    let _ = chrome::action_set_badge_text(&to_js(&json!({ "tabId": tab_id, "text": text }))).await;
    if recording {
        let _ = chrome::action_set_badge_background_color(&to_js(&json!({ "tabId": tab_id, "color": "#c62828" }))).await;
    }
}

async fn start(tab_id: i64) -> Result<Value, ShellError> {
    let _guard = tab_lock().await;
    let store = store().await?;
    if let Some(rec) = store.tab(tab_id).await? {
        return Ok(json!({ "ok": true, "sessionId": rec.session_id }));
    }
    let tab = chrome::tabs_get(tab_id as f64).await.context(&format!("finding tab {tab_id}"))?;
    let field = |k: &str| js_sys::Reflect::get(&tab, &k.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    let (url, title) = (field("url"), field("title"));
    let started_at = js_sys::Date::now();
    let meta = SessionMeta { id: new_session_id(started_at), title, url: url.clone(), started_at, duration_ms: 0.0, event_count: 0, bytes: 0 };
    store.create(&meta).await?;
    store.put_tab(&TabRecording { tab_id, session_id: meta.id.clone(), next_page: 0 }).await?;
    if let Err(e) = inject_existing(tab_id).await {
        let _ = store.delete_tab(tab_id).await;
        let _ = store.delete(&meta.id).await;
        return Err(ShellError::new(format!("cannot record this tab ({url})"), e.message));
    }
    badge(tab_id, true).await;
    Ok(json!({ "ok": true, "sessionId": meta.id }))
}

async fn stop(tab_id: i64) -> Result<Value, ShellError> {
    let _guard = tab_lock().await;
    let store = store().await?;
    let rec = store.tab(tab_id).await?.ok_or_else(|| ShellError::new("stop", format!("tab {tab_id} is not recording")))?;
    mark_closing(&rec.session_id);
    store.delete_tab(tab_id).await?;
    // Every frame's recorder hands over its last batch; they are asked together.
    let ports: Vec<((i64, i64), Port)> = STATE.with_borrow_mut(|s| {
        let keys: Vec<(i64, i64)> = s.ports.keys().filter(|(tab, _)| *tab == tab_id).copied().collect();
        keys.into_iter().filter_map(|k| s.ports.remove(&k).map(|p| (k, p))).collect()
    });
    let acks = js_sys::Array::new();
    for (key, port) in &ports {
        let ack = js_sys::Promise::new(&mut |resolve, _| {
            set_timeout(&resolve, STOP_ACK_MS);
            STATE.with_borrow_mut(|s| s.stop_waiters.insert(*key, resolve));
        });
        if port.post_message(&to_js(&WorkerMessage::Stop)).is_ok() {
            acks.push(&ack);
        }
    }
    let _ = JsFuture::from(js_sys::Promise::all(&acks)).await;
    STATE.with_borrow_mut(|s| {
        s.stop_waiters.retain(|(tab, _), _| *tab != tab_id);
        s.child_frames.retain(|(tab, _), _| *tab != tab_id);
    });
    writes_settled().await;
    retry_unsaved(&store).await;
    // The replay may be opened at once: what the page used should be stored by then.
    assets::settled(&rec.session_id, ASSETS_SETTLE_MS).await;
    store.finish(&rec.session_id, js_sys::Date::now()).await?;
    compact(&store, &rec.session_id).await;
    mark_closing(&rec.session_id);
    assets::forget(&rec.session_id);
    badge(tab_id, false).await;
    Ok(json!({ "ok": true, "sessionId": rec.session_id }))
}

/// Merges a finished session's chunks; a failure only costs space, so it is logged, not raised.
async fn compact(store: &SessionStore, session: &str) {
    STATE.with_borrow_mut(|s| s.batches_since_merge.remove(session));
    if let Err(e) = store.compact(session, None).await {
        web_sys::console::warn_1(&JsValue::from_str(&format!("tabreel worker: {e}")));
    }
}

/// Every [`MERGE_EVERY_BATCHES`] batches of a recording, its small chunks are merged, so a long
/// recording (an idle page sends a tiny batch a second) does not keep one zlib stream, with its
/// header and an empty dictionary, per batch until it ends. Runs while the batch counts as a write
/// in flight, so a stop waits for it before the final merge.
async fn merge_while_recording(store: &SessionStore, session: &str) {
    let due = STATE.with_borrow_mut(|s| {
        let n = s.batches_since_merge.entry(session.to_string()).or_insert(0);
        *n += 1;
        if *n < MERGE_EVERY_BATCHES || s.merging.contains(session) {
            return false;
        }
        *n = 0;
        s.merging.insert(session.to_string());
        true
    });
    if !due {
        return;
    }
    if let Err(e) = store.compact(session, Some(MERGE_SMALLER_THAN)).await {
        web_sys::console::warn_1(&JsValue::from_str(&format!("tabreel worker: {e}")));
    }
    STATE.with_borrow_mut(|s| s.merging.remove(session));
}

fn mark_closing(session: &str) {
    let now = js_sys::Date::now();
    STATE.with_borrow_mut(|s| {
        s.closing.retain(|_, t| now - *t < CLOSING_GRACE_MS);
        s.closing.insert(session.to_string(), now);
    });
}

/// Whether batches of `session` are still stored: it is recording in some tab, or was stopped
/// moments ago (its last batch may still be on its way). A page that kept recording after its
/// session ended (its worker was stopped meanwhile) is told to stop on reconnecting; its batches
/// are dropped rather than stretched into a finished session.
async fn session_open(store: &SessionStore, session: &str) -> Result<bool, ShellError> {
    let now = js_sys::Date::now();
    if STATE.with_borrow(|s| s.closing.get(session).is_some_and(|t| now - *t < CLOSING_GRACE_MS)) {
        // Still handing over (a snapshot finishing in slices): the grace runs from its last batch.
        mark_closing(session);
        return Ok(true);
    }
    Ok(store.tabs().await?.iter().any(|t| t.session_id == session))
}

async fn status(tab_id: i64) -> Result<Value, ShellError> {
    let rec = store().await?.tab(tab_id).await?;
    let session = rec.map(|r| r.session_id);
    let error = session.as_ref().and_then(|s| STATE.with_borrow(|st| st.errors.get(s).cloned()));
    Ok(json!({ "ok": true, "recording": session.is_some(), "sessionId": session, "error": error }))
}

async fn export(id: &str, format: Option<&str>, part: Option<u32>) -> Result<Value, ShellError> {
    if format.is_some_and(|f| f != "json") {
        return Err(ShellError::new("export", format!("unknown format {format:?}; only \"json\"")));
    }
    let k = part.unwrap_or(0) as usize;
    let cached = STATE.with_borrow(|s| s.export_cache.as_ref().filter(|(cid, _)| cid == id).map(|(_, t)| t.clone()));
    let text = match cached {
        Some(text) if k > 0 => text,
        _ => Rc::new(store().await?.export(id).await?.to_json()),
    };
    if text.len() <= EXPORT_PART_CHARS && k == 0 {
        return Ok(json!({ "ok": true, "data": *text }));
    }
    // Split on char boundaries into parts no larger than one message may carry.
    let mut bounds = vec![0];
    while *bounds.last().unwrap() < text.len() {
        let mut end = (bounds.last().unwrap() + EXPORT_PART_CHARS).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        bounds.push(end);
    }
    let parts = bounds.len() - 1;
    if k >= parts {
        return Err(ShellError::new("export", format!("part {k} out of range (the file has {parts} parts)")));
    }
    // Later parts come from this same text, even if the session grows meanwhile.
    STATE.with_borrow_mut(|s| s.export_cache = (k + 1 < parts).then(|| (id.to_string(), text.clone())));
    Ok(json!({ "ok": true, "data": &text[bounds[k]..bounds[k + 1]], "part": k, "parts": parts }))
}

async fn import(data: &str) -> Result<Value, ShellError> {
    let file = SessionFile::parse(data).map_err(|e| ShellError::new("import refused", e.to_string()))?;
    let id = store().await?.import(file, new_session_id(js_sys::Date::now())).await?;
    Ok(json!({ "ok": true, "sessionId": id }))
}

async fn delete(id: &str) -> Result<Value, ShellError> {
    let store = store().await?;
    if store.tabs().await?.iter().any(|t| t.session_id == id) {
        return Err(ShellError::new("delete", format!("session {id} is still recording; stop it first")));
    }
    if !store.delete(id).await? {
        return Err(ShellError::new("delete", format!("no session {id}")));
    }
    Ok(json!({ "ok": true }))
}

/// The loader content script says a new document started in its tab. The answer tells it whether
/// its document may run the wasm build of the capture (it keeps that for a later start).
async fn page_start(sender: &Sender) -> Result<Value, ShellError> {
    let Some((tab_id, frame)) = sender.content_frame() else { return Ok(json!({ "ok": true, "recording": false })) };
    let wasm = capture_build::take_verdict(tab_id, frame, sender.url.as_deref().unwrap_or(""));
    let recording = inject_if_recording(sender, (tab_id, frame), wasm).await?;
    Ok(json!({ "ok": true, "recording": recording, "wasm": wasm }))
}

/// The wasm build of the capture found a `<meta>` policy (or failed to compile) in its document:
/// the document gets the wasm2js build instead.
async fn capture_fallback(sender: &Sender) -> Result<Value, ShellError> {
    let Some(key) = sender.content_frame() else { return Ok(json!({ "ok": true, "recording": false })) };
    let recording = inject_if_recording(sender, key, false).await?;
    Ok(json!({ "ok": true, "recording": recording }))
}

/// Injects the capture build `wasm` picks into the sender's document if its tab records (and
/// shows the badge for a top-level document); whether it does.
async fn inject_if_recording(sender: &Sender, (tab_id, frame): (i64, i64), wasm: bool) -> Result<bool, ShellError> {
    let _guard = tab_lock().await;
    let recording = store().await?.tab(tab_id).await?.is_some();
    if recording {
        inject_document(tab_id, frame, sender.document_id.as_deref(), wasm).await?;
        if frame == 0 {
            badge(tab_id, true).await;
        }
    }
    Ok(recording)
}

/// Injects the capture build `wasm` picks into a document (or, without its id, a frame's current
/// one).
async fn inject_document(tab_id: i64, frame: i64, document_id: Option<&str>, wasm: bool) -> Result<(), ShellError> {
    let target = match document_id {
        Some(doc) => json!({ "tabId": tab_id, "documentIds": [doc] }),
        None => json!({ "tabId": tab_id, "frameIds": [frame] }),
    };
    let injection = json!({ "target": target, "files": [capture_build::script(wasm)], "injectImmediately": true });
    chrome::scripting_execute_script(&to_js(&injection)).await.context("injecting the recorder").map(|_| ())
}

/// A message on a capture port (registered synchronously by the worker's JS glue).
#[wasm_bindgen]
pub async fn handle_port_message(port: Port, message: JsValue) {
    if let Err(e) = on_port_message(port, message).await {
        web_sys::console::error_1(&JsValue::from_str(&format!("tabreel worker: {e}")));
    }
}

async fn on_port_message(port: Port, message: JsValue) -> Result<(), ShellError> {
    let sender: Sender = from_js(&port.sender(), "reading the port's sender").unwrap_or_default();
    // An `events` message's bytes are taken out first: the rest is read through JSON.
    let events = js_sys::Reflect::get(&message, &EVENTS_FIELD.into()).ok().filter(|v| !v.is_undefined());
    if events.is_some() {
        let _ = js_sys::Reflect::delete_property(message.unchecked_ref::<js_sys::Object>(), &EVENTS_FIELD.into());
    }
    let message: CaptureMessage = from_js(&message, "reading a capture message")?;
    match message {
        CaptureMessage::Hello { session, page, index } => {
            let Some((tab_id, frame)) = sender.content_frame() else {
                let _ = port.post_message(&to_js(&WorkerMessage::Stop));
                return Ok(());
            };
            let _guard = tab_lock().await;
            let store = store().await?;
            let reply = match store.tab(tab_id).await? {
                None => WorkerMessage::Stop,
                Some(rec) if session.as_deref() == Some(rec.session_id.as_str()) && page.is_some() => {
                    WorkerMessage::Record { session: rec.session_id, page: page.unwrap_or(0) }
                }
                // A frame records as part of the page its tab shows: the one the top-level
                // document's recorder was last given (that recorder is injected and says hello
                // first; before it has, the page it will get).
                Some(rec) if frame != 0 => WorkerMessage::Record { page: rec.next_page.saturating_sub(1), session: rec.session_id },
                Some(mut rec) => {
                    let page = rec.next_page;
                    rec.next_page += 1;
                    store.put_tab(&rec).await?;
                    WorkerMessage::Record { session: rec.session_id, page }
                }
            };
            let recording = matches!(reply, WorkerMessage::Record { .. });
            if recording {
                STATE.with_borrow_mut(|s| s.ports.insert((tab_id, frame), port.clone()));
            }
            port.post_message(&to_js(&reply)).context("answering the recorder")?;
            if recording {
                // Children that said hello before this recorder did.
                for (child, index) in STATE.with_borrow_mut(|s| s.child_frames.remove(&(tab_id, frame))).unwrap_or_default() {
                    let _ = port.post_message(&to_js(&WorkerMessage::ChildFrame { frame: child, index }));
                }
                if let (Some(index), true) = (index, frame != 0) {
                    name_to_parent(tab_id, frame, index).await;
                }
            }
        }
        CaptureMessage::Events { session, count, last_t } => {
            let what = "reading a batch of events from a page";
            let bytes = events.and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok()).ok_or_else(|| ShellError::new(what, "its events are not bytes"))?;
            let mut events: Vec<Event> = match serde_json::from_slice(&bytes.to_vec()) {
                Ok(events) => events,
                Err(e) => return Err(ShellError::new(what, e.to_string())),
            };
            let frame = sender.content_frame().map_or(0, |(_, frame)| frame as u32);
            for event in &mut events {
                event.frame = frame;
            }
            let data = chunk::encode(&events, chunk::Effort::Live);
            store_batch(PendingBatch { session, count, last_t, data }, &events, None).await?;
        }
        CaptureMessage::Frame { session, page, t, target, width, height, mime, data } => {
            // Decoding, hashing and storing happen here, not in the page.
            let what = "reading a frame from a page";
            if !PICTURE_MIMES.contains(&mime.as_str()) {
                return Err(ShellError::new(what, format!("unexpected image type {mime:?}")));
            }
            let bytes = blob::from_base64(&data).map_err(|e| ShellError::new(what, e))?;
            let hash = blob::hash(&bytes);
            let frame = sender.content_frame().map_or(0, |(_, frame)| frame as u32);
            let event = Event { t, page, frame, data: EventData::CanvasFrame { target, hash: hash.clone(), width, height } };
            let data = chunk::encode(std::slice::from_ref(&event), chunk::Effort::Live);
            store_batch(PendingBatch { session, count: 1, last_t: t, data }, &[], Some(StoredBlob { hash, mime, bytes })).await?;
        }
        CaptureMessage::Stopped { .. } => {
            if let Some(key) = sender.content_frame() {
                if let Some(resolve) = STATE.with_borrow_mut(|s| s.stop_waiters.remove(&key)) {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            }
        }
    }
    Ok(())
}

/// Stores a batch from a page while its session is open (first the blob its event refers to, if
/// any), counted in `writes_in_flight` so that a stop waits for it; `events` (the batch decoded)
/// are then looked at for the assets they name ([`assets::observe`]).
async fn store_batch(batch: PendingBatch, events: &[Event], blob: Option<StoredBlob>) -> Result<(), ShellError> {
    STATE.with_borrow_mut(|s| s.writes_in_flight += 1);
    let result = async {
        let store = store().await?;
        if !session_open(&store, &batch.session).await? {
            web_sys::console::warn_1(&JsValue::from_str(&format!("tabreel worker: dropped a batch for session {}, which is no longer recording", batch.session)));
            return Ok(());
        }
        if let Some(blob) = blob {
            // A frame whose bytes cannot be stored is dropped with its event (and reported like
            // any storage error): no event is stored pointing at nothing.
            if let Err(e) = store.put_blob(&batch.session, &blob).await {
                STATE.with_borrow_mut(|s| s.errors.insert(batch.session.clone(), e.to_string()));
                return Err(e);
            }
        }
        retry_unsaved(&store).await;
        let session = batch.session.clone();
        save(&store, batch).await;
        assets::observe(&store, &session, events);
        merge_while_recording(&store, &session).await;
        Ok::<(), ShellError>(())
    }
    .await;
    let waiters = STATE.with_borrow_mut(|s| {
        s.writes_in_flight -= 1;
        if s.writes_in_flight == 0 { std::mem::take(&mut s.idle_waiters) } else { Vec::new() }
    });
    for resolve in waiters {
        let _ = resolve.call0(&JsValue::UNDEFINED);
    }
    result
}

/// Tells the recorder of `frame`'s parent which of its frames `frame` is (it records the
/// `<iframe>` showing it), or keeps that for when the parent's recorder connects.
async fn name_to_parent(tab_id: i64, frame: i64, index: u32) {
    let details = to_js(&json!({ "tabId": tab_id, "frameId": frame }));
    let Ok(info) = chrome::web_navigation_get_frame(&details).await else { return };
    let Some(parent) = js_sys::Reflect::get(&info, &"parentFrameId".into()).ok().and_then(|p| p.as_f64()).map(|p| p as i64).filter(|p| *p >= 0) else { return };
    let message = WorkerMessage::ChildFrame { frame: frame as u32, index };
    let port = STATE.with_borrow(|s| s.ports.get(&(tab_id, parent)).cloned());
    if port.is_some_and(|p| p.post_message(&to_js(&message)).is_ok()) {
        return;
    }
    STATE.with_borrow_mut(|s| {
        let waiting = s.child_frames.entry((tab_id, parent)).or_default();
        waiting.retain(|(f, _)| *f != frame as u32);
        waiting.push((frame as u32, index));
    });
}

/// Stores a batch, keeping it for a retry when storing fails.
async fn save(store: &SessionStore, batch: PendingBatch) {
    match store.append(&batch.session, batch.count, batch.last_t, &batch.data).await {
        Ok(()) => {
            STATE.with_borrow_mut(|s| s.errors.remove(&batch.session));
        }
        Err(e) => {
            web_sys::console::error_1(&JsValue::from_str(&format!("tabreel worker: {e}")));
            STATE.with_borrow_mut(|s| {
                let session = batch.session.clone();
                s.errors.insert(session.clone(), e.to_string());
                if !e.message.contains("does not exist") {
                    s.unsaved.push(batch);
                }
                let mut held: usize = s.unsaved.iter().map(|b| b.data.len()).sum();
                let mut dropped = 0u32;
                while held > MAX_UNSAVED_BYTES && !s.unsaved.is_empty() {
                    let oldest = s.unsaved.remove(0);
                    held -= oldest.data.len();
                    dropped += oldest.count;
                }
                if dropped > 0 {
                    let note = format!("{e}; storage keeps failing, {dropped} events were dropped");
                    s.errors.insert(session, note);
                }
            });
        }
    }
}

async fn retry_unsaved(store: &SessionStore) {
    let unsaved = STATE.with_borrow_mut(|s| std::mem::take(&mut s.unsaved));
    for batch in unsaved {
        save(store, batch).await;
    }
}

/// Resolves once no batch is being written.
async fn writes_settled() {
    let pending = js_sys::Promise::new(&mut |resolve, _| {
        STATE.with_borrow_mut(|s| {
            if s.writes_in_flight == 0 {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            } else {
                s.idle_waiters.push(resolve);
            }
        });
    });
    let _ = JsFuture::from(pending).await;
}

/// A capture port closed (navigation, tab closed, or the page's recorder stopped).
#[wasm_bindgen]
pub fn handle_port_disconnect(port: Port) {
    let port = JsValue::from(port);
    STATE.with_borrow_mut(|s| s.ports.retain(|_, p| JsValue::from(p.clone()) != port));
}

/// `chrome.tabs.onRemoved`: a closed tab ends its recording.
#[wasm_bindgen]
pub async fn handle_tab_removed(tab_id: f64) {
    let tab_id = tab_id as i64;
    capture_build::forget_tab(tab_id);
    let result = async {
        let _guard = tab_lock().await;
        let store = store().await?;
        if let Some(rec) = store.tab(tab_id).await? {
            mark_closing(&rec.session_id);
            store.delete_tab(tab_id).await?;
            writes_settled().await;
            store.finish(&rec.session_id, js_sys::Date::now()).await?;
            compact(&store, &rec.session_id).await;
            mark_closing(&rec.session_id);
            assets::forget(&rec.session_id);
        }
        Ok::<(), ShellError>(())
    }
    .await;
    if let Err(e) = result {
        web_sys::console::error_1(&JsValue::from_str(&format!("tabreel worker: {e}")));
    }
}

/// `chrome.runtime.onStartup`: a new browser session. Tab ids are reused across browser
/// sessions, so recordings left open by a quit or crash end here instead of capturing whatever
/// tab gets their old id.
#[wasm_bindgen]
pub async fn handle_browser_startup() {
    let result = async {
        let _guard = tab_lock().await;
        let store = store().await?;
        for rec in store.tabs().await? {
            store.delete_tab(rec.tab_id).await?;
        }
        Ok::<(), ShellError>(())
    }
    .await;
    if let Err(e) = result {
        web_sys::console::error_1(&JsValue::from_str(&format!("tabreel worker: {e}")));
    }
}
