// Record a page full of DOM mutations and a page driven by a user, then check that the replay at
// the end shows exactly the live DOM, and that a replay in the middle shows the middle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, liveDom, replayDom, assertSameDom, sleep, pageNow, eventsOfKind } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** Checks the `list` entry of a stopped session and returns it. */
async function listed(sessionId, { url, startedBefore, startedAfter }) {
  const sessions = await h.list();
  const s = sessions.find((x) => x.id === sessionId);
  assert.ok(s, `session ${sessionId} is not listed: ${JSON.stringify(sessions)}`);
  assert.equal(s.url, url, 'listed url is the first page');
  assert.equal(typeof s.title, 'string');
  assert.ok(s.eventCount > 0, `eventCount ${s.eventCount}`);
  assert.ok(s.bytes > 0, `bytes ${s.bytes}`);
  assert.ok(s.durationMs > 0, `durationMs ${s.durationMs}`);
  assert.ok(
    s.startedAt >= startedAfter - 1000 && s.startedAt <= startedBefore + 1000,
    `startedAt ${s.startedAt} not within [${startedAfter}, ${startedBefore}]`,
  );
  return s;
}

test('mutations.html: replay at the end equals the live DOM', { timeout: 90_000 }, async () => {
  const page = await h.openPage('mutations.html');
  const url = page.url();
  const t0 = await pageNow(page);
  const { tabId, sessionId } = await h.startRecording(page);
  const t1 = await pageNow(page);

  const st = await h.status(tabId);
  assert.equal(st.recording, true, `status while recording: ${JSON.stringify(st)}`);
  assert.equal(st.sessionId, sessionId);

  await page.click('#run');
  await page.waitForFunction(() => window.__mutationsDone === true, null, { timeout: 15_000 });
  // Two more, by hand.
  await page.click('#step');
  await page.click('#step');
  await sleep(500);
  const live = await liveDom(page, { scroll: true });
  await h.stopRecording(tabId);

  const after = await h.status(tabId);
  assert.equal(after.recording, false, `status after stop: ${JSON.stringify(after)}`);

  const s = await listed(sessionId, { url, startedAfter: t0, startedBefore: t1 });
  const { file } = await h.exportParsed(sessionId);
  assert.equal(file.events.length, s.eventCount, 'exported events = listed eventCount');
  assert.ok(eventsOfKind(file, 'snapshot').length >= 1, 'a snapshot');
  assert.ok(eventsOfKind(file, 'mutation').length >= 10, `mutation events: ${eventsOfKind(file, 'mutation').length}`);

  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay, { scroll: true }), live, 'mutations-end');
  await replay.close();
  await page.close();
});

test('demo.html: typing, clicking, selecting, scrolling; replay at end equals live, midpoint shows the middle', { timeout: 90_000 }, async () => {
  const page = await h.openPage('demo.html');
  const url = page.url();
  const t0 = await pageNow(page);
  const { tabId, sessionId } = await h.startRecording(page);
  const t1 = await pageNow(page);
  await sleep(300);

  // Mouse moves across the page.
  for (const [x, y] of [[50, 50], [400, 120], [700, 300], [200, 400]]) await page.mouse.move(x, y, { steps: 5 });

  await page.click('#name');
  await page.keyboard.type('Grace Hopper', { delay: 15 });
  await page.fill('#email', 'grace@example.test');
  await page.click('#notes');
  await page.keyboard.press('End');
  await page.keyboard.type(' And some more notes\non two lines.', { delay: 5 });
  await page.click('#subscribe');
  await page.click('#size-l');
  // Keyboard selection (trusted events, as a person would).
  await page.focus('#colour');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.inputValue('#colour'), 'blue');
  await page.click('#password');
  await page.keyboard.type('demo-secret', { delay: 10 });

  // Two items, then the midpoint, then three more.
  await page.click('#add');
  await page.click('#add');
  await page.waitForFunction(() => document.querySelectorAll('#items li').length === 2);
  await sleep(400);
  const mid = await pageNow(page);
  await sleep(400);
  for (let i = 0; i < 3; i++) await page.click('#add');
  await page.waitForFunction(() => document.querySelectorAll('#items li').length === 5);

  // Stop the clock so that the live DOM stays put until stop.
  await page.click('#clock-toggle');
  await page.waitForFunction(() => window.__demo && !window.__demo.clockRunning());

  // Scroll the box with the wheel, then the window.
  await page.locator('#scrollbox').scrollIntoViewIfNeeded();
  await page.hover('#scrollbox');
  await page.mouse.wheel(0, 260);
  await page.waitForFunction(() => document.getElementById('scrollbox').scrollTop > 100);
  await page.evaluate(() => window.scrollTo(0, 700));
  await sleep(600); // let the scroll settle and the recorder see it
  const boxScroll = await page.evaluate(() => document.getElementById('scrollbox').scrollTop);
  const docScroll = await page.evaluate(() => document.scrollingElement.scrollTop);
  assert.ok(boxScroll > 100, `box scrolled: ${boxScroll}`);
  assert.equal(docScroll, 700);

  const live = await liveDom(page, { scroll: true });
  await h.stopRecording(tabId);

  const s = await listed(sessionId, { url, startedAfter: t0, startedBefore: t1 });
  const { file } = await h.exportParsed(sessionId);
  for (const kind of ['snapshot', 'pointer_move', 'click', 'scroll', 'input', 'mutation']) {
    assert.ok(eventsOfKind(file, kind).length > 0, `the export has ${kind} events (kinds seen: ${[...new Set(file.events.map((e) => e.data.kind))].join(', ')})`);
  }

  const end = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(end, { scroll: true }), live, 'demo-end');
  const replayDocScroll = await end.evaluate(() => document.getElementById('replay-frame').contentDocument.scrollingElement.scrollTop);
  assert.ok(Math.abs(replayDocScroll - 700) <= 2, `replayed window scroll ${replayDocScroll}, recorded 700`);
  const endItems = await end.evaluate(() => document.getElementById('replay-frame').contentDocument.querySelectorAll('#items li').length);
  assert.equal(endItems, 5);

  const at = Math.round(mid - s.startedAt);
  assert.ok(at > 0 && at < s.durationMs, `midpoint ${at} within the session (${s.durationMs} ms)`);
  const middle = await h.openReplay(sessionId, at);
  const m = await middle.evaluate(() => {
    const d = document.getElementById('replay-frame').contentDocument;
    return {
      items: Array.from(d.querySelectorAll('#items li'), (li) => li.textContent),
      count: d.getElementById('count').textContent,
      name: d.getElementById('name').value,
    };
  });
  assert.deepEqual(m, { items: ['Item number 1', 'Item number 2'], count: '2 items', name: 'Grace Hopper' });
  await middle.close();
  await end.close();
  await page.close();
});
