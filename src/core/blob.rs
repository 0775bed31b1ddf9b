//! Content-addressed bytes: what a recording holds besides its events (canvas and video frames),
//! named by the SHA-256 of their bytes so the same picture recorded twice is stored once, and a
//! replay needs nothing from the recorded site.
//!
//! Events refer to a blob by its [`BlobHash`] (64 lowercase hex digits). The session file carries
//! each blob once, as [`BlobEntry`] (`{hash, mime, data}` with the bytes in base64); reading a
//! file checks every entry against its hash and MIME type ([`check_entry`]).

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The SHA-256 of a blob's bytes, as 64 lowercase hex digits.
pub type BlobHash = String;

/// MIME types a recording may hold as blobs (the images the recorder makes).
pub const BLOB_MIMES: &[&str] = &["image/webp", "image/png"];

/// Largest blob accepted from a page or a file (a 16k × 16k canvas compresses far below this).
pub const MAX_BLOB_BYTES: usize = 64 * 1024 * 1024;

/// The hash of `bytes`.
pub fn hash(bytes: &[u8]) -> BlobHash {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from_digit((b >> 4) as u32, 16).expect("a nibble"));
        hex.push(char::from_digit((b & 15) as u32, 16).expect("a nibble"));
    }
    hex
}

/// Whether `s` has the form of a [`BlobHash`].
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Bytes as base64 (standard alphabet, padded).
pub fn to_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Bytes from base64, with what was wrong when it is not.
pub fn from_base64(text: &str) -> Result<Vec<u8>, String> {
    if text.len() / 4 * 3 > MAX_BLOB_BYTES + 3 {
        return Err(format!("more than {MAX_BLOB_BYTES} bytes"));
    }
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("bad base64: {e}"))
}

/// One blob in a session file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlobEntry {
    /// SHA-256 of the bytes.
    pub hash: BlobHash,
    /// One of [`BLOB_MIMES`].
    pub mime: String,
    /// The bytes, base64.
    pub data: String,
}

impl BlobEntry {
    /// An entry for `bytes`.
    pub fn new(mime: &str, bytes: &[u8]) -> BlobEntry {
        BlobEntry { hash: hash(bytes), mime: mime.to_string(), data: to_base64(bytes) }
    }
}

/// Checks an entry read from a file and returns its bytes: the MIME type is one a recording
/// makes, the data is base64 and hashes to the entry's hash.
pub fn check_entry(entry: &BlobEntry) -> Result<Vec<u8>, String> {
    if !is_hash(&entry.hash) {
        return Err(format!("blob hash {:?} is not 64 lowercase hex digits", truncate(&entry.hash)));
    }
    if !BLOB_MIMES.contains(&entry.mime.as_str()) {
        return Err(format!("blob {} has MIME type {:?}; allowed: {}", entry.hash, truncate(&entry.mime), BLOB_MIMES.join(", ")));
    }
    let bytes = from_base64(&entry.data).map_err(|e| format!("blob {}: {e}", entry.hash))?;
    let actual = hash(&bytes);
    if actual != entry.hash {
        return Err(format!("blob {} does not match its content (its bytes hash to {actual})", entry.hash));
    }
    Ok(bytes)
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(hash(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(is_hash(&hash(b"")));
        assert!(!is_hash("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
        assert!(!is_hash("../x"));
    }

    #[test]
    fn entries_round_trip_and_tampering_is_refused() {
        let bytes = vec![0u8, 1, 2, 255, 254, 42];
        let entry = BlobEntry::new("image/png", &bytes);
        assert_eq!(check_entry(&entry).unwrap(), bytes);
        let mut other = entry.clone();
        other.data = to_base64(b"something else");
        assert!(check_entry(&other).unwrap_err().contains("does not match its content"));
        let mut mime = entry.clone();
        mime.mime = "text/html".into();
        assert!(check_entry(&mime).unwrap_err().contains("MIME"));
        let mut junk = entry.clone();
        junk.data = "%%%".into();
        assert!(check_entry(&junk).unwrap_err().contains("base64"));
        let mut name = entry;
        name.hash = "x".repeat(64);
        assert!(check_entry(&name).unwrap_err().contains("hex"));
    }
}
