// Shadow DOM and the CSSOM: custom elements with open, closed and nested shadow roots, slots,
// adopted stylesheets and rules inserted with insertRule, changed after recording starts (content
// inside shadow roots, hosts inserted later, a shadow root attached to a recorded element, an
// element upgraded by a late definition, typing inside a shadow root, sheets replaced). The replay
// at the end must equal the live page, shadow roots and effective CSS rules included.
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

const COMPARE = { shadow: true, cssom: true };

test('shadow.html: shadow roots and CSSOM-only styles replay as they were', { timeout: 120_000 }, async () => {
  const page = await h.openPage('shadow.html');
  await page.waitForFunction(() => document.readyState === 'complete');
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(300);

  await page.evaluate(() => window.__shadow.changeInside());
  await page.evaluate(() => window.__shadow.insertHosts());
  await page.evaluate(() => window.__shadow.attachLater());
  await page.evaluate(() => window.__shadow.defineLate());
  await page.click('#card >> #inner');
  await page.keyboard.type('typed in a shadow root', { delay: 5 });
  await page.evaluate(() => window.__shadow.changeSheets());
  // The pointer ends over a heading inside a shadow root, which has a :hover rule there.
  await page.hover('#card >> h3');
  await sleep(800);
  const liveColor = await page.evaluate(() => getComputedStyle(document.getElementById('card').shadowRoot.querySelector('h3')).color);

  const live = await liveDom(page, COMPARE);
  for (const expected of ['#shadow-root (open)', 'late shadow root', 'defined after recording started', 'inner text changed', 'inserted card', '{value="typed in a shadow root"}', '#adopted sheets=2']) {
    assert.ok(live.includes(expected), `the live page shows ${expected}`);
  }
  await h.stopRecording(tabId);

  const { file } = await h.exportParsed(sessionId);
  const nodes = [...eventsOfKind(file, 'snapshot').flatMap((e) => e.data.nodes), ...eventsOfKind(file, 'mutation').flatMap((e) => (e.data.adds || []).flatMap((a) => a.nodes))];
  const closed = nodes.filter((n) => n.type === 'shadow_root' && n.mode === 'closed');
  assert.equal(closed.length, 1, 'the closed shadow root is recorded (chrome.dom.openOrClosedShadowRoot)');
  assert.ok(nodes.some((n) => n.parent === closed[0].id && n.type === 'element' && n.tag === 'em'), 'with its content');
  assert.ok(nodes.some((n) => n.type === 'text' && n.text === '7'), 'a change inside the closed root is recorded');
  const sheetEvents = eventsOfKind(file, 'sheet_rules');
  assert.ok(sheetEvents.some((e) => e.data.owner !== undefined), 'rules inserted into a <style> are recorded');
  assert.ok(sheetEvents.some((e) => e.data.sheet !== undefined), 'constructed sheets are recorded');
  assert.ok(eventsOfKind(file, 'adopted').length >= 3, 'adoptedStyleSheets of the document and shadow roots');

  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay, COMPARE), live, 'shadow-end');
  const replayColor = await replay.evaluate(() => {
    const doc = document.getElementById('replay-frame').contentDocument;
    return doc.defaultView.getComputedStyle(doc.getElementById('card').shadowRoot.querySelector('h3')).color;
  });
  assert.equal(liveColor, 'rgb(0, 128, 0)', 'the live heading is hovered');
  assert.equal(replayColor, liveColor, 'the replay shows the hover inside the shadow root');
  // The closed root is closed in the replay too (so the comparison above cannot see it): look
  // at what it renders.
  const closedText = await replay.evaluate(() => document.getElementById('replay-frame').contentDocument.getElementById('closed').getBoundingClientRect().width);
  assert.ok(closedText > 0, 'the closed root renders its content');
  await replay.close();
  await page.close();
});
