//! `SessionStore`: the sessions in the extension's own IndexedDB (never the visited site's), via
//! rexie.
//!
//! Stores: `sessions` (one [`SessionMeta`] per session, keyed by id), `chunks` (auto-increment;
//! `{sessionId, count, lastT, data}` where `data` is a zlib-compressed JSON array of events,
//! indexed by session) and `tabs` (the tabs being recorded, so a restarted service worker knows
//! what to carry on). A chunk and its session's counters are written in one transaction. The
//! bytes sessions hold besides their events (page assets, canvas pictures) are in `blobs`,
//! `blob_refs` and `assets`: see [`crate::shell::blob_store`].
//!
//! Versions: 1 had `sessions`, `chunks` and `tabs`; 3 adds the blob store (upgrading keeps
//! everything of version 1). Version 2 only existed on development builds, with another layout
//! of the blob store.

use rexie::{Index, KeyRange, ObjectStore, Rexie, TransactionMode};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::chunk;
use crate::core::event::Event;
use crate::core::format::{SessionFile, SessionMeta};
use crate::shell::blob_store::{self, hold, put_asset_url, release, StoredBlob, ASSETS, BLOBS, BLOB_REFS};
use crate::shell::error::{from_js, to_js, ShellError};

const DB_NAME: &str = "tabreel";
/// 3: the blob store (see the module doc).
const DB_VERSION: u32 = 3;
const SESSIONS: &str = "sessions";
const CHUNKS: &str = "chunks";
const TABS: &str = "tabs";
const BY_SESSION: &str = "by_session";
/// Events per chunk when importing a file.
const IMPORT_CHUNK_EVENTS: usize = 1000;
/// About how many stored bytes of small chunks are merged into one when a recording ends.
const COMPACT_GROUP_BYTES: usize = 2 * 1024 * 1024;

/// A tab being recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TabRecording {
    /// Chrome's tab id.
    pub tab_id: i64,
    /// The session it records into.
    pub session_id: String,
    /// Page index the next document in the tab gets.
    pub next_page: u32,
}

/// The extension's session database.
pub struct SessionStore {
    pub(crate) db: Rexie,
}

fn db_err(what: &str) -> impl Fn(rexie::Error) -> ShellError + '_ {
    move |e| ShellError::new(what, e.to_string())
}

impl SessionStore {
    /// Opens (creating or upgrading) the database.
    pub async fn open() -> Result<SessionStore, ShellError> {
        SessionStore::open_named(DB_NAME).await
    }

    /// Opens (creating or upgrading) the database of another name (tests of upgrades).
    pub async fn open_named(name: &str) -> Result<SessionStore, ShellError> {
        let mut builder = Rexie::builder(name)
            .version(DB_VERSION)
            .add_object_store(ObjectStore::new(SESSIONS).key_path("id"))
            .add_object_store(ObjectStore::new(CHUNKS).auto_increment(true).add_index(Index::new(BY_SESSION, "sessionId")))
            .add_object_store(ObjectStore::new(TABS).key_path("tabId"));
        for store in blob_store::object_stores() {
            builder = builder.add_object_store(store);
        }
        let db = builder
            .build()
            .await
            .map_err(db_err("opening the session database"))?;
        Ok(SessionStore { db })
    }

    /// One session's metadata.
    pub async fn session(&self, id: &str) -> Result<Option<SessionMeta>, ShellError> {
        let tx = self.db.transaction(&[SESSIONS], TransactionMode::ReadOnly).map_err(db_err("reading a session"))?;
        let value = tx.store(SESSIONS).map_err(db_err("reading a session"))?.get(id.into()).await.map_err(db_err("reading a session"))?;
        value.map(|v| from_js(&v, "decoding a session record")).transpose()
    }

    /// Every session, newest first.
    pub async fn list(&self) -> Result<Vec<SessionMeta>, ShellError> {
        let tx = self.db.transaction(&[SESSIONS], TransactionMode::ReadOnly).map_err(db_err("listing sessions"))?;
        let values = tx.store(SESSIONS).map_err(db_err("listing sessions"))?.get_all(None, None).await.map_err(db_err("listing sessions"))?;
        let mut sessions = values.iter().map(|v| from_js::<SessionMeta>(v, "decoding a session record")).collect::<Result<Vec<_>, _>>()?;
        sessions.sort_by(|a, b| b.started_at.total_cmp(&a.started_at));
        Ok(sessions)
    }

    /// Stores a new, empty session.
    pub async fn create(&self, meta: &SessionMeta) -> Result<(), ShellError> {
        let tx = self.db.transaction(&[SESSIONS], TransactionMode::ReadWrite).map_err(db_err("creating a session"))?;
        tx.store(SESSIONS).map_err(db_err("creating a session"))?.add(&to_js(meta), None).await.map_err(db_err("creating a session"))?;
        tx.done().await.map_err(db_err("creating a session"))?;
        Ok(())
    }

    /// Appends a compressed chunk of `count` events and updates the session's counters, atomically.
    pub async fn append(&self, session: &str, count: u32, last_t: f64, data: &[u8]) -> Result<(), ShellError> {
        let what = "storing a batch of events";
        let tx = self.db.transaction(&[SESSIONS, CHUNKS], TransactionMode::ReadWrite).map_err(db_err(what))?;
        let sessions = tx.store(SESSIONS).map_err(db_err(what))?;
        let chunks = tx.store(CHUNKS).map_err(db_err(what))?;
        let Some(value) = sessions.get(session.into()).await.map_err(db_err(what))? else {
            return Err(ShellError::new(what, format!("session {session} does not exist (deleted?)")));
        };
        let mut meta: SessionMeta = from_js(&value, what)?;
        chunks.add(&chunk_record(session, count, last_t, data), None).await.map_err(db_err(what))?;
        meta.event_count += count as u64;
        meta.bytes += data.len() as u64;
        meta.duration_ms = meta.duration_ms.max(last_t - meta.started_at);
        sessions.put(&to_js(&meta), None).await.map_err(db_err(what))?;
        tx.done().await.map_err(db_err(what))?;
        Ok(())
    }

    /// Merges a recording's many small chunks (one per batch of the page) into a few large ones:
    /// deflate finds far more to share across a recording than inside 200 ms of it. When the
    /// recording has ended every chunk may be merged (`eligible_below: None`); while it goes on,
    /// only chunks smaller than `eligible_below` bytes are, so large merged ones are not
    /// compressed again and again. The merged chunks replace the old ones in one transaction, so a
    /// failure (or a worker stopped halfway) leaves the session as it was; batches stored meanwhile
    /// are kept as they are, and if another compaction replaced any of the same chunks first, this
    /// one changes nothing.
    pub async fn compact(&self, session: &str, eligible_below: Option<usize>) -> Result<(), ShellError> {
        let what = "compacting a session";
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(db_err(what))?;
        let index = tx.store(CHUNKS).map_err(db_err(what))?.index(BY_SESSION).map_err(db_err(what))?;
        let range = || KeyRange::only(&session.into()).map_err(|e| ShellError::new(what, e.to_string()));
        let records = index.get_all(Some(range()?), None).await.map_err(db_err(what))?;
        let keys = index.get_all_keys(Some(range()?), None).await.map_err(db_err(what))?;
        tx.done().await.map_err(db_err(what))?;
        if records.len() != keys.len() || records.is_empty() {
            return Ok(());
        }
        let mut datas = Vec::with_capacity(records.len());
        for record in &records {
            let data = js_sys::Reflect::get(record, &"data".into()).ok().and_then(|d| d.dyn_into::<js_sys::Uint8Array>().ok());
            let Some(data) = data else { return Ok(()) }; // not ours to fix here; reading reports it
            datas.push(data.to_vec());
        }
        let groups = match eligible_below {
            Some(_) => chunk::merge_groups(&datas.iter().map(Vec::len).collect::<Vec<_>>(), COMPACT_GROUP_BYTES, eligible_below),
            None => chunk::archive_groups(&datas.iter().map(Vec::as_slice).collect::<Vec<_>>(), COMPACT_GROUP_BYTES),
        };
        let mut merged = Vec::new();
        let mut replaced = Vec::new();
        let mut new_bytes = 0usize;
        for group in &groups {
            let mut events = Vec::new();
            for &i in group {
                events.extend(chunk::decode(&datas[i]).map_err(|e| ShellError::new(what, format!("chunk {i}: {e}")))?);
            }
            events.sort_by(|a, b| a.t.total_cmp(&b.t));
            let data = chunk::encode(&events, if eligible_below.is_some() { chunk::Effort::Merge } else { chunk::Effort::Archive });
            new_bytes += data.len();
            merged.push(chunk_record(session, events.len() as u32, events.last().map(|e| e.t).unwrap_or(0.0), &data));
            replaced.extend(group.iter().map(|&i| keys[i].clone()));
        }
        if merged.is_empty() {
            return Ok(());
        }
        let replaced_bytes: usize = groups.iter().flatten().map(|&i| datas[i].len()).sum();
        let tx = self.db.transaction(&[SESSIONS, CHUNKS], TransactionMode::ReadWrite).map_err(db_err(what))?;
        let sessions = tx.store(SESSIONS).map_err(db_err(what))?;
        let chunks = tx.store(CHUNKS).map_err(db_err(what))?;
        for key in replaced {
            if chunks.get(key.clone()).await.map_err(db_err(what))?.is_none() {
                // Another compaction got there first: keep its result, add nothing.
                tx.abort().await.map_err(db_err(what))?;
                return Ok(());
            }
            chunks.delete(key).await.map_err(db_err(what))?;
        }
        for record in &merged {
            chunks.add(record, None).await.map_err(db_err(what))?;
        }
        if let Some(value) = sessions.get(session.into()).await.map_err(db_err(what))? {
            let mut meta: SessionMeta = from_js(&value, what)?;
            meta.bytes = (meta.bytes + new_bytes as u64).saturating_sub(replaced_bytes as u64);
            sessions.put(&to_js(&meta), None).await.map_err(db_err(what))?;
        }
        tx.done().await.map_err(db_err(what))?;
        Ok(())
    }

    /// Marks the end of a recording at `ended_at` (epoch ms).
    pub async fn finish(&self, session: &str, ended_at: f64) -> Result<(), ShellError> {
        let what = "finishing a session";
        let tx = self.db.transaction(&[SESSIONS], TransactionMode::ReadWrite).map_err(db_err(what))?;
        let sessions = tx.store(SESSIONS).map_err(db_err(what))?;
        if let Some(value) = sessions.get(session.into()).await.map_err(db_err(what))? {
            let mut meta: SessionMeta = from_js(&value, what)?;
            meta.duration_ms = meta.duration_ms.max(ended_at - meta.started_at);
            sessions.put(&to_js(&meta), None).await.map_err(db_err(what))?;
        }
        tx.done().await.map_err(db_err(what))?;
        Ok(())
    }

    /// A session's events in time order.
    pub async fn events(&self, session: &str) -> Result<Vec<Event>, ShellError> {
        let what = "reading a session's events";
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(db_err(what))?;
        let index = tx.store(CHUNKS).map_err(db_err(what))?.index(BY_SESSION).map_err(db_err(what))?;
        let range = KeyRange::only(&session.into()).map_err(|e| ShellError::new(what, e.to_string()))?;
        let records = index.get_all(Some(range), None).await.map_err(db_err(what))?;
        let mut events = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let data = js_sys::Reflect::get(record, &"data".into()).map_err(|_| ShellError::new(what, "chunk without data"))?;
            let bytes = data.dyn_into::<js_sys::Uint8Array>().map_err(|_| ShellError::new(what, format!("chunk {i} data is not bytes")))?.to_vec();
            events.extend(chunk::decode(&bytes).map_err(|e| ShellError::new(what, format!("chunk {i}: {e}")))?);
        }
        events.sort_by(|a, b| a.t.total_cmp(&b.t));
        Ok(events)
    }

    /// A session as a session file.
    pub async fn export(&self, session: &str) -> Result<SessionFile, ShellError> {
        let meta = self.session(session).await?.ok_or_else(|| ShellError::new("exporting", format!("no session {session}")))?;
        let events = self.events(session).await?;
        let (assets, blobs) = self.used_blobs(session, &events).await?;
        let blobs = blobs.into_iter().map(|b| (b.hash, b.mime, b.bytes)).collect();
        Ok(SessionFile::new(meta, events).with_blobs(blobs, assets.into_iter().map(|a| (a.url, a.hash)).collect()))
    }

    /// Stores an imported file as a new session (a new id if its id is taken), atomically:
    /// on any failure nothing is stored.
    pub async fn import(&self, file: SessionFile, fresh_id: String) -> Result<String, ShellError> {
        let what = "importing a session";
        let mut meta = file.session.clone();
        let contents: Vec<StoredBlob> = file
            .blob_bytes()
            .map_err(|e| ShellError::new(what, e.to_string()))?
            .into_iter()
            .map(|(hash, mime, bytes)| StoredBlob { hash, mime, bytes })
            .collect();
        if self.session(&meta.id).await?.is_some() {
            meta.id = fresh_id;
        }
        let mut records = Vec::new();
        let mut bytes = 0u64;
        for part in file.events.chunks(IMPORT_CHUNK_EVENTS) {
            let data = chunk::encode(part, chunk::Effort::Archive);
            bytes += data.len() as u64;
            records.push(chunk_record(&meta.id, part.len() as u32, part.last().map(|e| e.t).unwrap_or(meta.started_at), &data));
        }
        meta.bytes = bytes;
        let tx = self.db.transaction(&[SESSIONS, CHUNKS, BLOBS, BLOB_REFS, ASSETS], TransactionMode::ReadWrite).map_err(db_err(what))?;
        let sessions = tx.store(SESSIONS).map_err(db_err(what))?;
        let chunks = tx.store(CHUNKS).map_err(db_err(what))?;
        sessions.add(&to_js(&meta), None).await.map_err(db_err(what))?;
        for record in &records {
            chunks.add(record, None).await.map_err(db_err(what))?;
        }
        let (blobs, refs) = (tx.store(BLOBS).map_err(db_err(what))?, tx.store(BLOB_REFS).map_err(db_err(what))?);
        for blob in &contents {
            hold(&blobs, &refs, &meta.id, blob, what).await?;
        }
        let assets = tx.store(ASSETS).map_err(db_err(what))?;
        for a in &file.assets {
            let size = contents.iter().find(|c| c.hash == a.hash).map_or(0, |c| c.bytes.len());
            put_asset_url(&assets, &meta.id, &a.url, &a.hash, size, what).await?;
        }
        tx.done().await.map_err(db_err(what))?;
        Ok(meta.id)
    }

    /// Deletes a session, its chunks, its asset URLs and its holds on blobs (and the blobs no
    /// other session holds), in one transaction; false if there was none.
    pub async fn delete(&self, session: &str) -> Result<bool, ShellError> {
        let what = "deleting a session";
        let tx = self.db.transaction(&[SESSIONS, CHUNKS, BLOBS, BLOB_REFS, ASSETS], TransactionMode::ReadWrite).map_err(db_err(what))?;
        let sessions = tx.store(SESSIONS).map_err(db_err(what))?;
        let chunks = tx.store(CHUNKS).map_err(db_err(what))?;
        let existed = sessions.get(session.into()).await.map_err(db_err(what))?.is_some();
        let range = KeyRange::only(&session.into()).map_err(|e| ShellError::new(what, e.to_string()))?;
        let keys = chunks.index(BY_SESSION).map_err(db_err(what))?.get_all_keys(Some(range), None).await.map_err(db_err(what))?;
        for key in keys {
            chunks.delete(key).await.map_err(db_err(what))?;
        }
        release(&tx.store(BLOBS).map_err(db_err(what))?, &tx.store(BLOB_REFS).map_err(db_err(what))?, &tx.store(ASSETS).map_err(db_err(what))?, session, what).await?;
        sessions.delete(session.into()).await.map_err(db_err(what))?;
        tx.done().await.map_err(db_err(what))?;
        Ok(existed)
    }

    /// The recording state of a tab.
    pub async fn tab(&self, tab_id: i64) -> Result<Option<TabRecording>, ShellError> {
        let tx = self.db.transaction(&[TABS], TransactionMode::ReadOnly).map_err(db_err("reading tab state"))?;
        let value = tx.store(TABS).map_err(db_err("reading tab state"))?.get(JsValue::from_f64(tab_id as f64)).await.map_err(db_err("reading tab state"))?;
        value.map(|v| from_js(&v, "decoding tab state")).transpose()
    }

    /// Every tab being recorded.
    pub async fn tabs(&self) -> Result<Vec<TabRecording>, ShellError> {
        let tx = self.db.transaction(&[TABS], TransactionMode::ReadOnly).map_err(db_err("reading tab state"))?;
        let values = tx.store(TABS).map_err(db_err("reading tab state"))?.get_all(None, None).await.map_err(db_err("reading tab state"))?;
        values.iter().map(|v| from_js(v, "decoding tab state")).collect()
    }

    /// Saves a tab's recording state.
    pub async fn put_tab(&self, tab: &TabRecording) -> Result<(), ShellError> {
        let tx = self.db.transaction(&[TABS], TransactionMode::ReadWrite).map_err(db_err("saving tab state"))?;
        tx.store(TABS).map_err(db_err("saving tab state"))?.put(&to_js(tab), None).await.map_err(db_err("saving tab state"))?;
        tx.done().await.map_err(db_err("saving tab state"))?;
        Ok(())
    }

    /// Forgets a tab's recording state.
    pub async fn delete_tab(&self, tab_id: i64) -> Result<(), ShellError> {
        let tx = self.db.transaction(&[TABS], TransactionMode::ReadWrite).map_err(db_err("clearing tab state"))?;
        tx.store(TABS).map_err(db_err("clearing tab state"))?.delete(JsValue::from_f64(tab_id as f64)).await.map_err(db_err("clearing tab state"))?;
        tx.done().await.map_err(db_err("clearing tab state"))?;
        Ok(())
    }
}

/// A new session id: the start time and a random suffix, of the characters the session file
/// allows (`[A-Za-z0-9_-]`).
pub fn new_session_id(started_at: f64) -> String {
    format!("s-{}-{:04x}", started_at as u64, (js_sys::Math::random() * 65536.0) as u32)
}

fn chunk_record(session: &str, count: u32, last_t: f64, data: &[u8]) -> JsValue {
    let record = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| {
        js_sys::Reflect::set(&record, &k.into(), v).expect("setting a field on a plain object");
    };
    set("sessionId", &session.into());
    set("count", &JsValue::from_f64(count as f64));
    set("lastT", &JsValue::from_f64(last_t));
    set("data", &js_sys::Uint8Array::from(data).into());
    record.into()
}
