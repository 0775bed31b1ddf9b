//! How events are stored: a chunk is a batch of events as compact JSON, zlib-compressed (or, once
//! a recording is over, brotli-compressed: see [`Effort::Archive`]).
//!
//! The service worker encodes each batch as it arrives (so storage is at most one batch behind
//! the page), and when a recording ends it merges the session's chunks into a few large ones,
//! which compress far better than many small ones. The exporter and player decode them.
//! zlib's checksum turns a corrupted chunk into an error instead of garbage.
//!
//! "Compact" is the session file's JSON with the numbers that dominate it made small and
//! repetitive, which deflate then codes in a few bits each: each inserted node's id is stored as
//! the difference from the previous inserted node's id *in the chunk* (usually 1, also across
//! events: ids are handed out in order), each parent as the difference between the node's id and
//! its parent's, each removed node's id as the difference from the last inserted id (a node that
//! comes and goes is usually the newest), and each event's time as the difference from the
//! previous event's. Differences wrap (ids are u32), so every id survives exactly, and time
//! differences of nearby epoch times are exact in f64. On a 50,000-element page the first form
//! made the stored bytes 2.4× smaller than zlib over the plain JSON; carrying the id difference
//! across events and coding removals made a recording of scripted interactions (a mutation per
//! mouse move) 30 % smaller again. Chunks of the first form (`c`, `b`: node-id differences
//! restarting in every node list, removals as they are) and older plain zlib chunks are still
//! read.

use std::fmt;
use std::io::{Read, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use crate::core::event::{Event, EventData, NodeId, SerializedNode};

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

/// The first byte of a compact chunk (a plain zlib stream starts with 0x78).
const COMPACT: u8 = b'C';

/// The first byte of a compact chunk compressed with brotli instead of zlib.
const COMPACT_BROTLI: u8 = b'B';

/// The first bytes of chunks of the first compact form, zlib and brotli (read, no longer written).
const COMPACT_V1: u8 = b'c';
const COMPACT_V1_BROTLI: u8 = b'b';

/// Which compact form a chunk holds.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    /// Node-id differences restart in every node list; removals are not coded.
    V1,
    /// Node-id differences run through the chunk; removals are coded against the last new id.
    V2,
}

/// How hard to compress: a batch as it arrives, small chunks merged while a recording goes on,
/// or the chunks of a finished (or imported) recording, merged once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effort {
    /// Fast, for batches arriving while recording (zlib 6).
    Live,
    /// For merges during a recording, which recur (zlib 9).
    Merge,
    /// Smallest, for chunks merged once: brotli, whose large window and context modelling make
    /// recordings about a third smaller than zlib 9 does. Its best quality costs about 2.5 s per
    /// MB of JSON (natively), so the quality steps down for larger chunks: a stop must not wait
    /// minutes for a big recording.
    Archive,
}

/// Brotli quality for `raw` bytes of JSON: the best for up to 1 MB, then cheaper ones.
fn brotli_quality(raw: usize) -> u32 {
    match raw {
        0..=1_048_576 => 11,
        0..=4_194_304 => 10,
        _ => 9,
    }
}

/// Encodes a batch of events as a compact chunk.
pub fn encode(events: &[Event], effort: Effort) -> Vec<u8> {
    let mut compact = events.to_vec();
    to_compact(&mut compact, Form::V2);
    let json = serde_json::to_string(&compact).expect("events serialise");
    let level = match effort {
        Effort::Live => 6,
        Effort::Merge => 9,
        Effort::Archive => {
            // Brotli has no checksum: the text's CRC-32 follows, so corruption is an error, as
            // zlib's Adler-32 makes it for the other chunks.
            let mut out = vec![COMPACT_BROTLI];
            let params = brotli::enc::BrotliEncoderParams {
                quality: brotli_quality(json.len()) as i32,
                lgwin: 22,
                size_hint: json.len(),
                ..Default::default()
            };
            brotli::BrotliCompress(&mut json.as_bytes(), &mut out, &params).expect("writing to a Vec cannot fail");
            out.extend_from_slice(&crc32(json.as_bytes()).to_be_bytes());
            return out;
        }
    };
    let mut out = Vec::with_capacity(json.len() / 6 + 64);
    out.push(COMPACT);
    let mut enc = ZlibEncoder::new(out, Compression::new(level));
    enc.write_all(json.as_bytes()).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// Encodes the JSON text of a batch as the recorder sends it.
pub fn encode_json(json: &str) -> Result<Vec<u8>, ChunkError> {
    let events: Vec<Event> = serde_json::from_str(json).map_err(|e| ChunkError::BadEvents(e.to_string()))?;
    Ok(encode(&events, Effort::Live))
}

/// Which consecutive chunks to merge, given their stored sizes in order: runs of chunks smaller
/// than `eligible_below` bytes (every chunk when `None`), cut into groups of about `group_bytes`.
/// Only groups of two or more are returned (merging one chunk gains nothing). A chunk too large
/// to be eligible ends a run, so merged chunks always hold consecutive events.
pub fn merge_groups(sizes: &[usize], group_bytes: usize, eligible_below: Option<usize>) -> Vec<Vec<usize>> {
    groups(sizes, group_bytes, eligible_below, |_| false)
}

/// Which consecutive chunks of a finished recording to re-encode with [`Effort::Archive`]: every
/// chunk, in groups of about `group_bytes`, except a chunk that is archived already and would be
/// alone in its group. A lone chunk that is not (a recording whose chunks were all merged while
/// it went on) is re-encoded by itself.
pub fn archive_groups(chunks: &[&[u8]], group_bytes: usize) -> Vec<Vec<usize>> {
    let sizes: Vec<usize> = chunks.iter().map(|c| c.len()).collect();
    groups(&sizes, group_bytes, None, |i| !is_archived(chunks[i]))
}

/// Whether a stored chunk is compressed for keeps ([`Effort::Archive`]).
pub fn is_archived(chunk: &[u8]) -> bool {
    matches!(chunk.first(), Some(&(COMPACT_BROTLI | COMPACT_V1_BROTLI)))
}

fn groups(sizes: &[usize], group_bytes: usize, eligible_below: Option<usize>, keep_alone: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_bytes = 0usize;
    let close = |current: &mut Vec<usize>, groups: &mut Vec<Vec<usize>>| {
        if current.len() > 1 || current.first().is_some_and(|&i| keep_alone(i)) {
            groups.push(std::mem::take(current));
        } else {
            current.clear();
        }
    };
    for (i, &size) in sizes.iter().enumerate() {
        if eligible_below.is_some_and(|limit| size >= limit) {
            close(&mut current, &mut groups);
            current_bytes = 0;
            continue;
        }
        if !current.is_empty() && current_bytes + size > group_bytes {
            close(&mut current, &mut groups);
            current_bytes = 0;
        }
        current.push(i);
        current_bytes += size;
    }
    close(&mut current, &mut groups);
    groups
}

/// Inflates zlib bytes, refusing more than [`MAX_CHUNK_BYTES`].
fn inflate(bytes: &[u8]) -> Result<String, ChunkError> {
    read_bounded(ZlibDecoder::new(bytes))
}

/// Decompresses brotli bytes followed by the text's CRC-32, checking it.
fn unbrotli(bytes: &[u8]) -> Result<String, ChunkError> {
    let Some(split) = bytes.len().checked_sub(4) else { return Err(ChunkError::Corrupt("too short".into())) };
    let (body, sum) = bytes.split_at(split);
    let text = read_bounded(brotli::Decompressor::new(body, 64 * 1024))?;
    if crc32(text.as_bytes()).to_be_bytes() != sum {
        return Err(ChunkError::Corrupt("checksum mismatch".into()));
    }
    Ok(text)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// Reads a decompressor to the end as text, refusing more than [`MAX_CHUNK_BYTES`].
fn read_bounded(reader: impl Read) -> Result<String, ChunkError> {
    let mut out = Vec::new();
    reader.take(MAX_CHUNK_BYTES + 1).read_to_end(&mut out).map_err(|e| ChunkError::Corrupt(e.to_string()))?;
    if out.len() as u64 > MAX_CHUNK_BYTES {
        return Err(ChunkError::TooLarge);
    }
    String::from_utf8(out).map_err(|e| ChunkError::Corrupt(e.to_string()))
}

/// Decodes a chunk, compact or plain.
pub fn decode(bytes: &[u8]) -> Result<Vec<Event>, ChunkError> {
    match bytes.first() {
        Some(&tag @ (COMPACT | COMPACT_BROTLI | COMPACT_V1 | COMPACT_V1_BROTLI)) => {
            let text = if matches!(tag, COMPACT | COMPACT_V1) { inflate(&bytes[1..])? } else { unbrotli(&bytes[1..])? };
            let mut events: Vec<Event> = serde_json::from_str(&text).map_err(|e| ChunkError::BadEvents(e.to_string()))?;
            from_compact(&mut events, if matches!(tag, COMPACT | COMPACT_BROTLI) { Form::V2 } else { Form::V1 });
            Ok(events)
        }
        _ => {
            let text = inflate(bytes)?;
            serde_json::from_str(&text).map_err(|e| ChunkError::BadEvents(e.to_string()))
        }
    }
}

/// The node lists of an event.
fn node_lists(event: &mut Event) -> Vec<&mut Vec<SerializedNode>> {
    match &mut event.data {
        EventData::Snapshot(s) => vec![&mut s.nodes],
        EventData::Mutation(m) => m.adds.iter_mut().map(|a| &mut a.nodes).collect(),
        _ => Vec::new(),
    }
}

/// The removed nodes of an event.
fn removals(event: &mut Event) -> &mut [crate::core::event::Removal] {
    match &mut event.data {
        EventData::Mutation(m) => &mut m.removes,
        _ => &mut [],
    }
}

fn to_compact(events: &mut [Event], form: Form) {
    let mut last_t = 0.0;
    let mut prev: NodeId = 0;
    for event in events {
        let t = event.t;
        event.t = t - last_t;
        last_t = t;
        if form == Form::V2 {
            // Removals are applied before the event's insertions: coded against the ids so far.
            for r in removals(event) {
                r.id = prev.wrapping_sub(r.id);
            }
        }
        for nodes in node_lists(event) {
            if form == Form::V1 {
                prev = 0;
            }
            for n in nodes.iter_mut() {
                let id = n.id;
                n.id = id.wrapping_sub(prev);
                n.parent = n.parent.map(|p| id.wrapping_sub(p));
                prev = id;
            }
        }
    }
}

fn from_compact(events: &mut [Event], form: Form) {
    let mut last_t = 0.0;
    let mut prev: NodeId = 0;
    for event in events {
        event.t += last_t;
        last_t = event.t;
        if form == Form::V2 {
            for r in removals(event) {
                r.id = prev.wrapping_sub(r.id);
            }
        }
        for nodes in node_lists(event) {
            if form == Form::V1 {
                prev = 0;
            }
            for n in nodes.iter_mut() {
                let id = prev.wrapping_add(n.id);
                n.id = id;
                n.parent = n.parent.map(|d| id.wrapping_sub(d));
                prev = id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_groups_take_every_chunk_and_leave_only_lone_archived_ones() {
        let live = encode(&sample(), Effort::Live);
        let merged = encode(&sample(), Effort::Merge);
        let archived = encode(&sample(), Effort::Archive);
        assert!(!is_archived(&live) && !is_archived(&merged) && is_archived(&archived));
        // One chunk merged while recording: re-encoded alone. Already archived alone: left.
        assert_eq!(archive_groups(&[&merged], 1 << 20), vec![vec![0]]);
        assert_eq!(archive_groups(&[&archived], 1 << 20), Vec::<Vec<usize>>::new());
        // Archived chunks still join a group with others; groups stay consecutive and bounded.
        assert_eq!(archive_groups(&[&archived, &live, &merged], 1 << 20), vec![vec![0, 1, 2]]);
        let (a, l) = (archived.len(), live.len());
        assert_eq!(archive_groups(&[&live, &archived, &live], a.max(l) + 1), vec![vec![0], vec![2]]);
        assert_eq!(archive_groups(&[], 1000), Vec::<Vec<usize>>::new());
    }

    #[test]
    fn merge_groups_takes_runs_of_small_chunks_in_bounded_groups() {
        // Everything eligible: consecutive groups of at most 100 bytes (a group always takes one).
        assert_eq!(merge_groups(&[40, 40, 40, 40, 150, 10], 100, None), vec![vec![0, 1], vec![2, 3]]);
        // Large chunks are left alone and split runs; a lone small chunk is not rewritten.
        assert_eq!(merge_groups(&[10, 10, 500, 10, 600, 10, 10, 10], 1000, Some(100)), vec![vec![0, 1], vec![5, 6, 7]]);
        assert_eq!(merge_groups(&[500, 10], 1000, Some(100)), Vec::<Vec<usize>>::new());
        assert_eq!(merge_groups(&[], 1000, None), Vec::<Vec<usize>>::new());
        // Every index appears at most once, in order.
        let sizes: Vec<usize> = (0..200).map(|i| (i * 37) % 120).collect();
        let flat: Vec<usize> = merge_groups(&sizes, 300, Some(100)).concat();
        assert!(flat.windows(2).all(|w| w[0] < w[1]));
        assert!(flat.iter().all(|&i| sizes[i] < 100));
    }
    use crate::core::event::{Addition, ElementNode, MutationBatch, NodeKind, Removal, Snapshot};

    fn node(id: NodeId, parent: Option<NodeId>) -> SerializedNode {
        let kind = NodeKind::Element(ElementNode { tag: "div".into(), ns: None, attrs: vec![], form: None, css: None });
        SerializedNode { id, parent, kind }
    }

    fn sample() -> Vec<Event> {
        let t0 = 1_795_383_823_321.5;
        let nodes: Vec<SerializedNode> = (1..2000).map(|i| node(i, if i == 1 { None } else { Some(i / 2) })).collect();
        let snapshot = Snapshot { url: "u".into(), title: "t".into(), width: 800, height: 600, nodes, scrolls: vec![], focus: None };
        let mut events = vec![Event { t: t0, page: 0, frame: 0, data: EventData::Snapshot(snapshot) }];
        // A moved subtree keeps old ids: ids that go down, parents after their children's ids.
        let moved = vec![node(1500, None), node(7, Some(1500)), node(u32::MAX, Some(7))];
        events.push(Event { t: t0 + 0.3, page: 0, frame: 0, data: EventData::Mutation(MutationBatch { adds: vec![Addition { parent: 3, before: Some(9), nodes: moved }], ..Default::default() }) });
        events.extend((0..500).map(|i| Event { t: t0 + 1.0 + i as f64 * 16.7, page: 0, frame: 0, data: EventData::PointerMove { x: i as f64, y: 1.0 } }));
        // Removals of new and old nodes (ids above and below the newest, the largest id), with
        // insertions after them in the same event.
        for (i, removed) in [(0, 2000), (1, 5), (2, u32::MAX), (3, 0), (4, 2003)].into_iter() {
            let removes = vec![Removal { parent: 3, id: removed }, Removal { parent: 4, id: 1999 - i }];
            let adds = vec![Addition { parent: 3, before: None, nodes: vec![node(2000 + i, None), node(2100 + i, Some(2000 + i))] }];
            events.push(Event { t: t0 + 9000.0 + i as f64, page: 0, frame: 0, data: EventData::Mutation(MutationBatch { removes, adds, ..Default::default() }) });
        }
        events
    }

    /// A page that replaces a text on every mouse move: a removal and an insertion per event.
    fn ticker() -> Vec<Event> {
        let t0 = 1_795_383_823_321.0;
        (0..3000u32)
            .map(|i| {
                let id = 5000 + i;
                let text = SerializedNode { id, parent: None, kind: NodeKind::Text { text: format!("{},{}", (i * 37) % 1200, (i * 91) % 700) } };
                let batch = MutationBatch { removes: vec![Removal { parent: 16, id: id - 1 }], adds: vec![Addition { parent: 16, before: None, nodes: vec![text] }], ..Default::default() };
                Event { t: t0 + (i * 16) as f64 + (i % 3) as f64, page: 1, frame: 0, data: EventData::Mutation(batch) }
            })
            .collect()
    }

    /// A chunk of the first compact form, as written before removals and ids across events were
    /// coded.
    fn v1_chunk(events: &[Event], brotli: bool) -> Vec<u8> {
        let mut compact = events.to_vec();
        to_compact(&mut compact, Form::V1);
        let json = serde_json::to_string(&compact).unwrap();
        if brotli {
            let mut out = vec![COMPACT_V1_BROTLI];
            brotli::BrotliCompress(&mut json.as_bytes(), &mut out, &brotli::enc::BrotliEncoderParams { quality: 9, ..Default::default() }).unwrap();
            out.extend_from_slice(&crc32(json.as_bytes()).to_be_bytes());
            out
        } else {
            let mut enc = ZlibEncoder::new(vec![COMPACT_V1], Compression::new(6));
            enc.write_all(json.as_bytes()).unwrap();
            enc.finish().unwrap()
        }
    }

    #[test]
    fn chunks_of_the_first_compact_form_are_still_read() {
        for events in [sample(), ticker()] {
            assert_eq!(decode(&v1_chunk(&events, false)).unwrap(), events);
            assert_eq!(decode(&v1_chunk(&events, true)).unwrap(), events);
        }
    }

    #[test]
    fn ids_coded_across_events_shrink_a_mutation_per_event() {
        let events = ticker();
        assert_eq!(decode(&encode(&events, Effort::Archive)).unwrap(), events);
        assert_eq!(decode(&encode(&events, Effort::Live)).unwrap(), events);
        let (now, before) = (encode(&events, Effort::Live).len(), v1_chunk(&events, false).len());
        assert!(now * 4 < before * 3, "zlib 6: {now} bytes now vs {before} in the first compact form");
    }

    #[test]
    fn compact_chunks_round_trip_exactly() {
        let events = sample();
        assert_eq!(decode(&encode(&events, Effort::Live)).unwrap(), events);
        assert_eq!(decode(&encode(&events, Effort::Archive)).unwrap(), events);
        let json = serde_json::to_string(&events).unwrap();
        assert_eq!(decode(&encode_json(&json).unwrap()).unwrap(), events);
    }

    #[test]
    fn compact_chunks_are_much_smaller_than_zlib_over_plain_json() {
        let events = sample();
        let json = serde_json::to_string(&events).unwrap();
        let plain = legacy(&json);
        let compact = encode(&events, Effort::Archive);
        assert!(compact.len() * 2 < plain.len(), "compact {} vs plain {}", compact.len(), plain.len());
    }

    /// A chunk as stored before the compact encoding.
    fn legacy(json: &str) -> Vec<u8> {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::new(6));
        enc.write_all(json.as_bytes()).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn archived_chunks_are_smaller_than_merged_ones_and_checked() {
        let events = sample();
        assert_eq!(decode(&encode(&events, Effort::Merge)).unwrap(), events);
        let archived = encode(&events, Effort::Archive);
        let merged = encode(&events, Effort::Merge);
        assert_eq!(archived[0], COMPACT_BROTLI);
        assert!(archived.len() < merged.len(), "brotli {} vs zlib 9 {}", archived.len(), merged.len());
        // Cut short, a flipped byte, or a wrong checksum: errors, never other events.
        assert!(decode(&archived[..archived.len() / 2]).is_err());
        assert!(decode(&archived[..3]).is_err());
        for at in [5, archived.len() / 2, archived.len() - 2] {
            let mut bad = archived.clone();
            bad[at] ^= 0x21;
            assert!(decode(&bad).is_err(), "flipped byte {at} decoded");
        }
    }

    #[test]
    fn chunks_stored_before_the_compact_encoding_are_still_read() {
        let events = sample();
        assert_eq!(decode(&legacy(&serde_json::to_string(&events).unwrap())).unwrap(), events);
    }

    #[test]
    fn corrupt_and_truncated_chunks_are_errors() {
        let bytes = encode(&[], Effort::Live);
        assert!(matches!(decode(&bytes[..bytes.len() - 3]), Err(ChunkError::Corrupt(_))));
        let mut flipped = encode(&sample(), Effort::Live);
        let n = flipped.len();
        flipped[n - 6] ^= 0x55;
        assert!(decode(&flipped).is_err());
        assert!(matches!(decode(&legacy("{\"not\":\"events\"}")), Err(ChunkError::BadEvents(_))));
        assert!(matches!(encode_json("[{\"t\":1}]"), Err(ChunkError::BadEvents(_))));
        assert!(decode(&[]).is_err());
    }
}
