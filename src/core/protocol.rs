//! The messages between the extension's contexts.
//!
//! [`Request`] is the automation contract of the service worker (README, "Automation contract"):
//! the popup and the tests send the same messages. [`CaptureMessage`] and [`WorkerMessage`] travel
//! on the port between a recording page's content script and the service worker.

use serde::{Deserialize, Serialize};

/// A command sent to the service worker with `chrome.runtime.sendMessage`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Request {
    /// Start recording a tab.
    Start {
        /// The tab.
        tab_id: i64,
    },
    /// Stop recording a tab.
    Stop {
        /// The tab.
        tab_id: i64,
    },
    /// Whether a tab is recording.
    Status {
        /// The tab.
        tab_id: i64,
    },
    /// All stored sessions.
    List,
    /// One session as a session file.
    Export {
        /// Session id.
        id: String,
        /// Only "json".
        #[serde(default)]
        format: Option<String>,
        /// Which part, when the file is larger than one message.
        #[serde(default)]
        part: Option<u32>,
    },
    /// Store a session file.
    Import {
        /// The file's text.
        data: String,
    },
    /// Delete a session.
    Delete {
        /// Session id.
        id: String,
    },
    /// Sent by the loader content script when a document starts in a tab.
    PageStart,
    /// Sent by the wasm build of the capture when its document turns out not to allow wasm (a
    /// `<meta>` policy): inject the wasm2js build instead.
    CaptureFallback,
}

/// Sent by the capture content script on its port.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaptureMessage {
    /// The capture connected (or reconnected after the worker restarted).
    Hello {
        /// The session it was recording, if it had started.
        session: Option<String>,
        /// Its page index, if it had started.
        page: Option<u32>,
        /// In a frame: its position in its parent's `window.frames` (which the parent's
        /// recorder maps to its `<iframe>` element), when it could tell.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<u32>,
    },
    /// A batch of events. The events themselves, a JSON array as UTF-8 bytes, travel beside
    /// these fields in the message's [`EVENTS_FIELD`] (a `Uint8Array`: the extension's messages
    /// are structured clones, so bytes cross as bytes, where a string would be copied and
    /// re-encoded on the page's main thread).
    Events {
        /// Session id.
        session: String,
        /// Number of events in the batch.
        count: u32,
        /// Time of the last event (epoch ms).
        last_t: f64,
    },
    /// A new picture of a canvas or video: the worker stores the bytes once per content hash
    /// and records a `canvas_frame` event that refers to them.
    Frame {
        /// Session id.
        session: String,
        /// The page it belongs to.
        page: u32,
        /// When it was taken (epoch ms).
        t: f64,
        /// The canvas or video element.
        target: u32,
        /// Its size in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
        /// The image's MIME type (one of `core::blob::PICTURE_MIMES`).
        mime: String,
        /// The image's bytes, base64 (the cheapest encoding a port's JSON carries: measured in
        /// the README).
        data: String,
    },
    /// The capture stopped after a `Stop`; every batch was sent before this.
    Stopped {
        /// Session id.
        session: String,
    },
}

/// The field of an `events` message that holds its events (see [`CaptureMessage::Events`]).
pub const EVENTS_FIELD: &str = "events";

/// Sent by the service worker to a capture port.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerMessage {
    /// Record this tab as `page` of `session`.
    Record {
        /// Session id.
        session: String,
        /// Page index in the session.
        page: u32,
    },
    /// Flush, stop and answer `Stopped`.
    Stop,
    /// To a parent frame's recorder: its `window.frames[index]` is recorded as frame `frame`.
    ChildFrame {
        /// The child's frame id.
        frame: u32,
        /// The child's position in the parent's `window.frames`.
        index: u32,
    },
}

/// Largest part of an export sent in one message (characters); Chrome refuses messages past 64 MiB.
pub const EXPORT_PART_CHARS: usize = 16 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_use_the_documented_shape() {
        let r: Request = serde_json::from_str(r#"{"cmd":"start","tabId":12}"#).unwrap();
        assert_eq!(r, Request::Start { tab_id: 12 });
        let r: Request = serde_json::from_str(r#"{"cmd":"export","id":"s-1","format":"json"}"#).unwrap();
        assert_eq!(r, Request::Export { id: "s-1".into(), format: Some("json".into()), part: None });
        let r: Request = serde_json::from_str(r#"{"cmd":"list"}"#).unwrap();
        assert_eq!(r, Request::List);
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"format_disk"}"#).is_err());
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"start"}"#).is_err());
    }

    #[test]
    fn port_messages_round_trip() {
        let m = CaptureMessage::Events { session: "s".into(), count: 2, last_t: 5.5 };
        let back: CaptureMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        // The capture builds this message by hand (shell::capture::events_message), and the
        // worker takes the events' bytes out of it before reading the rest: its shape then.
        let hand: CaptureMessage = serde_json::from_str(r#"{"type":"events","session":"s","count":2,"last_t":5.5}"#).unwrap();
        assert_eq!(hand, m);
        let w: WorkerMessage = serde_json::from_str(r#"{"type":"record","session":"s","page":3}"#).unwrap();
        assert_eq!(w, WorkerMessage::Record { session: "s".into(), page: 3 });
        let w: WorkerMessage = serde_json::from_str(r#"{"type":"child_frame","frame":9,"index":1}"#).unwrap();
        assert_eq!(w, WorkerMessage::ChildFrame { frame: 9, index: 1 });
        // A top-level recorder's hello has no index, a frame's has one.
        let hello: CaptureMessage = serde_json::from_str(r#"{"type":"hello","session":null,"page":null}"#).unwrap();
        assert_eq!(hello, CaptureMessage::Hello { session: None, page: None, index: None });
        assert_eq!(serde_json::to_string(&CaptureMessage::Hello { session: None, page: None, index: Some(2) }).unwrap(), r#"{"type":"hello","session":null,"page":null,"index":2}"#);
    }
}
