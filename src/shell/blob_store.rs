//! The blob store: the bytes sessions hold besides their events (page assets, canvas and video
//! pictures), in the extension's IndexedDB beside the sessions ([`SessionStore`]).
//!
//! Three object stores:
//! - `blobs`: one record per distinct content, keyed by its SHA-256 (`{hash, mime, size, data}`,
//!   `data` a `Uint8Array`; see [`crate::core::blob`]). The same font used by ten sessions, or
//!   the same picture shown a hundred times, is stored once.
//! - `blob_refs`: which session holds which content (`{sessionId, hash}`, keyed by
//!   `[sessionId, hash]`, indexed by session and by hash). Every use of a content by a session
//!   holds it, whatever the use; this is the only thing that keeps a content stored.
//! - `assets`: what the page's URLs had (`{sessionId, url, hash, size}`, keyed by
//!   `[sessionId, url]`, indexed by session): the asset fetcher's map, which the replay and the
//!   session file use. Pictures need no such map: their events name their hashes.
//!
//! A content is stored with its first hold, in one transaction with what uses it; deleting a
//! session drops its holds and asset URLs and deletes every content no other session holds, in
//! the same transaction as the session itself ([`SessionStore::delete`]); importing a file writes
//! its blobs, holds and asset URLs in the session's transaction ([`SessionStore::import`]).

use std::collections::HashSet;

use rexie::{Index, KeyRange, ObjectStore, Store, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::event::Event;
use crate::core::format::SessionFile;
use crate::shell::error::ShellError;
use crate::shell::store::SessionStore;

pub(crate) const BLOBS: &str = "blobs";
pub(crate) const BLOB_REFS: &str = "blob_refs";
pub(crate) const ASSETS: &str = "assets";
const REFS_BY_SESSION: &str = "refs_by_session";
const REFS_BY_HASH: &str = "refs_by_hash";
const ASSETS_BY_SESSION: &str = "assets_by_session";

/// The object stores of this module, as the database declares them.
pub(crate) fn object_stores() -> [ObjectStore; 3] {
    [
        ObjectStore::new(BLOBS).key_path("hash"),
        ObjectStore::new(BLOB_REFS).key_path_array(["sessionId", "hash"]).add_index(Index::new(REFS_BY_SESSION, "sessionId")).add_index(Index::new(REFS_BY_HASH, "hash")),
        ObjectStore::new(ASSETS).key_path_array(["sessionId", "url"]).add_index(Index::new(ASSETS_BY_SESSION, "sessionId")),
    ]
}

/// A stored content.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredBlob {
    /// Lower-case hex SHA-256 of `bytes`.
    pub hash: String,
    /// MIME type.
    pub mime: String,
    /// The content.
    pub bytes: Vec<u8>,
}

/// A stored asset: a URL of a session's page and the content it had.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetRef {
    /// Absolute http(s) URL without fragment.
    pub url: String,
    /// The content's hash.
    pub hash: String,
    /// The content's size in bytes.
    pub size: usize,
}

fn err(what: &str) -> impl Fn(rexie::Error) -> ShellError + '_ {
    move |e| ShellError::new(what, e.to_string())
}

fn field(record: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(record, &name.into()).ok().filter(|v| !v.is_undefined())
}

fn string_field(record: &JsValue, name: &str) -> Option<String> {
    field(record, name).and_then(|v| v.as_string())
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let record = js_sys::Object::new();
    for (k, v) in fields {
        js_sys::Reflect::set(&record, &(*k).into(), v).expect("setting a field on a plain object");
    }
    record.into()
}

fn pair(a: &str, b: &str) -> JsValue {
    js_sys::Array::of2(&a.into(), &b.into()).into()
}

fn only(key: &str, what: &str) -> Result<KeyRange, ShellError> {
    KeyRange::only(&key.into()).map_err(|e| ShellError::new(what, e.to_string()))
}

/// Within a transaction over [`BLOBS`] and [`BLOB_REFS`]: stores a content unless it is stored,
/// and has `session` hold it.
pub(crate) async fn hold(blobs: &Store, refs: &Store, session: &str, blob: &StoredBlob, what: &str) -> Result<(), ShellError> {
    if !blobs.key_exists(blob.hash.as_str().into()).await.map_err(err(what))? {
        let record = object(&[
            ("hash", blob.hash.as_str().into()),
            ("mime", blob.mime.as_str().into()),
            ("size", JsValue::from_f64(blob.bytes.len() as f64)),
            ("data", js_sys::Uint8Array::from(blob.bytes.as_slice()).into()),
        ]);
        blobs.add(&record, None).await.map_err(err(what))?;
    }
    refs.put(&object(&[("sessionId", session.into()), ("hash", blob.hash.as_str().into())]), None).await.map_err(err(what))?;
    Ok(())
}

/// Within a transaction over [`ASSETS`]: records that `url` of `session` had the content `hash`.
pub(crate) async fn put_asset_url(assets: &Store, session: &str, url: &str, hash: &str, size: usize, what: &str) -> Result<(), ShellError> {
    let record = object(&[("sessionId", session.into()), ("url", url.into()), ("hash", hash.into()), ("size", JsValue::from_f64(size as f64))]);
    assets.put(&record, None).await.map_err(err(what))?;
    Ok(())
}

/// Within a transaction over [`BLOBS`], [`BLOB_REFS`] and [`ASSETS`]: deletes a session's asset
/// URLs and holds, and the contents no other session holds.
pub(crate) async fn release(blobs: &Store, refs: &Store, assets: &Store, session: &str, what: &str) -> Result<(), ShellError> {
    let urls = assets.index(ASSETS_BY_SESSION).map_err(err(what))?.get_all_keys(Some(only(session, what)?), None).await.map_err(err(what))?;
    for key in urls {
        assets.delete(key).await.map_err(err(what))?;
    }
    let held = refs.index(REFS_BY_SESSION).map_err(err(what))?.get_all(Some(only(session, what)?), None).await.map_err(err(what))?;
    let by_hash = refs.index(REFS_BY_HASH).map_err(err(what))?;
    for hash in held.iter().filter_map(|r| string_field(r, "hash")) {
        refs.delete(pair(session, &hash)).await.map_err(err(what))?;
        if by_hash.count(Some(only(&hash, what)?)).await.map_err(err(what))? == 0 {
            blobs.delete(hash.as_str().into()).await.map_err(err(what))?;
        }
    }
    Ok(())
}

impl SessionStore {
    /// Stores `blob` (unless its content is stored already) held by `session`.
    pub async fn put_blob(&self, session: &str, blob: &StoredBlob) -> Result<(), ShellError> {
        let what = "storing a blob";
        let tx = self.db.transaction(&[BLOBS, BLOB_REFS], TransactionMode::ReadWrite).map_err(err(what))?;
        hold(&tx.store(BLOBS).map_err(err(what))?, &tx.store(BLOB_REFS).map_err(err(what))?, session, blob, what).await?;
        tx.done().await.map_err(err(what))?;
        Ok(())
    }

    /// Stores `blob` as what `url` had in `session` (the content itself unless it is stored).
    pub async fn put_asset(&self, session: &str, url: &str, blob: &StoredBlob) -> Result<(), ShellError> {
        let what = "storing an asset";
        let tx = self.db.transaction(&[BLOBS, BLOB_REFS, ASSETS], TransactionMode::ReadWrite).map_err(err(what))?;
        hold(&tx.store(BLOBS).map_err(err(what))?, &tx.store(BLOB_REFS).map_err(err(what))?, session, blob, what).await?;
        put_asset_url(&tx.store(ASSETS).map_err(err(what))?, session, url, &blob.hash, blob.bytes.len(), what).await?;
        tx.done().await.map_err(err(what))?;
        Ok(())
    }

    /// Whether `session` has a stored copy of `url`.
    pub async fn has_asset(&self, session: &str, url: &str) -> Result<bool, ShellError> {
        let what = "reading stored assets";
        let tx = self.db.transaction(&[ASSETS], TransactionMode::ReadOnly).map_err(err(what))?;
        tx.store(ASSETS).map_err(err(what))?.key_exists(pair(session, url)).await.map_err(err(what))
    }

    /// The session's stored assets.
    pub async fn asset_refs(&self, session: &str) -> Result<Vec<AssetRef>, ShellError> {
        let what = "reading stored assets";
        let tx = self.db.transaction(&[ASSETS], TransactionMode::ReadOnly).map_err(err(what))?;
        let index = tx.store(ASSETS).map_err(err(what))?.index(ASSETS_BY_SESSION).map_err(err(what))?;
        let records = index.get_all(Some(only(session, what)?), None).await.map_err(err(what))?;
        Ok(records
            .iter()
            .filter_map(|r| Some(AssetRef { url: string_field(r, "url")?, hash: string_field(r, "hash")?, size: field(r, "size")?.as_f64()? as usize }))
            .collect())
    }

    /// A session's stored assets and every content they and the pictures of `events` (the
    /// session's) use, each once: what its replay and its session file need.
    pub async fn used_blobs(&self, session: &str, events: &[Event]) -> Result<(Vec<AssetRef>, Vec<StoredBlob>), ShellError> {
        let assets = self.asset_refs(session).await?;
        let pictures = SessionFile::referenced_blobs(events);
        let blobs = self.blobs(assets.iter().map(|a| a.hash.as_str()).chain(pictures.iter().map(String::as_str))).await?;
        Ok((assets, blobs))
    }

    /// The contents of `hashes` (each once, in order of first appearance); a missing one is an
    /// error.
    pub async fn blobs<'a>(&self, hashes: impl IntoIterator<Item = &'a str>) -> Result<Vec<StoredBlob>, ShellError> {
        let what = "reading stored blobs";
        let tx = self.db.transaction(&[BLOBS], TransactionMode::ReadOnly).map_err(err(what))?;
        let blobs = tx.store(BLOBS).map_err(err(what))?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for hash in hashes {
            if !seen.insert(hash) {
                continue;
            }
            let Some(record) = blobs.get(hash.into()).await.map_err(err(what))? else {
                return Err(ShellError::new(what, format!("the content {hash} is missing")));
            };
            let bytes = field(&record, "data").and_then(|d| d.dyn_into::<js_sys::Uint8Array>().ok()).ok_or_else(|| ShellError::new(what, format!("content {hash} is not bytes")))?;
            out.push(StoredBlob { hash: hash.to_owned(), mime: string_field(&record, "mime").unwrap_or_default(), bytes: bytes.to_vec() });
        }
        Ok(out)
    }

    /// How many contents are stored (all sessions together; for tests and diagnostics).
    pub async fn blob_count(&self) -> Result<u32, ShellError> {
        let what = "counting blobs";
        let tx = self.db.transaction(&[BLOBS], TransactionMode::ReadOnly).map_err(err(what))?;
        tx.store(BLOBS).map_err(err(what))?.count(None).await.map_err(err(what))
    }
}
