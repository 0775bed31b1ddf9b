// Big insertions are recorded in slices like the snapshot: a page parsed while it is recorded
// (the parser inserts thousands of rows per task), a script that inserts a 20,000-row fragment at
// once, and one that inserts thousands of nodes one by one then keeps changing them. Each must
// replay exactly as it ends up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, liveDom, replayDom, assertSameDom, sleep } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** Records `path` from its first byte (recording starts on a blank page, then the tab navigates). */
async function recordNavigation(path, during) {
  const page = await h.openPage('nav-a.html');
  const { tabId, sessionId } = await h.startRecording(page);
  await page.goto(h.server.url(path));
  await during(page);
  await sleep(800);
  const live = await liveDom(page);
  await h.stopRecording(tabId);
  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay), live, path.replace(/[^a-z0-9]+/gi, '-'));
  await replay.close();
  await page.close();
  return sessionId;
}

test('a large static page parsed while recorded replays exactly', { timeout: 180_000 }, async () => {
  let parsedAt;
  const sessionId = await recordNavigation('big-static.html', async (page) => {
    await page.waitForLoadState('load');
    assert.equal(await page.evaluate(() => document.querySelectorAll('#rows tr').length), 6000);
    parsedAt = await page.evaluate(() => performance.timeOrigin + performance.getEntriesByType('navigation')[0].domContentLoadedEventStart);
  });
  // The snapshot of a page recorded from its start waits for the parser (DOMContentLoaded), so
  // the parser's one-record-per-node insertions never reach the recorder: no mutation of that
  // page comes before its snapshot, and the snapshot is not older than the parsed document.
  const { file } = await h.exportParsed(sessionId);
  const pageEvents = file.events.filter((e) => e.page === 1);
  assert.equal(pageEvents[0]?.data.kind, 'snapshot', 'the page starts with its snapshot');
  assert.ok(pageEvents[0].t >= parsedAt - 5, `snapshot at ${pageEvents[0].t}, parser done at ${parsedAt}`);
});

test('a 20,000-row fragment inserted at once, then more rows, replays exactly', { timeout: 180_000 }, async () => {
  await recordNavigation('big.html', async (page) => {
    await page.waitForFunction(() => window.__bigReady === true);
    await page.click('#more');
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 22000);
  });
});

test('thousands of nodes inserted one by one and then changed replay exactly', { timeout: 180_000 }, async () => {
  await recordNavigation('churn.html?n=15000&ms=1500', async (page) => {
    await page.waitForFunction(() => window.__churnReady === true);
    await page.evaluate(() => window.__startChurn());
    await page.waitForFunction(() => window.__churnDone === true, null, { timeout: 60_000 });
  });
});
