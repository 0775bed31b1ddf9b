//! The service worker's asset fetcher: stores the stylesheets, fonts and images a recorded page
//! uses, so that its replay looks right offline.
//!
//! Every batch of events that the worker stores passes through here ([`observe`]): a
//! [`PageScan`] per page finds the URLs the events name, and the worker fetches each once per
//! session, from the extension's origin (its host permissions let it read cross-origin sheets a
//! page's script could not, and the page spends nothing on it). A stylesheet's source text is
//! looked into for its `@import`s and `url()`s, which are fetched in turn. Each file is stored by
//! its content hash in the blob store ([`crate::shell::blob_store`]), at most [`MAX_ASSET_BYTES`] each and
//! [`MAX_SESSION_ASSET_BYTES`] per session. A fetch that fails (404, network, a stylesheet that
//! is not `text/css`) stores nothing: the replay falls back to what the recording holds.
//!
//! What was stored is in IndexedDB, and a worker that Chrome stopped finds the page's state again
//! from the stored events (its scan is rebuilt from them, and what is already stored is not
//! fetched again). `stop` waits for the session's fetches ([`settled`]), bounded.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::core::assets::{new_wants, sheet_wants, AssetKind, PageScan, Wanted, CSS_MIME, MAX_ASSET_BYTES, MAX_SESSION_ASSETS, MAX_SESSION_ASSET_BYTES};
use crate::core::blob::{self, replay_mime};
use crate::core::event::{Event, EventData};
use crate::shell::blob_store::StoredBlob;
use crate::shell::error::ShellError;
use crate::shell::store::SessionStore;

/// Fetches running at once.
const PARALLEL_FETCHES: usize = 4;
/// A fetch that takes longer is abandoned.
const FETCH_TIMEOUT_MS: f64 = 20_000.0;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_init(url: &str, init: &JsValue) -> js_sys::Promise;
}

/// One URL to fetch for a session.
struct Job {
    session: String,
    want: Wanted,
}

/// A page's scan, or the events that came while it is rebuilt from the store.
enum Scan {
    Ready(PageScan),
    Rebuilding(Vec<Event>),
}

#[derive(Default)]
struct Fetcher {
    scans: HashMap<(String, u32), Scan>,
    /// URLs queued or handled, per session.
    seen: HashMap<String, HashSet<String>>,
    /// Distinct contents stored per session and their bytes (loaded from the store first).
    stored: HashMap<String, (HashSet<String>, usize)>,
    queue: VecDeque<Job>,
    running: usize,
    /// Jobs queued or running, per session.
    pending: HashMap<String, usize>,
    waiters: HashMap<String, Vec<js_sys::Function>>,
}

thread_local! {
    static FETCHER: RefCell<Fetcher> = RefCell::new(Fetcher::default());
}

/// Looks at a batch of `session`'s events just stored and fetches what they refer to.
pub fn observe(store: &Rc<SessionStore>, session: &str, events: &[Event]) {
    let mut wants = Vec::new();
    let mut rebuild = Vec::new();
    FETCHER.with_borrow_mut(|f| {
        for event in events {
            let key = (session.to_owned(), event.page);
            match f.scans.get_mut(&key) {
                Some(Scan::Ready(scan)) => scan.scan(&event.data, &mut wants),
                Some(Scan::Rebuilding(backlog)) => backlog.push(event.clone()),
                None if matches!(event.data, EventData::Snapshot(_)) => {
                    let mut scan = PageScan::default();
                    scan.scan(&event.data, &mut wants);
                    f.scans.insert(key, Scan::Ready(scan));
                }
                None => {
                    // The worker was stopped during this page: its scan is rebuilt from the
                    // stored events (this batch among them).
                    f.scans.insert(key, Scan::Rebuilding(Vec::new()));
                    rebuild.push(event.page);
                }
            }
        }
    });
    want(store, session, wants);
    for page in rebuild {
        let (store, session) = (store.clone(), session.to_owned());
        spawn_local(async move {
            let stored = store.events(&session).await.unwrap_or_default();
            let mut scan = PageScan::default();
            let mut wants = Vec::new();
            for e in stored.iter().filter(|e| e.page == page) {
                scan.scan(&e.data, &mut wants);
            }
            let backlog = FETCHER.with_borrow_mut(|f| match f.scans.insert((session.clone(), page), Scan::Ready(scan)) {
                Some(Scan::Rebuilding(backlog)) => backlog,
                _ => Vec::new(),
            });
            want(&store, &session, wants);
            observe(&store, &session, &backlog);
        });
    }
}

/// Queues the URLs of `wants` not yet seen in `session`.
fn want(store: &Rc<SessionStore>, session: &str, wants: Vec<Wanted>) {
    FETCHER.with_borrow_mut(|f| {
        let seen = f.seen.entry(session.to_owned()).or_default();
        let room = MAX_SESSION_ASSETS.saturating_sub(seen.len());
        let fresh: Vec<Wanted> = new_wants(wants, seen).into_iter().take(room).collect();
        *f.pending.entry(session.to_owned()).or_default() += fresh.len();
        f.queue.extend(fresh.into_iter().map(|want| Job { session: session.to_owned(), want }));
    });
    pump(store);
}

/// Starts queued jobs while fewer than [`PARALLEL_FETCHES`] run.
fn pump(store: &Rc<SessionStore>) {
    loop {
        let job = FETCHER.with_borrow_mut(|f| {
            if f.running >= PARALLEL_FETCHES {
                return None;
            }
            let job = f.queue.pop_front()?;
            f.running += 1;
            Some(job)
        });
        let Some(job) = job else { return };
        let store = store.clone();
        spawn_local(async move {
            if let Err(e) = run(&store, &job).await {
                web_sys::console::warn_1(&JsValue::from_str(&format!("tabreel worker: asset {} not stored: {e}", job.want.url)));
            }
            let waiters = FETCHER.with_borrow_mut(|f| {
                f.running -= 1;
                let left = f.pending.entry(job.session.clone()).or_default();
                *left = left.saturating_sub(1);
                if *left == 0 {
                    f.waiters.remove(&job.session).unwrap_or_default()
                } else {
                    Vec::new()
                }
            });
            for resolve in waiters {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
            pump(&store);
        });
    }
}

/// Resolves once `session` has no fetch queued or running, or after `max_ms`.
pub async fn settled(session: &str, max_ms: i32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        let idle = FETCHER.with_borrow_mut(|f| {
            if f.pending.get(session).copied().unwrap_or(0) == 0 {
                return true;
            }
            f.waiters.entry(session.to_owned()).or_default().push(resolve.clone());
            false
        });
        if idle {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        } else {
            set_timeout(&resolve, max_ms);
        }
    });
    let _ = JsFuture::from(wait).await;
}

/// Forgets what the fetcher keeps in memory for a session that stopped recording.
pub fn forget(session: &str) {
    FETCHER.with_borrow_mut(|f| {
        f.scans.retain(|(s, _), _| s != session);
        if f.pending.get(session).copied().unwrap_or(0) == 0 {
            f.seen.remove(session);
            f.stored.remove(session);
            f.pending.remove(session);
        }
    });
}

/// A fetched response: its final URL, MIME type and bytes.
struct Fetched {
    url: String,
    mime: Option<String>,
    bytes: Vec<u8>,
}

async fn fetch(url: &str) -> Result<Fetched, ShellError> {
    let what = "fetching";
    let init = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = js_sys::Reflect::set(&init, &k.into(), v);
    };
    set("credentials", &"include".into());
    set("cache", &"force-cache".into());
    // AbortSignal.timeout(ms): a server that never answers does not hold the session.
    if let Ok(signal_class) = js_sys::Reflect::get(&js_sys::global(), &"AbortSignal".into()) {
        if let Ok(timeout) = js_sys::Reflect::get(&signal_class, &"timeout".into()).and_then(|t| t.dyn_into::<js_sys::Function>()) {
            if let Ok(signal) = timeout.call1(&signal_class, &JsValue::from_f64(FETCH_TIMEOUT_MS)) {
                set("signal", &signal);
            }
        }
    }
    let response = JsFuture::from(fetch_with_init(url, &init)).await.map_err(|e| ShellError::new(what, format!("{e:?}")))?;
    let get = |k: &str| js_sys::Reflect::get(&response, &k.into()).unwrap_or(JsValue::UNDEFINED);
    if get("ok").as_bool() != Some(true) {
        return Err(ShellError::new(what, format!("HTTP {}", get("status").as_f64().unwrap_or(0.0))));
    }
    let headers = get("headers");
    let header = |name: &str| -> Option<String> {
        let getter: js_sys::Function = js_sys::Reflect::get(&headers, &"get".into()).ok()?.dyn_into().ok()?;
        getter.call1(&headers, &name.into()).ok()?.as_string()
    };
    if header("content-length").and_then(|l| l.trim().parse::<usize>().ok()).is_some_and(|l| l > MAX_ASSET_BYTES) {
        return Err(ShellError::new(what, format!("larger than {MAX_ASSET_BYTES} bytes")));
    }
    let read: js_sys::Function = get("arrayBuffer").dyn_into().map_err(|_| ShellError::new(what, "no body"))?;
    let buffer = read.call0(&response).map_err(|e| ShellError::new(what, format!("{e:?}")))?;
    let buffer = JsFuture::from(js_sys::Promise::from(buffer)).await.map_err(|e| ShellError::new(what, format!("reading the body: {e:?}")))?;
    let bytes = js_sys::Uint8Array::new(&buffer);
    if bytes.length() as usize > MAX_ASSET_BYTES {
        return Err(ShellError::new(what, format!("larger than {MAX_ASSET_BYTES} bytes")));
    }
    let final_url = get("url").as_string().filter(|u| !u.is_empty()).unwrap_or_else(|| url.to_owned());
    Ok(Fetched { url: final_url, mime: header("content-type"), bytes: bytes.to_vec() })
}

async fn run(store: &Rc<SessionStore>, job: &Job) -> Result<(), ShellError> {
    let Job { session, want } = job;
    if store.has_asset(session, &want.url).await? {
        return Ok(());
    }
    let fetched = fetch(&want.url).await?;
    let mime = match want.kind {
        AssetKind::Sheet => {
            // As the browser does for a linked sheet: anything but text/css is not a stylesheet.
            if fetched.mime.as_deref().and_then(replay_mime).as_deref() != Some(CSS_MIME) {
                return Err(ShellError::new("a stylesheet", format!("served as {:?}, not text/css", fetched.mime)));
            }
            let text = String::from_utf8_lossy(&fetched.bytes);
            let mut wants = Vec::new();
            sheet_wants(text.trim_start_matches('\u{feff}'), &fetched.url, want.depth, &mut wants);
            want_later(store, session, wants);
            CSS_MIME.to_owned()
        }
        AssetKind::Resource => match fetched.mime.as_deref().and_then(replay_mime) {
            Some(m) if m != CSS_MIME => m,
            _ => "application/octet-stream".to_owned(),
        },
    };
    let hash = blob::hash(&fetched.bytes);
    if !room_for(store, session, &hash, fetched.bytes.len()).await? {
        return Err(ShellError::new("storing", format!("the session's assets would exceed {MAX_SESSION_ASSET_BYTES} bytes")));
    }
    store.put_asset(session, &want.url, &StoredBlob { hash, mime, bytes: fetched.bytes }).await
}

/// Queues what a fetched sheet refers to (the store is needed again for those fetches).
fn want_later(store: &Rc<SessionStore>, session: &str, wants: Vec<Wanted>) {
    if !wants.is_empty() {
        want(store, session, wants);
    }
}

/// Counts a content of `len` bytes into the session's budget; false when it does not fit.
async fn room_for(store: &SessionStore, session: &str, hash: &str, len: usize) -> Result<bool, ShellError> {
    let known = FETCHER.with_borrow(|f| f.stored.contains_key(session));
    if !known {
        let refs = store.asset_refs(session).await?;
        let mut hashes = HashSet::new();
        let mut bytes = 0;
        for r in refs {
            if hashes.insert(r.hash) {
                bytes += r.size;
            }
        }
        FETCHER.with_borrow_mut(|f| {
            f.stored.entry(session.to_owned()).or_insert((hashes, bytes));
        });
    }
    Ok(FETCHER.with_borrow_mut(|f| {
        let (hashes, bytes) = f.stored.entry(session.to_owned()).or_default();
        if hashes.contains(hash) {
            return true;
        }
        if *bytes + len > MAX_SESSION_ASSET_BYTES {
            return false;
        }
        hashes.insert(hash.to_owned());
        *bytes += len;
        true
    }))
}
