// MV3 service workers get stopped at any time. A recording must survive a restart of the worker:
// events from before and after the restart end up in the session.
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

/**
 * Watches the extension's service worker through the DevTools protocol; `stop()` stops it (as
 * Chrome does to idle workers) and waits until it has stopped. `statuses` lists every running
 * status seen, in order.
 */
async function workerControl() {
  const ext = await h.extPage();
  const cdp = await h.context.newCDPSession(ext);
  const statuses = [];
  cdp.on('ServiceWorker.workerVersionUpdated', (e) => {
    for (const v of e.versions) if (v.scriptURL.startsWith(h.extOrigin)) statuses.push(v.runningStatus);
  });
  await cdp.send('ServiceWorker.enable');
  return {
    statuses,
    async stop() {
      const seen = statuses.length;
      await cdp.send('ServiceWorker.stopAllWorkers');
      await waitFor(() => statuses.slice(seen).includes('stopped'), { timeout: 10_000, message: 'the service worker to stop' });
      return statuses.lastIndexOf('stopped');
    },
    detach: () => cdp.detach(),
  };
}

async function addMarker(page, text) {
  await page.evaluate((t) => {
    const p = document.createElement('p');
    p.className = 'marker';
    p.textContent = t;
    document.body.appendChild(p);
  }, text);
}

test('recording survives a service worker restart', { timeout: 90_000 }, async () => {
  const tag = crypto.randomBytes(4).toString('hex');
  const beforeMarker = `before-restart-${tag}`;
  const afterMarker = `after-restart-${tag}`;

  const page = await h.openPage('mutations.html');
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(200);
  await page.click('#step');
  await addMarker(page, beforeMarker);
  await sleep(700); // let the batch reach the worker

  // Watch the worker through the DevTools protocol, and remember its start time.
  const worker = await workerControl();
  const { statuses } = worker;
  const originBefore = await h.serviceWorker.evaluate(() => performance.timeOrigin);
  const stoppedAt = await worker.stop();

  // Mutations while (and after) the worker is down.
  await page.click('#step');
  await addMarker(page, afterMarker);
  await sleep(300);
  await page.click('#step');
  await sleep(1000);

  // Talking to the worker (start it if the page did not already).
  const st = await h.status(tabId);
  await waitFor(() => statuses.slice(stoppedAt).includes('running'), { timeout: 10_000, message: 'the service worker to run again' });
  const originAfter = await waitFor(
    async () => {
      const o = await h.serviceWorker.evaluate(() => performance.timeOrigin);
      return o > originBefore ? o : null;
    },
    { timeout: 10_000, message: 'a new service worker global (timeOrigin changed)' },
  );
  assert.ok(originAfter > originBefore, 'the worker restarted');
  assert.equal(st.recording, true, `status after the restart: ${JSON.stringify(st)}`);
  assert.equal(st.sessionId, sessionId);

  await sleep(500);
  await h.stopRecording(tabId);
  const stAfter = await h.status(tabId);
  assert.equal(stAfter.recording, false, `status after stop: ${JSON.stringify(stAfter)}`);
  assert.equal(stAfter.sessionId ?? null, null);

  const text = await h.exportSession(sessionId);
  assert.ok(text.includes(beforeMarker), 'the export holds the marker from before the restart');
  assert.ok(text.includes(afterMarker), 'the export holds the marker from after the restart');
  const file = JSON.parse(text);
  const s = (await h.list()).find((x) => x.id === sessionId);
  assert.ok(s, 'listed');
  assert.equal(s.eventCount, file.events.length);

  // And the replay at the end shows both.
  const replay = await h.openReplay(sessionId, 'end');
  const markers = await replay.evaluate(() =>
    Array.from(document.getElementById('replay-frame').contentDocument.querySelectorAll('p.marker'), (p) => p.textContent),
  );
  assert.deepEqual(markers, [beforeMarker, afterMarker]);
  await replay.close();
  await worker.detach();
  await page.close();
});

test('stopping after the worker restarted really stops the page, and recording again starts at once', { timeout: 90_000 }, async () => {
  const tag = crypto.randomBytes(4).toString('hex');
  // nav-a.html has no timers: once nothing happens, the page sends nothing and its port stays closed.
  const page = await h.openPage('nav-a.html');
  const { tabId, sessionId } = await h.startRecording(page);
  await page.click('#where');
  await page.keyboard.type(`before-${tag}`, { delay: 5 });
  await sleep(700);

  // The page goes idle and Chrome stops the worker: the page's port closes.
  await (await workerControl()).stop();

  // Stop reaches a fresh worker that has no port to the page.
  await h.stopRecording(tabId);
  const stoppedAt = Date.now();

  // With the page still idle, recording the same tab again starts a new session with a snapshot
  // at once (the page's old recorder must not swallow the new injection).
  const again = await h.startRecording(page);
  assert.notEqual(again.sessionId, sessionId);
  await waitFor(
    async () => {
      const st = (await h.list()).find((x) => x.id === again.sessionId);
      return st && st.eventCount > 0;
    },
    { timeout: 10_000, message: 'the new session to get its snapshot while the page is idle' },
  );

  // Activity now belongs to the new session only.
  await page.click('#where');
  await page.keyboard.type(`after-stop-${tag}`, { delay: 5 });
  await sleep(800);
  await h.stopRecording(again.tabId);

  const old = await h.exportParsed(sessionId);
  assert.ok(old.text.includes(`before-${tag}`), 'what happened before the stop is recorded');
  assert.ok(!old.text.includes(`after-stop-${tag}`), 'nothing typed after the stop enters the stopped session');
  const late = old.file.events.filter((e) => e.t > stoppedAt);
  assert.deepEqual(late.map((e) => e.data.kind), [], 'no event after the stop is in the stopped session');
  const fresh = await h.exportParsed(again.sessionId);
  assert.equal(fresh.file.events[0].data.kind, 'snapshot', 'the new session starts with a snapshot');
  assert.ok(fresh.text.includes(`after-stop-${tag}`), 'the typing went to the new session');
  await page.close();
});
