// Which elements' scroll positions a snapshot reads. Reading an element's offsets is a layout
// check, so where the loader has listened to the document's scroll events since it started and
// none reached an element, the snapshot reads only the elements in shadow trees (their scroll
// events never reach the document) and those scrolled after the recorder started listening;
// otherwise it reads every element. Each test checks that the replay shows every scroller where
// the page has it, on a page whose snapshot takes many slices.
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

const scrollOf = (page, selector) =>
  page.evaluate((s) => {
    const inner = document.getElementById('host').shadowRoot.getElementById('inner');
    const el = s === '#inner' ? inner : document.querySelector(s);
    return el.scrollTop;
  }, selector);

/** The scroll positions recorded for the page, by the snapshot or as events, as `y` values. */
const recordedScrolls = (file) =>
  file.events.flatMap((e) => (e.data.kind === 'snapshot' ? e.data.scrolls.map((s) => s.y) : e.data.kind === 'scroll' ? [e.data.y] : []));

/** Stops the recording and checks that the replay at its end shows what the page shows. */
async function replayMatches(page, tabId, sessionId, label) {
  await sleep(600);
  const live = await liveDom(page, { scroll: true, shadow: true });
  await h.stopRecording(tabId);
  const { file } = await h.exportParsed(sessionId);
  assert.ok(eventsOfKind(file, 'snapshot').length >= 1, 'a snapshot');
  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay, { scroll: true, shadow: true }), live, label);
  await replay.close();
  return file;
}

test('a page loaded before recording, scrolled only inside a shadow root: the snapshot reads it', { timeout: 90_000 }, async () => {
  const page = await h.openPage('scrolled.html');
  await page.waitForLoadState('load');
  assert.equal(await scrollOf(page, '#inner'), 90, 'the page scrolled its shadow scroller');
  const { tabId, sessionId } = await h.startRecording(page);
  const file = await replayMatches(page, tabId, sessionId, 'scroll-reads-shadow');
  // Read by the snapshot: its scroll event was long gone when recording started.
  assert.deepEqual(recordedScrolls(file), [90]);
  await page.close();
});

test('an element scrolled by the user before recording started: the snapshot reads every element', { timeout: 90_000 }, async () => {
  const page = await h.openPage('scrolled.html');
  await page.waitForLoadState('load');
  await page.hover('#box');
  await page.mouse.wheel(0, 200);
  await page.waitForFunction(() => document.getElementById('box').scrollTop > 100);
  await sleep(300);
  const { tabId, sessionId } = await h.startRecording(page);
  const file = await replayMatches(page, tabId, sessionId, 'scroll-reads-user');
  assert.deepEqual(recordedScrolls(file).sort((a, b) => a - b), [90, await scrollOf(page, '#box')]);
  await page.close();
});

for (const [query, what] of [
  ['early=1&late=1', 'elements scrolled while the page was parsed and when it was'],
  ['late=1', 'an element scrolled when the page was parsed, after the recorder started listening'],
]) {
  test(`recorded from the document's start, ${what}: the replay shows them scrolled`, { timeout: 90_000 }, async () => {
    const page = await h.openPage('nav-a.html');
    const { tabId, sessionId } = await h.startRecording(page);
    await sleep(200);
    await page.goto(h.server.url(`scrolled.html?${query}`));
    await page.waitForLoadState('load');
    assert.equal(await scrollOf(page, '#tail'), 210, 'the page scrolled #tail');
    if (query.includes('early')) assert.equal(await scrollOf(page, '#early'), 150, 'the page scrolled #early');
    await replayMatches(page, tabId, sessionId, `scroll-reads-start-${query}`);
    await page.close();
  });
}
