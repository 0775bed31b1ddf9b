//! Content-addressed bytes: what a recording holds besides its events (the stylesheets, fonts and
//! images a page used, see [`crate::core::assets`]; canvas and video pictures, see the
//! `canvas_frame` event), named by the SHA-256 of their bytes so the same content recorded twice
//! is stored once, and a replay needs nothing from the recorded site.
//!
//! Events and assets refer to a blob by its [`BlobHash`] (64 lower-case hex digits). The session
//! file carries each blob once, as [`BlobEntry`] (`{hash, mime, data}` with the bytes in base64);
//! reading a file checks every entry against its hash and MIME type ([`check_entry`]).

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The SHA-256 of a blob's bytes, as 64 lower-case hex digits.
pub type BlobHash = String;

/// MIME types of recorded pictures (canvas and video frames; the recorder makes WebP).
pub const PICTURE_MIMES: &[&str] = &["image/webp", "image/png"];

/// Largest blob accepted from a page or a file (a 16k × 16k canvas compresses far below this;
/// the asset fetcher stores at most [`crate::core::assets::MAX_ASSET_BYTES`] per file).
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

/// `mime` (a `Content-Type` value) reduced to its type, when it is one a blob may have, that is
/// one the replay may give its frame: images, fonts, CSS, or opaque bytes (which images and fonts
/// are sniffed from). Anything else (HTML, scripts, XML documents) is refused.
pub fn replay_mime(mime: &str) -> Option<String> {
    let t = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (top, sub) = t.split_once('/')?;
    let token = |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-'));
    if !token(top) || !token(sub) {
        return None;
    }
    let ok = match top {
        "image" | "font" => true,
        "text" => sub == "css",
        "application" => matches!(sub, "octet-stream" | "font-woff" | "font-woff2" | "font-sfnt" | "vnd.ms-fontobject" | "x-font-woff" | "x-font-ttf" | "x-font-otf" | "x-font-truetype" | "x-font-opentype"),
        _ => false,
    };
    ok.then_some(t)
}

/// Bytes as base64 (standard alphabet, padded).
pub fn to_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Bytes from base64 (at most [`MAX_BLOB_BYTES`]), with what was wrong when they are not.
pub fn from_base64(text: &str) -> Result<Vec<u8>, String> {
    if text.len() > MAX_BLOB_BYTES.div_ceil(3) * 4 {
        return Err(format!("more than {MAX_BLOB_BYTES} bytes"));
    }
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("bad base64: {e}"))
}

/// One blob in a session file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobEntry {
    /// SHA-256 of the bytes.
    pub hash: BlobHash,
    /// A MIME type [`replay_mime`] accepts, without parameters.
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

/// Checks an entry read from a file and returns its bytes: the hash has its form, the MIME type
/// is one a blob may have (exactly as [`replay_mime`] spells it), the data is base64 of at most
/// [`MAX_BLOB_BYTES`] and hashes to the entry's hash.
pub fn check_entry(entry: &BlobEntry) -> Result<Vec<u8>, String> {
    if !is_hash(&entry.hash) {
        return Err(format!("blob hash {:?} is not 64 lower-case hex digits", truncate(&entry.hash)));
    }
    if replay_mime(&entry.mime).as_deref() != Some(entry.mime.as_str()) {
        return Err(format!("blob {} has MIME type {:?}, not one the replay uses (images, fonts, text/css)", entry.hash, truncate(&entry.mime)));
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
    fn mime_types_a_blob_may_have() {
        assert_eq!(replay_mime("Image/PNG; charset=x").as_deref(), Some("image/png"));
        assert_eq!(replay_mime("font/woff2").as_deref(), Some("font/woff2"));
        assert_eq!(replay_mime("text/css;charset=utf-8").as_deref(), Some("text/css"));
        assert_eq!(replay_mime("application/vnd.ms-fontobject").as_deref(), Some("application/vnd.ms-fontobject"));
        for m in PICTURE_MIMES {
            assert_eq!(replay_mime(m).as_deref(), Some(*m));
        }
        for bad in ["text/html", "application/javascript", "text/javascript", "application/xhtml+xml", "image", "image/", "image/png\"x", "", "*/*"] {
            assert_eq!(replay_mime(bad), None, "{bad}");
        }
    }

    #[test]
    fn entries_round_trip_and_tampering_is_refused() {
        let bytes = vec![0u8, 1, 2, 255, 254, 42];
        let entry = BlobEntry::new("image/png", &bytes);
        assert_eq!(check_entry(&entry).unwrap(), bytes);
        assert_eq!(check_entry(&BlobEntry::new("text/css", b"a{b:c}")).unwrap(), b"a{b:c}");
        let mut other = entry.clone();
        other.data = to_base64(b"something else");
        assert!(check_entry(&other).unwrap_err().contains("does not match its content"));
        let mut mime = entry.clone();
        mime.mime = "text/html".into();
        assert!(check_entry(&mime).unwrap_err().contains("MIME"));
        let mut spelled = entry.clone();
        spelled.mime = "Image/PNG".into();
        assert!(check_entry(&spelled).unwrap_err().contains("MIME"));
        let mut junk = entry.clone();
        junk.data = "%%%".into();
        assert!(check_entry(&junk).unwrap_err().contains("base64"));
        let mut huge = entry.clone();
        huge.data = "A".repeat(MAX_BLOB_BYTES / 3 * 4 + 8);
        assert!(check_entry(&huge).unwrap_err().contains("more than"));
        let mut name = entry;
        name.hash = "x".repeat(64);
        assert!(check_entry(&name).unwrap_err().contains("hex"));
    }
}
