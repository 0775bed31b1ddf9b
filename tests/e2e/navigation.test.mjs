// A recording follows the tab across navigations (a link, then a script): one snapshot per page.
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

test('nav-a → (link) → nav-b → (script) → nav-c: snapshots per page, replay at end shows nav-c', { timeout: 90_000 }, async () => {
  const page = await h.openPage('nav-a.html', { unique: false });
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(200);
  await page.click('#where');
  await page.keyboard.type('to page C, please', { delay: 10 });
  await sleep(200);

  await Promise.all([page.waitForURL(/\/nav-b\.html/), page.click('#to-b')]);
  const st = await h.status(tabId);
  assert.equal(st.recording, true, `still recording after a navigation: ${JSON.stringify(st)}`);
  assert.equal(st.sessionId, sessionId, 'same session after a navigation');
  await page.waitForURL(/\/nav-c\.html/, { timeout: 10_000 });
  await page.waitForLoadState('load');
  await sleep(400);

  await page.click('#note');
  await page.keyboard.type('arrived', { delay: 10 });
  await page.click('#done');
  await page.click('#add');
  await page.click('#add');
  await page.mouse.move(200, 200, { steps: 3 });
  await sleep(500);
  const live = await liveDom(page, { scroll: true });
  const st2 = await h.status(tabId);
  assert.equal(st2.recording, true, `recording on page C: ${JSON.stringify(st2)}`);
  assert.equal(st2.sessionId, sessionId);
  await h.stopRecording(tabId);
  assert.equal((await h.status(tabId)).recording, false);

  const { file } = await h.exportParsed(sessionId);
  const snaps = eventsOfKind(file, 'snapshot');
  const firstPerPage = new Map();
  for (const e of snaps) if (!firstPerPage.has(e.page)) firstPerPage.set(e.page, e);
  assert.deepEqual([...firstPerPage.keys()].sort(), [0, 1, 2], `pages with snapshots: ${snaps.map((e) => `${e.page}:${e.data.url}`).join(', ')}`);
  const urls = [0, 1, 2].map((p) => new URL(firstPerPage.get(p).data.url).pathname);
  assert.deepEqual(urls, ['/nav-a.html', '/nav-b.html', '/nav-c.html']);
  const times = [0, 1, 2].map((p) => firstPerPage.get(p).t);
  assert.ok(times[0] < times[1] && times[1] < times[2], `page snapshots in time order: ${times}`);
  // Events are in time order, and pages never go backwards.
  for (let i = 1; i < file.events.length; i++) {
    assert.ok(file.events[i].t >= file.events[i - 1].t, `event ${i} is earlier than event ${i - 1}`);
    assert.ok(file.events[i].page >= file.events[i - 1].page, `event ${i} goes back from page ${file.events[i - 1].page} to ${file.events[i].page}`);
  }
  // The typing on page A belongs to page 0 and the input on page C to page 2.
  const inputs = eventsOfKind(file, 'input');
  assert.ok(inputs.some((e) => e.page === 0) && inputs.some((e) => e.page === 2), `input events per page: ${inputs.map((e) => e.page)}`);

  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay, { scroll: true }), live, 'navigation-end');
  // Pages recorded from the start of the document see their <link> before the sheet loads; the
  // sheet must still reach the replay, which may fetch nothing: the styles must match.
  await page.waitForFunction(() => getComputedStyle(document.body).backgroundColor === 'rgb(239, 255, 240)');
  const liveStyle = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const replayStyle = await replay.evaluate(() => {
    const d = document.getElementById('replay-frame').contentDocument;
    return { bg: getComputedStyle(d.body).backgroundColor, inlined: d.querySelectorAll('style[data-tabreel-href]').length };
  });
  assert.equal(liveStyle, 'rgb(239, 255, 240)', 'nav.css applies to the live page');
  assert.deepEqual(replayStyle, { bg: liveStyle, inlined: 1 }, 'the stylesheet of a navigated page is in the replay');
  // At the start of page B the replay shows page B.
  const s = (await h.list()).find((x) => x.id === sessionId);
  const atB = Math.round(firstPerPage.get(1).t - s.startedAt) + 1;
  const b = await h.openReplay(sessionId, atB);
  const h1 = await b.evaluate(() => document.getElementById('replay-frame').contentDocument.querySelector('h1')?.textContent);
  assert.equal(h1, 'Page B');
  await b.close();
  await replay.close();
  await page.close();
});

test('going back is a new page of the session, recorded like any other', { timeout: 90_000 }, async () => {
  const page = await h.openPage('nav-a.html');
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(300);
  await Promise.all([page.waitForURL(/nav-b/), page.click('a')]);
  await sleep(400);
  await page.goBack();
  await page.waitForURL(/nav-a/);
  await page.evaluate(() => document.body.append(Object.assign(document.createElement('p'), { id: 'back-marker', textContent: 'after going back' })));
  await sleep(800);
  const live = await liveDom(page);
  await h.stopRecording(tabId);

  const { file } = await h.exportParsed(sessionId);
  const pages = eventsOfKind(file, 'snapshot').map((e) => `${e.page}:${new URL(e.data.url).pathname}`);
  assert.deepEqual(pages, ['0:/nav-a.html', '1:/nav-b.html', '2:/nav-a.html']);
  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay), live, 'navigation-back');
  await replay.close();
  await page.close();
});
