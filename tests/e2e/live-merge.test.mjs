// A long recording does not keep one small chunk per batch: every 8 batches the worker merges a
// recording's small chunks while it goes on (src/shell/worker.rs, merge_while_recording), and
// what was merged replays as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, liveDom, replayDom, assertSameDom, sleep, waitFor } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** The stored chunks of a session, as the extension's IndexedDB holds them now. */
async function chunksOf(sessionId) {
  const dump = JSON.parse(await h.readExtensionIndexedDb());
  return (dump.stores.chunks || []).map((row) => row.value).filter((c) => c.sessionId === sessionId);
}

test('a recording of a page that ticks every 100 ms has its chunks merged while it records', { timeout: 120_000 }, async () => {
  const page = await h.openPage('ticker.html');
  const { tabId, sessionId } = await h.startRecording(page);
  // A batch a second, each with about ten ticks: the 8 batches between merges take about 8 s.
  const merged = await waitFor(
    async () => {
      const chunks = await chunksOf(sessionId);
      const events = chunks.reduce((n, c) => n + c.count, 0);
      // Unmerged, a chunk holds one batch: the snapshot, or at most a few ticks.
      const big = chunks.filter((c) => c.count >= 20);
      return big.length > 0 && chunks.length * 4 < events ? { chunks: chunks.length, events, biggest: Math.max(...chunks.map((c) => c.count)) } : undefined;
    },
    { timeout: 30_000, interval: 1000, message: 'a merged chunk while recording' },
  );
  assert.equal((await h.status(tabId)).recording, true, `still recording when merged: ${JSON.stringify(merged)}`);
  await page.evaluate(() => clearInterval(window.ticker));
  await sleep(500);
  const live = await liveDom(page);
  await h.stopRecording(tabId);
  const { file } = await h.exportParsed(sessionId);
  const ticks = file.events.filter((e) => e.data.kind === 'mutation').length;
  assert.ok(ticks >= merged.events - 1, `the merged ticks are all exported (${ticks} mutations, ${merged.events} events stored while recording)`);
  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay), live, 'live-merge end');
});
