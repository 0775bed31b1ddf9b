// Scores of a replay against the live page.
//
// Structural score: both documents are normalised with tests/e2e/dom-compare.mjs
// (`normalizeDocument` with shadow roots, same-origin frame documents, form state, element and
// document scroll offsets, effective <style>/adopted CSS rules and canvas pixel hashes): one line
// per node, indented by depth, holding the tag, sorted attributes and state. The score is
//     matched / max(live lines, replay lines)
// where `matched` is the length of the longest common subsequence of the two line lists (Myers'
// O((N+M)·D) algorithm). Because every line carries its depth, a match keeps the node's
// position in the tree; a node that differs in any attribute, text or state is unmatched. 1.000
// means the two normalised trees are identical.
//
// Pixel difference: the fraction of pixels that pixelmatch (threshold 0.1, anti-aliasing
// detection on) counts as different between the live viewport screenshot and the replay frame's
// screenshot. Images of different sizes are compared on the larger size, padding counting as
// different.
import fs from 'node:fs';
import { PNG } from 'pngjs';
import pixelmatch from 'pixelmatch';

/** Length of the longest common subsequence of two arrays of strings (Myers, forward pass). */
export function lcsLength(a, b, { maxD = 40_000 } = {}) {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const common = start + (a.length - endA);
  const A = a.slice(start, endA);
  const B = b.slice(start, endB);
  const N = A.length;
  const M = B.length;
  if (N === 0 || M === 0) return common;
  // Intern strings so the inner loop compares numbers.
  const ids = new Map();
  const intern = (s) => {
    let v = ids.get(s);
    if (v === undefined) ids.set(s, (v = ids.size));
    return v;
  };
  const x = Int32Array.from(A, intern);
  const y = Int32Array.from(B, intern);
  const max = Math.min(N + M, maxD);
  const off = max + 1;
  const V = new Int32Array(2 * max + 3);
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      let i;
      if (k === -d || (k !== d && V[off + k - 1] < V[off + k + 1])) i = V[off + k + 1];
      else i = V[off + k - 1] + 1;
      let j = i - k;
      while (i < N && j < M && x[i] === y[j]) {
        i++;
        j++;
      }
      V[off + k] = i;
      if (i >= N && j >= M) return common + (N + M - d) / 2;
    }
  }
  // Too different to finish: a lower bound (what is certainly common).
  return common;
}

/** { score, live, replay, matched } for two normalised texts. */
export function structuralScore(liveText, replayText) {
  const a = liveText.split('\n').filter((l) => l !== '');
  const b = replayText.split('\n').filter((l) => l !== '');
  const matched = lcsLength(a, b);
  const score = Math.max(a.length, b.length) === 0 ? 1 : matched / Math.max(a.length, b.length);
  return { score, live: a.length, replay: b.length, matched };
}

/**
 * Lines present on one side only (first `limit` of each), with their ancestors' tags, for reports.
 * A simple multiset difference: good enough to say which nodes differ.
 */
export function lineDifferences(liveText, replayText, limit = 12) {
  const count = (lines) => {
    const m = new Map();
    for (const l of lines) m.set(l, (m.get(l) || 0) + 1);
    return m;
  };
  const a = liveText.split('\n').filter(Boolean);
  const b = replayText.split('\n').filter(Boolean);
  const ca = count(a);
  const cb = count(b);
  const onlyLive = [];
  const onlyReplay = [];
  const seenA = new Map();
  for (const l of a) {
    const n = (seenA.get(l) || 0) + 1;
    seenA.set(l, n);
    if (n > (cb.get(l) || 0)) onlyLive.push(l.trim());
  }
  const seenB = new Map();
  for (const l of b) {
    const n = (seenB.get(l) || 0) + 1;
    seenB.set(l, n);
    if (n > (ca.get(l) || 0)) onlyReplay.push(l.trim());
  }
  return { onlyLive, onlyReplay, onlyLiveCount: onlyLive.length, onlyReplayCount: onlyReplay.length, limit };
}

function pad(png, width, height) {
  if (png.width === width && png.height === height) return png;
  const out = new PNG({ width, height });
  out.data.fill(0);
  PNG.bitblt(png, out, 0, 0, Math.min(png.width, width), Math.min(png.height, height), 0, 0);
  return out;
}

/**
 * Fraction of differing pixels between two PNG buffers; writes a diff PNG (and both inputs side
 * by side with it) to `diffPath` when given. Returns { ratio, diffPixels, width, height, sameSize }.
 */
export function pixelDifference(liveBuf, replayBuf, { diffPath, threshold = 0.1 } = {}) {
  const a0 = PNG.sync.read(liveBuf);
  const b0 = PNG.sync.read(replayBuf);
  const width = Math.max(a0.width, b0.width);
  const height = Math.max(a0.height, b0.height);
  const a = pad(a0, width, height);
  const b = pad(b0, width, height);
  const diff = new PNG({ width, height });
  let diffPixels = pixelmatch(a.data, b.data, diff.data, width, height, { threshold });
  // Padding is different by definition (pixelmatch sees two transparent blacks as equal).
  const padded = width * height - Math.min(a0.width, b0.width) * Math.min(a0.height, b0.height);
  diffPixels = Math.min(width * height, diffPixels + padded);
  if (diffPath) {
    // live | replay | diff, side by side.
    const sheet = new PNG({ width: width * 3, height });
    PNG.bitblt(a, sheet, 0, 0, width, height, 0, 0);
    PNG.bitblt(b, sheet, 0, 0, width, height, width, 0);
    PNG.bitblt(diff, sheet, 0, 0, width, height, width * 2, 0);
    fs.writeFileSync(diffPath, PNG.sync.write(sheet));
  }
  return { ratio: diffPixels / (width * height), diffPixels, width, height, sameSize: a0.width === b0.width && a0.height === b0.height };
}
