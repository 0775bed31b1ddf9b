//! The session file: what export writes and import reads. Documented in `docs/session-format.md`.
//!
//! A file is one JSON object: `format` ("tabreel-session"), `version` (1), `session` (the
//! session's metadata), `events` (every event, in order) and, when there are some, `blobs` (the
//! bytes the events and assets use, by content hash) and `assets` (which URL of the page had
//! which blob). Reading is strict and explains
//! itself: a file that is not JSON, truncated, of another format or version, or inconsistent
//! gets an [`ImportError`] naming the problem, and nothing is stored.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::assets::{fetchable, MAX_URL_CHARS};
use crate::core::blob::{check_entry, is_hash, to_base64, BlobEntry, PICTURE_MIMES};
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
    /// The blobs the assets and the events use (stylesheets, fonts and images; canvas and video
    /// pictures), each once. See [`crate::core::blob`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<BlobEntry>,
    /// The page's stylesheets, fonts and images: which URL had which blob.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<FileAsset>,
}

/// A URL the recorded page used and the blob it had.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAsset {
    /// Absolute http(s) URL without fragment.
    pub url: String,
    /// The [`BlobEntry::hash`] of its bytes.
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

    /// The file with these blobs (`(hash, mime, bytes)`) and assets (`(url, hash)`).
    pub fn with_blobs(mut self, blobs: Vec<(String, String, Vec<u8>)>, assets: Vec<(String, String)>) -> SessionFile {
        self.blobs = blobs.into_iter().map(|(hash, mime, bytes)| BlobEntry { hash, mime, data: to_base64(&bytes) }).collect();
        self.assets = assets.into_iter().map(|(url, hash)| FileAsset { url, hash }).collect();
        self
    }

    /// The hashes of the blobs the events refer to (pictures), each once, in order of first use.
    pub fn referenced_blobs(events: &[Event]) -> Vec<String> {
        let mut seen = HashSet::new();
        events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::CanvasFrame { hash, .. } => Some(hash),
                _ => None,
            })
            .filter(|h| seen.insert(h.as_str()))
            .cloned()
            .collect()
    }

    /// The blobs' bytes, checked (see [`check_blobs`]): `(hash, mime, bytes)`.
    pub fn blob_bytes(&self) -> Result<Vec<(String, String, Vec<u8>)>, ImportError> {
        check_blobs(&self.blobs, &self.assets, &self.events)
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
        for (i, e) in self.events.iter().enumerate() {
            match &e.data {
                EventData::CanvasFrame { hash, .. } if !is_hash(hash) => {
                    return Err(ImportError::Invalid(format!("event {i} refers to a blob by a malformed hash")));
                }
                EventData::Media { state, .. } if !(state.time.is_finite() && state.rate.is_finite() && (0.0..=1.0).contains(&state.volume)) => {
                    return Err(ImportError::Invalid(format!("event {i} has a media state out of range (time and rate finite, volume 0 to 1)")));
                }
                _ => {}
            }
        }
        check_blobs(&self.blobs, &self.assets, &self.events)?;
        Ok(())
    }
}

/// Checks a file's blobs against what uses them, and decodes the bytes: every entry passes
/// [`check_entry`] (hash, MIME type, size, bytes matching the hash) and is there once; every
/// asset URL is absolute http(s) without fragment, there once, with a blob; every picture an
/// event refers to is a blob of one of [`PICTURE_MIMES`]; every blob is used by an asset or an
/// event.
fn check_blobs(blobs: &[BlobEntry], assets: &[FileAsset], events: &[Event]) -> Result<Vec<(String, String, Vec<u8>)>, ImportError> {
    let mut out = Vec::with_capacity(blobs.len());
    let mut mimes = HashMap::new();
    for b in blobs {
        let bytes = check_entry(b).map_err(ImportError::Invalid)?;
        if mimes.insert(b.hash.as_str(), b.mime.as_str()).is_some() {
            return Err(ImportError::Invalid(format!("blob {} appears twice", b.hash)));
        }
        out.push((b.hash.clone(), b.mime.clone(), bytes));
    }
    let mut urls = HashSet::new();
    let mut used = HashSet::new();
    for (i, a) in assets.iter().enumerate() {
        if fetchable(&a.url).as_deref() != Some(a.url.as_str()) {
            return Err(ImportError::Invalid(format!("asset {i}: the URL must be absolute http(s), without fragment, at most {MAX_URL_CHARS} characters")));
        }
        if !urls.insert(a.url.as_str()) {
            return Err(ImportError::Invalid(format!("asset {i}: {} appears twice", a.url)));
        }
        if !mimes.contains_key(a.hash.as_str()) {
            return Err(ImportError::Invalid(format!("asset {i}: the file holds no blob {:?}", a.hash)));
        }
        used.insert(a.hash.clone());
    }
    for hash in SessionFile::referenced_blobs(events) {
        match mimes.get(hash.as_str()) {
            None => return Err(ImportError::Invalid(format!("an event refers to blob {hash}, which the file does not hold"))),
            Some(mime) if !PICTURE_MIMES.contains(mime) => {
                return Err(ImportError::Invalid(format!("blob {hash} is shown as a picture but has MIME type {mime}; pictures are {}", PICTURE_MIMES.join(", "))));
            }
            Some(_) => {}
        }
        used.insert(hash);
    }
    if let Some(spare) = blobs.iter().find(|b| !used.contains(&b.hash)) {
        return Err(ImportError::Invalid(format!("blob {} is used by no asset and no event", spare.hash)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{NodeKind, SerializedNode, Snapshot};
    use crate::core::blob::hash;

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

    /// A file with two assets sharing a picture's bytes, a stylesheet, and a canvas picture shown
    /// twice.
    fn with_blobs() -> SessionFile {
        let png = b"\x89PNG fake".to_vec();
        let css = b"a{b:c}".to_vec();
        let webp = b"RIFF....WEBPVP8L pixels".to_vec();
        let mut f = file();
        for t in [12.0, 13.0] {
            f.events.push(Event { t, page: 0, frame: 0, data: EventData::CanvasFrame { target: 1, hash: hash(&webp), width: 2, height: 2 } });
        }
        f.session.event_count = 3;
        f.with_blobs(
            vec![(hash(&png), "image/png".into(), png), (hash(&css), "text/css".into(), css), (hash(&webp), "image/webp".into(), webp)],
            vec![("http://127.0.0.1/a.png".into(), hash(b"\x89PNG fake")), ("http://127.0.0.1/b.png".into(), hash(b"\x89PNG fake")), ("https://cdn.test/s.css".into(), hash(b"a{b:c}"))],
        )
    }

    #[test]
    fn files_with_blobs_round_trip() {
        let f = with_blobs();
        let json = f.to_json();
        assert!(json.contains("\"blobs\":[{\"hash\""), "{json}");
        let back = SessionFile::parse(&json).unwrap();
        assert_eq!(back, f);
        let bytes = back.blob_bytes().unwrap();
        assert_eq!(bytes[0].2, b"\x89PNG fake");
        assert_eq!(bytes[1].1, "text/css");
        assert_eq!(bytes[2], (hash(b"RIFF....WEBPVP8L pixels"), "image/webp".to_string(), b"RIFF....WEBPVP8L pixels".to_vec()));
        assert_eq!(SessionFile::referenced_blobs(&f.events), vec![hash(b"RIFF....WEBPVP8L pixels")]);
        // A file without blobs has no such fields at all.
        let plain = file().to_json();
        assert!(!plain.contains("blobs") && !plain.contains("assets"), "{plain}");
    }

    #[test]
    fn hostile_blobs_and_assets_are_refused() {
        let refused = |f: SessionFile, needle: &str| {
            let err = SessionFile::parse(&f.to_json()).unwrap_err();
            assert!(matches!(err, ImportError::Invalid(_)) && err.to_string().contains(needle), "{err} (wanted {needle:?})");
        };
        let mut f = with_blobs();
        f.blobs[0].data = crate::core::blob::to_base64(b"other bytes");
        refused(f, "does not match its content");
        let mut f = with_blobs();
        f.blobs[0].mime = "text/html".into();
        refused(f, "MIME type");
        let mut f = with_blobs();
        f.blobs[0].hash = "../../x".into();
        refused(f, "64 lower-case hex");
        let mut f = with_blobs();
        f.blobs[1].data = "not base64!".into();
        refused(f, "base64");
        let mut f = with_blobs();
        f.blobs.push(f.blobs[0].clone());
        refused(f, "appears twice");
        let mut f = with_blobs();
        f.blobs[0].data = "A".repeat(crate::core::blob::MAX_BLOB_BYTES / 3 * 4 + 8);
        refused(f, "more than");
        let mut f = with_blobs();
        f.assets[0].url = "javascript:alert(1)".into();
        refused(f, "absolute http(s)");
        let mut f = with_blobs();
        f.assets[0].url = "http://127.0.0.1/a.png#frag".into();
        refused(f, "without fragment");
        let mut f = with_blobs();
        f.assets[1].url = f.assets[0].url.clone();
        refused(f, "appears twice");
        let mut f = with_blobs();
        f.assets[0].hash = "0".repeat(64);
        refused(f, "holds no blob");
        // Every blob is used: by an asset or by an event.
        let mut f = with_blobs();
        f.assets.pop();
        refused(f, "used by no asset and no event");
        let mut f = with_blobs();
        f.events.truncate(1);
        f.session.event_count = 1;
        refused(f, "used by no asset and no event");
        // Pictures are there, and are pictures.
        let mut f = with_blobs();
        f.blobs.pop();
        refused(f, "does not hold");
        let mut f = with_blobs();
        if let EventData::CanvasFrame { hash: h, .. } = &mut f.events[1].data {
            *h = hash(b"a{b:c}");
        }
        refused(f, "shown as a picture");
        let mut f = with_blobs();
        if let EventData::CanvasFrame { hash: h, .. } = &mut f.events[1].data {
            *h = "../x".into();
        }
        refused(f, "malformed hash");
        let unknown = with_blobs().to_json().replace("\"mime\":\"image/png\"", "\"mime\":\"image/png\",\"run\":1");
        assert!(matches!(SessionFile::parse(&unknown).unwrap_err(), ImportError::Invalid(_)));
        let mut loud = file();
        loud.events.push(Event { t: 11.0, page: 0, frame: 0, data: EventData::Media { target: 1, state: crate::core::event::MediaState { paused: true, time: 0.0, rate: 1.0, muted: false, volume: 7.0 } } });
        loud.session.event_count = 2;
        refused(loud, "volume");
    }
}
