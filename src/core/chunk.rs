//! How events are stored: a chunk is a JSON array of events, zlib-compressed.
//!
//! The recorder sends events as JSON text; the service worker compresses each batch as it arrives
//! (so storage is at most one batch behind the page) and the exporter and player inflate them.
//! zlib's checksum turns a corrupted chunk into an error instead of garbage.

use std::fmt;
use std::io::{Read, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use crate::core::event::Event;

/// The most a single chunk may inflate to; larger means corruption or a decompression bomb.
pub const MAX_CHUNK_BYTES: u64 = 256 * 1024 * 1024;

/// Why a chunk could not be read back.
#[derive(Debug, PartialEq)]
pub enum ChunkError {
    /// The compressed bytes are corrupt or truncated.
    Corrupt(String),
    /// The chunk inflates past [`MAX_CHUNK_BYTES`].
    TooLarge,
    /// The inflated text is not a JSON array of events.
    BadEvents(String),
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::Corrupt(e) => write!(f, "stored chunk is corrupt: {e}"),
            ChunkError::TooLarge => write!(f, "stored chunk inflates past {MAX_CHUNK_BYTES} bytes"),
            ChunkError::BadEvents(e) => write!(f, "stored chunk does not hold events: {e}"),
        }
    }
}

impl std::error::Error for ChunkError {}

/// Compresses the JSON text of a batch of events.
pub fn compress(json: &str) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::with_capacity(json.len() / 4 + 64), Compression::new(6));
    enc.write_all(json.as_bytes()).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// Inflates a chunk back to its JSON text.
pub fn decompress(bytes: &[u8]) -> Result<String, ChunkError> {
    let mut out = Vec::new();
    ZlibDecoder::new(bytes)
        .take(MAX_CHUNK_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| ChunkError::Corrupt(e.to_string()))?;
    if out.len() as u64 > MAX_CHUNK_BYTES {
        return Err(ChunkError::TooLarge);
    }
    String::from_utf8(out).map_err(|e| ChunkError::Corrupt(e.to_string()))
}

/// Inflates and parses a chunk.
pub fn decode(bytes: &[u8]) -> Result<Vec<Event>, ChunkError> {
    let text = decompress(bytes)?;
    serde_json::from_str(&text).map_err(|e| ChunkError::BadEvents(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::EventData;

    #[test]
    fn chunks_round_trip_and_shrink() {
        let events: Vec<Event> = (0..500).map(|i| Event { t: i as f64, page: 0, data: EventData::PointerMove { x: i as f64, y: 1.0 } }).collect();
        let json = serde_json::to_string(&events).unwrap();
        let bytes = compress(&json);
        assert!(bytes.len() * 4 < json.len(), "{} vs {}", bytes.len(), json.len());
        assert_eq!(decode(&bytes).unwrap(), events);
    }

    #[test]
    fn corrupt_and_truncated_chunks_are_errors() {
        let bytes = compress("[]");
        assert!(matches!(decode(&bytes[..bytes.len() - 3]), Err(ChunkError::Corrupt(_))));
        let mut flipped = compress(r#"[{"t":1,"page":0,"data":{"kind":"focus","target":null}}]"#);
        let n = flipped.len();
        flipped[n - 6] ^= 0x55;
        assert!(decode(&flipped).is_err());
        assert!(matches!(decode(&compress("{\"not\":\"events\"}")), Err(ChunkError::BadEvents(_))));
    }
}
