//! The session file: what export writes and import reads. Documented in `docs/session-format.md`.
//!
//! A file is one JSON object: `format` ("tabreel-session"), `version` (1), `session` (the
//! session's metadata) and `events` (every event, in order). Reading is strict and explains
//! itself: a file that is not JSON, truncated, of another format or version, or inconsistent
//! gets an [`ImportError`] naming the problem, and nothing is stored.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::blob::{check_entry, is_hash, BlobEntry};
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
    /// The blobs the events refer to (canvas and video frames), each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<BlobEntry>,
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
        SessionFile { format: FORMAT.into(), version: VERSION, session, events, blobs: Vec::new() }
    }

    /// The hashes of the blobs the events refer to, each once, in order of first use.
    pub fn referenced_blobs(events: &[Event]) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
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

    /// The blobs' bytes, checked (see [`check_entry`]), with their hashes and MIME types.
    pub fn blob_bytes(&self) -> Result<Vec<(String, String, Vec<u8>)>, ImportError> {
        self.blobs.iter().map(|b| Ok((b.hash.clone(), b.mime.clone(), check_entry(b).map_err(ImportError::Invalid)?))).collect()
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
        if !self.events.is_empty() && !self.events.iter().any(|e| matches!(e.data, EventData::Snapshot(_))) {
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
        let mut held = std::collections::HashSet::new();
        for b in &self.blobs {
            check_entry(b).map_err(ImportError::Invalid)?;
            if !held.insert(b.hash.as_str()) {
                return Err(ImportError::Invalid(format!("blob {} appears twice", b.hash)));
            }
        }
        let referenced = Self::referenced_blobs(&self.events);
        if let Some(missing) = referenced.iter().find(|h| !held.contains(h.as_str())) {
            return Err(ImportError::Invalid(format!("an event refers to blob {missing}, which the file does not hold")));
        }
        if held.len() > referenced.len() {
            return Err(ImportError::Invalid(format!("the file holds {} blobs that no event refers to", held.len() - referenced.len())));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{NodeKind, SerializedNode, Snapshot};

    fn file() -> SessionFile {
        let snap = Event {
            t: 10.0,
            page: 0,
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

    fn with_a_frame() -> SessionFile {
        let mut f = file();
        let entry = BlobEntry::new("image/webp", b"RIFF....WEBPVP8L pixels");
        f.events.push(Event { t: 12.0, page: 0, data: EventData::CanvasFrame { target: 1, hash: entry.hash.clone(), width: 2, height: 2 } });
        f.events.push(Event { t: 13.0, page: 0, data: EventData::CanvasFrame { target: 1, hash: entry.hash.clone(), width: 2, height: 2 } });
        f.session.event_count = 3;
        f.blobs.push(entry);
        f
    }

    #[test]
    fn files_with_blobs_round_trip() {
        let f = with_a_frame();
        let back = SessionFile::parse(&f.to_json()).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.blob_bytes().unwrap(), vec![(f.blobs[0].hash.clone(), "image/webp".to_string(), b"RIFF....WEBPVP8L pixels".to_vec())]);
        assert_eq!(SessionFile::referenced_blobs(&f.events), vec![f.blobs[0].hash.clone()]);
        assert!(!file().to_json().contains("blobs"), "no blobs, no field");
    }

    #[test]
    fn blobs_that_are_missing_tampered_or_spare_are_refused() {
        let mut missing = with_a_frame();
        missing.blobs.clear();
        assert!(SessionFile::parse(&missing.to_json()).unwrap_err().to_string().contains("does not hold"));
        let mut tampered = with_a_frame();
        tampered.blobs[0].data = crate::core::blob::to_base64(b"other pixels");
        assert!(SessionFile::parse(&tampered.to_json()).unwrap_err().to_string().contains("does not match its content"));
        let mut spare = with_a_frame();
        spare.blobs.push(BlobEntry::new("image/png", b"unused"));
        assert!(SessionFile::parse(&spare.to_json()).unwrap_err().to_string().contains("no event refers to"));
        let mut twice = with_a_frame();
        twice.blobs.push(twice.blobs[0].clone());
        assert!(SessionFile::parse(&twice.to_json()).unwrap_err().to_string().contains("twice"));
        let mut html = with_a_frame();
        html.blobs[0] = BlobEntry::new("text/html", b"RIFF....WEBPVP8L pixels");
        assert!(SessionFile::parse(&html.to_json()).unwrap_err().to_string().contains("MIME"));
        let bad_hash = with_a_frame().to_json().replace(&with_a_frame().blobs[0].hash, "../../x");
        assert!(matches!(SessionFile::parse(&bad_hash).unwrap_err(), ImportError::Invalid(_)));
        let mut loud = file();
        loud.events.push(Event { t: 11.0, page: 0, data: EventData::Media { target: 1, state: crate::core::event::MediaState { paused: true, time: 0.0, rate: 1.0, muted: false, volume: 7.0 } } });
        loud.session.event_count = 2;
        assert!(SessionFile::parse(&loud.to_json()).unwrap_err().to_string().contains("volume"));
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
}
