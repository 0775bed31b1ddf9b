//! Hash maps and sets keyed by node ids, with a cheap 32-bit hasher.
//!
//! The standard hasher (SipHash) is built on 64-bit arithmetic, which the capture's wasm2js
//! lowering emulates with several 32-bit operations each: it showed up as a top entry in CPU
//! profiles of the page while a snapshot was taken. Node ids are small trusted integers, so a
//! multiplicative hash (as in Firefox's and rustc's FxHash) does the job in a few 32-bit steps.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A multiplicative hasher over 32-bit words.
#[derive(Clone, Copy, Default)]
pub struct IdHasher(u32);

impl IdHasher {
    #[inline]
    fn add(&mut self, word: u32) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9E37_79B9);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(4);
        for c in &mut chunks {
            self.add(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        }
        for &b in chunks.remainder() {
            self.add(b as u32);
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(n as u32);
    }
    fn write_u32(&mut self, n: u32) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u32);
        if usize::BITS > 32 {
            self.add((n as u64 >> 32) as u32);
        }
    }
    fn finish(&self) -> u64 {
        // Tables take their control bits from the top of the (pointer-sized) hash: fill both halves.
        let h = self.0 as u64;
        h << 32 | h
    }
}

/// The hasher's builder.
pub type BuildIdHasher = BuildHasherDefault<IdHasher>;
/// A map keyed by node ids (or other small keys).
pub type IdMap<K, V> = HashMap<K, V, BuildIdHasher>;
/// A set of node ids.
pub type IdSet<K> = HashSet<K, BuildIdHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_sets_work_with_ids_and_pairs() {
        let mut set: IdSet<u32> = IdSet::default();
        for i in 0..10_000 {
            assert!(set.insert(i * 7));
        }
        assert!(set.contains(&(9_999 * 7)) && !set.contains(&1));
        let mut map: IdMap<(u32, String), u32> = IdMap::default();
        map.insert((1, "class".into()), 1);
        map.insert((1, "style".into()), 2);
        assert_eq!(map.get(&(1, "style".to_string())), Some(&2));
        assert_eq!(map.len(), 2);
    }
}
