// Closing a recorded tab ends its recording: what the page showed up to about a second before the
// close is stored, the session gets its duration, and the closed tab is no longer "recording".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { startHarness, sleep, waitFor } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

test('closing a recorded tab keeps what was recorded and ends the recording', { timeout: 90_000 }, async () => {
  const marker = `closing-${crypto.randomBytes(4).toString('hex')}`;
  const page = await h.openPage('demo.html');
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(300);
  await page.click('#name');
  await page.keyboard.type(marker, { delay: 10 });
  await sleep(1200); // within about a second of the close, the page's batches reach the store
  const closedAt = Date.now();
  await page.close();

  await waitFor(async () => (await h.status(tabId)).recording === false, { timeout: 10_000, message: 'the closed tab to stop recording' });
  const s = await waitFor(async () => (await h.list()).find((x) => x.id === sessionId && x.durationMs > 0), {
    timeout: 10_000,
    message: 'the session to be finished',
  });
  // The last event was ~1.2 s before the close; only the close itself can end the session later.
  assert.ok(s.startedAt + s.durationMs >= closedAt - 250, `the session runs up to the close (ends ${s.startedAt + s.durationMs}, closed ${closedAt})`);
  const { text, file } = await h.exportParsed(sessionId);
  assert.ok(text.includes(marker), 'the typed text is in the recording');
  assert.equal(file.events.length, s.eventCount);
  // Starting again on a new tab works: the closed tab left no stale state behind.
  const again = await h.openPage('demo.html');
  const second = await h.startRecording(again);
  assert.notEqual(second.sessionId, sessionId);
  await h.stopRecording(second.tabId);
  await again.close();
});
