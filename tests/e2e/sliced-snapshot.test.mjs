// The snapshot of a loaded page is taken in slices that yield to the page; a page that changes
// between the slices (nodes inserted, removed, moved, attributes and text edited every
// millisecond) must still replay exactly as it ends up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, liveDom, replayDom, assertSameDom, sleep, eventsOfKind } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

test('a page changing during its sliced snapshot replays exactly', { timeout: 180_000 }, async () => {
  const page = await h.openPage('churn.html?n=40000&ms=2500');
  await page.waitForFunction(() => window.__churnReady === true);
  await page.evaluate(() => window.__startChurn());
  const { tabId, sessionId } = await h.startRecording(page);
  await page.waitForFunction(() => window.__churnDone === true, null, { timeout: 60_000 });
  await sleep(600);
  const live = await liveDom(page);
  await h.stopRecording(tabId);

  const { file } = await h.exportParsed(sessionId);
  const [snapshot] = eventsOfKind(file, 'snapshot');
  const initial = (nodes) => nodes.filter((n) => n.type === 'element' && (n.attrs || []).some(([k]) => k === 'data-i')).length;
  const later = eventsOfKind(file, 'mutation').reduce((sum, e) => sum + (e.data.adds || []).reduce((s, a) => s + initial(a.nodes), 0), 0);
  assert.ok(initial(snapshot.data.nodes) < 40000 && later > 0, `the snapshot came in slices (first slice: ${initial(snapshot.data.nodes)} of the page's elements, later slices: ${later})`);

  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay), live, 'churn-end');
  await replay.close();
  await page.close();
});
