//! Stored files of sessions, in the extension's IndexedDB beside the sessions ([`SessionStore`]).
//!
//! Two object stores, kept generic so that anything a recording needs to keep as bytes (page
//! assets today) can use them:
//! - `blobs`: one record per distinct content, keyed by its SHA-256 (`{hash, mime, size, data}`,
//!   `data` a `Uint8Array`). The same font used by ten sessions is stored once.
//! - `assets`: which URL of which session had which content (`{sessionId, url, hash, size}`,
//!   keyed by `[sessionId, url]`, indexed by session and by hash).
//!
//! A content is stored with its first reference, in one transaction; deleting a session deletes
//! its references and every content no other session references, in the same transaction as the
//! session itself ([`SessionStore::delete`]).

use std::collections::HashSet;

use rexie::{KeyRange, Store, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

use crate::shell::error::ShellError;
use crate::shell::store::SessionStore;

pub(crate) const BLOBS: &str = "blobs";
pub(crate) const ASSETS: &str = "assets";
pub(crate) const ASSETS_BY_SESSION: &str = "assets_by_session";
pub(crate) const ASSETS_BY_HASH: &str = "assets_by_hash";

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

fn asset_key(session: &str, url: &str) -> JsValue {
    js_sys::Array::of2(&session.into(), &url.into()).into()
}

/// Adds `blob` to `blobs` unless it is there; answers whether it was new.
async fn add_blob(blobs: &Store, hash: &str, mime: &str, bytes: &[u8], what: &str) -> Result<bool, ShellError> {
    if blobs.key_exists(hash.into()).await.map_err(err(what))? {
        return Ok(false);
    }
    let record = object(&[
        ("hash", hash.into()),
        ("mime", mime.into()),
        ("size", JsValue::from_f64(bytes.len() as f64)),
        ("data", js_sys::Uint8Array::from(bytes).into()),
    ]);
    blobs.add(&record, None).await.map_err(err(what))?;
    Ok(true)
}

fn asset_record(session: &str, url: &str, hash: &str, size: usize) -> JsValue {
    object(&[("sessionId", session.into()), ("url", url.into()), ("hash", hash.into()), ("size", JsValue::from_f64(size as f64))])
}

impl SessionStore {
    /// Whether `session` has a stored copy of `url`.
    pub async fn has_asset(&self, session: &str, url: &str) -> Result<bool, ShellError> {
        let what = "reading stored assets";
        let tx = self.db.transaction(&[ASSETS], TransactionMode::ReadOnly).map_err(err(what))?;
        tx.store(ASSETS).map_err(err(what))?.key_exists(asset_key(session, url)).await.map_err(err(what))
    }

    /// The session's asset references: `(url, hash, size)`.
    pub async fn asset_refs(&self, session: &str) -> Result<Vec<(String, String, usize)>, ShellError> {
        let what = "reading stored assets";
        let tx = self.db.transaction(&[ASSETS], TransactionMode::ReadOnly).map_err(err(what))?;
        let index = tx.store(ASSETS).map_err(err(what))?.index(ASSETS_BY_SESSION).map_err(err(what))?;
        let range = KeyRange::only(&session.into()).map_err(|e| ShellError::new(what, e.to_string()))?;
        let records = index.get_all(Some(range), None).await.map_err(err(what))?;
        Ok(records
            .iter()
            .filter_map(|r| Some((string_field(r, "url")?, string_field(r, "hash")?, field(r, "size")?.as_f64()? as usize)))
            .collect())
    }

    /// Stores `bytes` (of SHA-256 `hash`, type `mime`) as what `url` had in `session`, and the
    /// content itself unless some session has it already.
    pub async fn put_asset(&self, session: &str, url: &str, hash: &str, mime: &str, bytes: &[u8]) -> Result<(), ShellError> {
        let what = "storing an asset";
        let tx = self.db.transaction(&[BLOBS, ASSETS], TransactionMode::ReadWrite).map_err(err(what))?;
        add_blob(&tx.store(BLOBS).map_err(err(what))?, hash, mime, bytes, what).await?;
        tx.store(ASSETS).map_err(err(what))?.put(&asset_record(session, url, hash, bytes.len()), None).await.map_err(err(what))?;
        tx.done().await.map_err(err(what))?;
        Ok(())
    }

    /// A session's assets: `(url, hash)` pairs and the contents they use (each once).
    pub async fn assets(&self, session: &str) -> Result<(Vec<(String, String)>, Vec<StoredBlob>), ShellError> {
        let what = "reading stored assets";
        let refs = self.asset_refs(session).await?;
        let tx = self.db.transaction(&[BLOBS], TransactionMode::ReadOnly).map_err(err(what))?;
        let blobs = tx.store(BLOBS).map_err(err(what))?;
        let mut seen = HashSet::new();
        let mut contents = Vec::new();
        for (_, hash, _) in &refs {
            if !seen.insert(hash.clone()) {
                continue;
            }
            let Some(record) = blobs.get(hash.as_str().into()).await.map_err(err(what))? else {
                return Err(ShellError::new(what, format!("the content {hash} is missing")));
            };
            let bytes = field(&record, "data").and_then(|d| d.dyn_into::<js_sys::Uint8Array>().ok()).ok_or_else(|| ShellError::new(what, format!("content {hash} is not bytes")))?;
            contents.push(StoredBlob { hash: hash.clone(), mime: string_field(&record, "mime").unwrap_or_default(), bytes: bytes.to_vec() });
        }
        Ok((refs.into_iter().map(|(url, hash, _)| (url, hash)).collect(), contents))
    }
}

/// Within a transaction over [`BLOBS`] and [`ASSETS`]: adds the contents and references of an
/// imported session.
pub(crate) async fn import_assets(blobs: &Store, assets: &Store, session: &str, contents: &[StoredBlob], refs: &[(String, String)], what: &str) -> Result<(), ShellError> {
    for c in contents {
        add_blob(blobs, &c.hash, &c.mime, &c.bytes, what).await?;
    }
    for (url, hash) in refs {
        let size = contents.iter().find(|c| &c.hash == hash).map_or(0, |c| c.bytes.len());
        assets.put(&asset_record(session, url, hash, size), None).await.map_err(err(what))?;
    }
    Ok(())
}

/// Within a transaction over [`BLOBS`] and [`ASSETS`]: deletes a session's references, and the
/// contents no other session references.
pub(crate) async fn delete_assets(blobs: &Store, assets: &Store, session: &str, what: &str) -> Result<(), ShellError> {
    let range = KeyRange::only(&session.into()).map_err(|e| ShellError::new(what, e.to_string()))?;
    let records = assets.index(ASSETS_BY_SESSION).map_err(err(what))?.get_all(Some(range), None).await.map_err(err(what))?;
    let mut hashes = HashSet::new();
    for r in &records {
        if let (Some(url), Some(hash)) = (string_field(r, "url"), string_field(r, "hash")) {
            assets.delete(asset_key(session, &url)).await.map_err(err(what))?;
            hashes.insert(hash);
        }
    }
    let by_hash = assets.index(ASSETS_BY_HASH).map_err(err(what))?;
    for hash in hashes {
        let range = KeyRange::only(&hash.as_str().into()).map_err(|e| ShellError::new(what, e.to_string()))?;
        if by_hash.count(Some(range)).await.map_err(err(what))? == 0 {
            blobs.delete(hash.as_str().into()).await.map_err(err(what))?;
        }
    }
    Ok(())
}
