//! The session file: what export writes and import reads. Documented in `docs/session-format.md`.
//!
//! A file is one JSON object: `format` ("tabreel-session"), `version` (1), `session` (the
//! session's metadata) and `events` (every event, in order). Reading is strict and explains
//! itself: a file that is not JSON, truncated, of another format or version, or inconsistent
//! gets an [`ImportError`] naming the problem, and nothing is stored.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::assets::{fetchable, replay_mime, sha256_hex, MAX_ASSET_BYTES, MAX_SESSION_ASSET_BYTES};
use crate::core::event::{Event, EventData};

/// The `format` field of every session file.
pub const FORMAT: &str = "tabreel-session";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;

/// A stored session's metadata, as listed by the popup and the `list` command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMeta {
    /// Unique id.
    pub id: String,
    /// Title of the first page.
    pub title: String,
    /// URL of the first page.
    pub url: String,
    /// Start of the recording, epoch ms.
    pub started_at: f64,
    /// Time from start to the last event (or to stop), ms.
    pub duration_ms: f64,
    /// Number of events.
    pub event_count: u64,
    /// Bytes stored (compressed chunks).
    #[serde(default)]
    pub bytes: u64,
}

/// A whole session, as exported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`] for files this build writes.
    pub version: u32,
    /// Metadata (`bytes` is informational; the importing store recomputes it).
    pub session: SessionMeta,
    /// The events in time order.
    pub events: Vec<Event>,
    /// Stored files by content hash (the assets' bytes; see [`crate::core::assets`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<FileBlob>,
    /// The page's stylesheets, fonts and images: which URL had which stored file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<FileAsset>,
}

/// A stored file in a session file: its bytes (base64), their SHA-256 and their MIME type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBlob {
    /// Lower-case hex SHA-256 of the bytes.
    pub hash: String,
    /// MIME type, without parameters.
    pub mime: String,
    /// The bytes, base64 (standard alphabet, padded).
    pub data: String,
}

/// A URL the recorded page used and the stored file it had.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAsset {
    /// Absolute http(s) URL without fragment.
    pub url: String,
    /// The [`FileBlob::hash`] of its bytes.
    pub hash: String,
}

/// Why a session file was refused.
#[derive(Debug, PartialEq)]
pub enum ImportError {
    /// Not JSON, or cut short.
    NotJson(String),
    /// JSON, but not a tabreel session file.
    WrongFormat(String),
    /// A version this build does not read.
    UnsupportedVersion(String),
    /// The right format and version, but the content does not fit it.
    Invalid(String),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::NotJson(e) => write!(f, "not a session file: the JSON is malformed or truncated ({e})"),
            ImportError::WrongFormat(e) => write!(f, "not a tabreel session file: {e}"),
            ImportError::UnsupportedVersion(v) => write!(f, "unsupported session file version {v}: this build reads version {VERSION}"),
            ImportError::Invalid(e) => write!(f, "invalid session file: {e}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Just enough of a file to say what it is.
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

impl SessionFile {
    /// A file for `session` holding `events`.
    pub fn new(session: SessionMeta, events: Vec<Event>) -> SessionFile {
        SessionFile { format: FORMAT.into(), version: VERSION, session, events, blobs: Vec::new(), assets: Vec::new() }
    }

    /// The file with these stored files (`(hash, mime, bytes)`) and assets (`(url, hash)`).
    pub fn with_assets(mut self, blobs: Vec<(String, String, Vec<u8>)>, assets: Vec<(String, String)>) -> SessionFile {
        use base64::Engine;
        self.blobs = blobs.into_iter().map(|(hash, mime, bytes)| FileBlob { hash, mime, data: base64::engine::general_purpose::STANDARD.encode(bytes) }).collect();
        self.assets = assets.into_iter().map(|(url, hash)| FileAsset { url, hash }).collect();
        self
    }

    /// The stored files' bytes, checked (see [`SessionFile::parse`]): `(hash, mime, bytes)`.
    pub fn blob_bytes(&self) -> Result<Vec<(String, String, Vec<u8>)>, ImportError> {
        check_assets(&self.blobs, &self.assets)
    }

    /// The file as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("session files always serialise")
    }

    /// Reads and checks a file.
    pub fn parse(text: &str) -> Result<SessionFile, ImportError> {
        let header: Header = serde_json::from_str(text).map_err(|e| ImportError::NotJson(e.to_string()))?;
        match &header.format {
            Some(serde_json::Value::String(f)) if f == FORMAT => {}
            Some(other) => return Err(ImportError::WrongFormat(format!("format is {other}, expected \"{FORMAT}\""))),
            None => return Err(ImportError::WrongFormat("no \"format\" field".into())),
        }
        match &header.version {
            Some(v) if v.as_u64() == Some(VERSION as u64) => {}
            Some(v) => return Err(ImportError::UnsupportedVersion(v.to_string())),
            None => return Err(ImportError::UnsupportedVersion("(missing)".into())),
        }
        let file: SessionFile = serde_json::from_str(text).map_err(|e| ImportError::Invalid(e.to_string()))?;
        file.check()?;
        Ok(file)
    }

    fn check(&self) -> Result<(), ImportError> {
        let s = &self.session;
        if s.id.is_empty() || s.id.len() > 128 || !s.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ImportError::Invalid("session id must be 1-128 characters of [A-Za-z0-9_-]".into()));
        }
        if !s.started_at.is_finite() || !s.duration_ms.is_finite() || s.duration_ms < 0.0 {
            return Err(ImportError::Invalid("startedAt and durationMs must be finite, durationMs not negative".into()));
        }
        if s.event_count != self.events.len() as u64 {
            return Err(ImportError::Invalid(format!("the session says {} events but the file holds {}", s.event_count, self.events.len())));
        }
        if let Some(i) = self.events.iter().position(|e| !e.t.is_finite()) {
            return Err(ImportError::Invalid(format!("event {i} has no finite time")));
        }
        if !self.events.is_empty() && !self.events.iter().any(|e| e.frame == 0 && matches!(e.data, EventData::Snapshot(_))) {
            return Err(ImportError::Invalid("the events hold no page snapshot, so nothing could be replayed".into()));
        }
        check_assets(&self.blobs, &self.assets)?;
        Ok(())
    }
}

/// Checks a file's stored files and assets, and decodes the bytes: every hash is 64 lower-case
/// hex digits and the SHA-256 of its bytes, stored once; every MIME type one the replay may use
/// ([`crate::core::assets::replay_mime`]); every asset URL absolute http(s) without fragment, once,
/// with a stored file; every stored file used; sizes within [`MAX_ASSET_BYTES`] each and
/// [`MAX_SESSION_ASSET_BYTES`] in all.
fn check_assets(blobs: &[FileBlob], assets: &[FileAsset]) -> Result<Vec<(String, String, Vec<u8>)>, ImportError> {
    use base64::Engine;
    use std::collections::HashSet;
    let invalid = |i: usize, what: String| ImportError::Invalid(format!("blob {i}: {what}"));
    let mut out = Vec::with_capacity(blobs.len());
    let mut hashes = HashSet::new();
    let mut total = 0usize;
    for (i, b) in blobs.iter().enumerate() {
        if !is_hash(&b.hash) {
            return Err(invalid(i, "hash must be 64 lower-case hex digits".into()));
        }
        if !hashes.insert(b.hash.as_str()) {
            return Err(invalid(i, format!("hash {} appears twice", b.hash)));
        }
        if replay_mime(&b.mime).as_deref() != Some(b.mime.as_str()) {
            return Err(invalid(i, format!("MIME type {:?} is not one the replay uses", b.mime)));
        }
        if b.data.len() > MAX_ASSET_BYTES.div_ceil(3) * 4 {
            return Err(invalid(i, format!("larger than {MAX_ASSET_BYTES} bytes")));
        }
        let bytes = base64::engine::general_purpose::STANDARD.decode(&b.data).map_err(|e| invalid(i, format!("data is not base64 ({e})")))?;
        if bytes.len() > MAX_ASSET_BYTES {
            return Err(invalid(i, format!("larger than {MAX_ASSET_BYTES} bytes")));
        }
        total += bytes.len();
        if total > MAX_SESSION_ASSET_BYTES {
            return Err(ImportError::Invalid(format!("the stored files exceed {MAX_SESSION_ASSET_BYTES} bytes in all")));
        }
        if sha256_hex(&bytes) != b.hash {
            return Err(invalid(i, "the data does not match its hash".into()));
        }
        out.push((b.hash.clone(), b.mime.clone(), bytes));
    }
    let mut urls = HashSet::new();
    let mut used = HashSet::new();
    for (i, a) in assets.iter().enumerate() {
        if fetchable(&a.url).as_deref() != Some(a.url.as_str()) {
            return Err(ImportError::Invalid(format!("asset {i}: the URL must be absolute http(s), without fragment, at most {} characters", crate::core::assets::MAX_URL_CHARS)));
        }
        if !urls.insert(a.url.as_str()) {
            return Err(ImportError::Invalid(format!("asset {i}: {} appears twice", a.url)));
        }
        if !hashes.contains(a.hash.as_str()) {
            return Err(ImportError::Invalid(format!("asset {i}: no stored file has hash {:?}", a.hash)));
        }
        used.insert(a.hash.as_str());
    }
    if let Some(i) = blobs.iter().position(|b| !used.contains(b.hash.as_str())) {
        return Err(invalid(i, "no asset uses it".into()));
    }
    Ok(out)
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{NodeKind, SerializedNode, Snapshot};
    use crate::core::assets::sha256_hex;

    fn file() -> SessionFile {
        let snap = Event {
            t: 10.0,
            page: 0, frame: 0,
            data: EventData::Snapshot(Snapshot {
                url: "http://127.0.0.1/".into(),
                title: "T".into(),
                width: 1,
                height: 1,
                nodes: vec![SerializedNode { id: 1, parent: None, kind: NodeKind::Document }],
                scrolls: vec![],
                focus: None,
            }),
        };
        let meta = SessionMeta { id: "s-1".into(), title: "T".into(), url: "http://127.0.0.1/".into(), started_at: 10.0, duration_ms: 5.0, event_count: 1, bytes: 99 };
        SessionFile::new(meta, vec![snap])
    }

    #[test]
    fn files_round_trip() {
        let f = file();
        assert_eq!(SessionFile::parse(&f.to_json()).unwrap(), f);
    }

    #[test]
    fn truncated_files_are_refused_clearly() {
        let json = file().to_json();
        for cut in [1, json.len() / 3, json.len() - 1] {
            let err = SessionFile::parse(&json[..cut]).unwrap_err();
            assert!(matches!(err, ImportError::NotJson(_)), "{cut}: {err}");
            assert!(err.to_string().contains("truncated"));
        }
    }

    #[test]
    fn other_formats_and_versions_are_named() {
        let err = SessionFile::parse(r#"{"format":"rrweb","version":1}"#).unwrap_err();
        assert_eq!(err.to_string(), "not a tabreel session file: format is \"rrweb\", expected \"tabreel-session\"");
        let v2 = file().to_json().replace("\"version\":1", "\"version\":2");
        assert_eq!(SessionFile::parse(&v2).unwrap_err(), ImportError::UnsupportedVersion("2".into()));
        assert!(matches!(SessionFile::parse("[1,2]").unwrap_err(), ImportError::WrongFormat(_)));
        assert!(matches!(SessionFile::parse("nonsense").unwrap_err(), ImportError::NotJson(_)));
    }

    #[test]
    fn inconsistent_or_hostile_content_is_invalid() {
        let mut f = file();
        f.session.event_count = 7;
        assert!(SessionFile::parse(&f.to_json()).unwrap_err().to_string().contains("says 7 events but the file holds 1"));
        let mut f = file();
        f.session.id = "../../etc".into();
        assert!(matches!(SessionFile::parse(&f.to_json()).unwrap_err(), ImportError::Invalid(_)));
        let bad_event = file().to_json().replace("\"kind\":\"snapshot\"", "\"kind\":\"exploit\"");
        assert!(matches!(SessionFile::parse(&bad_event).unwrap_err(), ImportError::Invalid(_)));
        // Deeply nested junk cannot blow the stack: serde_json's depth limit refuses it.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(SessionFile::parse(&deep).is_err());
    }

    #[test]
    fn frames_round_trip_and_old_files_without_them_still_read() {
        let mut f = file();
        let mut frame_snapshot = f.events[0].clone();
        frame_snapshot.frame = 12;
        if let EventData::Snapshot(s) = &mut frame_snapshot.data {
            s.nodes.push(SerializedNode {
                id: 2,
                parent: Some(1),
                kind: NodeKind::Element(crate::core::event::ElementNode { tag: "iframe".into(), ns: None, attrs: vec![], form: None, css: None }),
            });
        }
        f.events.push(frame_snapshot);
        f.events.push(Event { t: 11.0, page: 0, frame: 12, data: EventData::FrameHost { host: 2, child: 13 } });
        f.session.event_count = 3;
        let json = f.to_json();
        assert!(json.contains(r#""page":0,"frame":12,"#) && json.contains(r#"{"kind":"frame_host","host":2,"child":13}"#), "{json}");
        assert_eq!(SessionFile::parse(&json).unwrap(), f);
        // A file without any "frame" (every file before frames were recorded) is all top-level.
        let old = file().to_json();
        assert!(!old.contains("frame"));
        assert_eq!(SessionFile::parse(&old).unwrap().events[0].frame, 0);
        // Frame ids are Chrome's, never negative; a file with only a frame's snapshot has no page.
        assert!(matches!(SessionFile::parse(&json.replace(r#""frame":12"#, r#""frame":-1"#)).unwrap_err(), ImportError::Invalid(_)));
        let mut only_frame = file();
        only_frame.events[0].frame = 3;
        assert!(SessionFile::parse(&only_frame.to_json()).unwrap_err().to_string().contains("no page snapshot"));
    }

    fn with_assets() -> SessionFile {
        let png = b"\x89PNG fake".to_vec();
        let css = b"a{b:c}".to_vec();
        file().with_assets(
            vec![(sha256_hex(&png), "image/png".into(), png), (sha256_hex(&css), "text/css".into(), css)],
            vec![("http://127.0.0.1/a.png".into(), sha256_hex(b"\x89PNG fake")), ("http://127.0.0.1/b.png".into(), sha256_hex(b"\x89PNG fake")), ("https://cdn.test/s.css".into(), sha256_hex(b"a{b:c}"))],
        )
    }

    #[test]
    fn files_with_assets_round_trip() {
        let f = with_assets();
        let json = f.to_json();
        assert!(json.contains("\"blobs\":[{\"hash\""), "{json}");
        let back = SessionFile::parse(&json).unwrap();
        assert_eq!(back, f);
        let bytes = back.blob_bytes().unwrap();
        assert_eq!(bytes[0].2, b"\x89PNG fake");
        assert_eq!(bytes[1].1, "text/css");
        // A file without assets has no such fields at all.
        assert!(!file().to_json().contains("blobs"));
    }

    #[test]
    fn hostile_assets_are_refused() {
        let refused = |f: SessionFile, needle: &str| {
            let err = SessionFile::parse(&f.to_json()).unwrap_err();
            assert!(matches!(err, ImportError::Invalid(_)) && err.to_string().contains(needle), "{err} (wanted {needle:?})");
        };
        let mut f = with_assets();
        f.blobs[0].data = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"other bytes");
        refused(f, "does not match its hash");
        let mut f = with_assets();
        f.blobs[0].mime = "text/html".into();
        refused(f, "MIME type");
        let mut f = with_assets();
        f.blobs[0].hash = "../../x".into();
        refused(f, "64 lower-case hex");
        let mut f = with_assets();
        f.blobs[1].data = "not base64!".into();
        refused(f, "not base64");
        let mut f = with_assets();
        f.blobs.push(f.blobs[0].clone());
        refused(f, "appears twice");
        let mut f = with_assets();
        f.assets[0].url = "javascript:alert(1)".into();
        refused(f, "absolute http(s)");
        let mut f = with_assets();
        f.assets[0].url = "http://127.0.0.1/a.png#frag".into();
        refused(f, "without fragment");
        let mut f = with_assets();
        f.assets[1].url = f.assets[0].url.clone();
        refused(f, "appears twice");
        let mut f = with_assets();
        f.assets[0].hash = "0".repeat(64);
        refused(f, "no stored file");
        let mut f = with_assets();
        f.assets.pop();
        refused(f, "no asset uses it");
        let mut f = with_assets();
        f.blobs[0].data = "A".repeat(MAX_ASSET_BYTES / 3 * 4 + 8);
        refused(f, "larger than");
        let unknown = with_assets().to_json().replace("\"mime\":\"image/png\"", "\"mime\":\"image/png\",\"run\":1");
        assert!(matches!(SessionFile::parse(&unknown).unwrap_err(), ImportError::Invalid(_)));
    }
}
