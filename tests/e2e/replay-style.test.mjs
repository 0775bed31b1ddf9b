// What the replay frame shows of styles that depend on the replay itself, compared through
// computed styles with the live page:
// - the body font: Chrome injects `body { font-family: …; font-size: 75% }` into extension pages,
//   the replay frame included; the replay must show the page's own font (or the default);
// - hover and focus: the frame is inert, so the recorded pointer and focus are shown through the
//   attributes that recorded `:hover`/`:focus…` selectors are rewritten to;
// - relative URLs in recorded CSS resolve against the recorded page or sheet, not the extension
//   (or, for files stored with the recording, point at the stored copy).
// - focus inside shadow roots: the element that has focus is recorded (not the host the document
//   sees), the host matches `:focus` as live, and the browser's ring shows in the shadow tree.
// The replayed DOM must still equal the live DOM (the attributes the replay adds are left out).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, liveDom, replayDom, assertSameDom, sleep, pageNow, eventsOfKind, liveStyles, replayStyles } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** The computed styles the tests compare. */
const STYLES = {
  body: ['fontFamily', 'fontSize'],
  '#text': ['fontFamily', 'fontSize'],
  '#hot': ['backgroundColor'],
  '#quiet': ['color'],
  '#name': ['outlineColor', 'outlineStyle', 'outlineOffset'],
  '#btn': ['outlineColor', 'outlineStyle'],
  '#link': ['outlineColor', 'outlineStyle', 'outlineWidth', 'outlineOffset'],
  '#form': ['borderLeftColor', 'borderLeftWidth'],
  '#bg': ['backgroundImage', 'borderImageSource'],
};

const liveComputed = (page) => liveStyles(page, STYLES);
const frameComputed = (replay) => replayStyles(replay, STYLES);

/** Opens a replay and collects what its console says about resources. */
async function openReplay(sessionId, at) {
  const page = await h.context.newPage();
  const console = [];
  page.on('console', (m) => console.push(`${m.text()} ${m.location()?.url || ''}`));
  await h.openReplay(sessionId, at, { page });
  await sleep(300);
  return { page, console };
}

test('hover, focus and relative URLs of recorded CSS show in the replay as they did live', { timeout: 90_000 }, async () => {
  const page = await h.openPage('replay-style.html');
  const { tabId, sessionId } = await h.startRecording(page);
  await page.click('#name');
  await page.keyboard.type('Ada', { delay: 10 });
  await page.hover('#hot');
  await sleep(400);
  const mid = { time: await pageNow(page), dom: await liveDom(page), styles: await liveComputed(page) };
  // Long after the pointer last moved, the keyboard moves focus: the button shows its ring, and
  // then a link without any focus style shows the browser's.
  await sleep(1300);
  await page.keyboard.press('Tab');
  await sleep(400);
  const button = { time: await pageNow(page), styles: await liveComputed(page) };
  await page.keyboard.press('Tab');
  await sleep(400);
  const end = { dom: await liveDom(page), styles: await liveComputed(page) };
  await h.stopRecording(tabId);

  assert.equal(mid.styles['#hot backgroundColor'], 'rgb(10, 20, 30)', 'the live page was hovered (test premise)');
  assert.equal(button.styles['#btn outlineStyle'], 'dotted', 'the live button showed its focus ring (test premise)');
  assert.equal(end.styles['#link outlineStyle'], 'auto', "the live link showed the browser's focus ring (test premise)");
  assert.equal(end.styles['#link outlineOffset'], '3px', 'with the offset of a layer of the page (test premise)');

  const s = (await h.list()).find((x) => x.id === sessionId);
  const atMid = await openReplay(sessionId, Math.round(mid.time - s.startedAt));
  assert.deepEqual(await frameComputed(atMid.page), mid.styles, 'computed styles in the middle');
  await assertSameDom(await replayDom(atMid.page), mid.dom, 'replay-style-mid');
  const atButton = await openReplay(sessionId, Math.round(button.time - s.startedAt));
  assert.deepEqual(await frameComputed(atButton.page), button.styles, 'computed styles with the button focused');
  await atButton.page.close();
  const atEnd = await openReplay(sessionId, 'end');
  assert.deepEqual(await frameComputed(atEnd.page), end.styles, 'computed styles at the end');
  await assertSameDom(await replayDom(atEnd.page), end.dom, 'replay-style-end');

  // URLs of files the site does not have resolve to the recorded site (where the replay's CSP
  // refuses them), never to the extension.
  const origin = h.server.origin;
  assert.equal(end.styles['#bg backgroundImage'], `url("${origin}/img/page-relative.png")`);
  assert.equal(end.styles['#bg borderImageSource'], `url("${origin}/css/img/sheet-relative.png")`);
  const messages = [...atMid.console, ...atEnd.console];
  const extensionMisses = messages.filter((m) => m.includes(h.extOrigin) && /Failed to load|ERR_/.test(m));
  assert.deepEqual(extensionMisses, [], 'no recorded URL is looked up in the extension');
  // The imported sheet exists: it was stored with the recording, and the replay imports that copy.
  const imported = await atEnd.page.evaluate(() => {
    const doc = document.getElementById('replay-frame').contentDocument;
    const style = Array.from(doc.querySelectorAll('style')).find((s) => (s.getAttribute('data-tabreel-href') || '').endsWith('replay-style.css'));
    const rule = Array.from(style.sheet.cssRules).find((r) => r.styleSheet);
    return { href: rule.href, rules: Array.from(rule.styleSheet.cssRules, (r) => r.cssText) };
  });
  assert.match(imported.href, /^blob:chrome-extension:/, 'the @import points at the stored copy');
  assert.deepEqual(imported.rules, ['.more { color: rgb(1, 2, 3); }']);
  await atMid.page.close();
  await atEnd.page.close();
  await page.close();
});

/** Runs in replay-shadow-focus.html's document: the styles focus decides, hosts and open trees. */
function shadowFocusStyles(doc) {
  const cs = (el) => doc.defaultView.getComputedStyle(el);
  const out = {};
  for (const id of ['field', 'adopted', 'closed']) {
    const host = doc.getElementById(id);
    out[`#${id} backgroundColor`] = cs(host).backgroundColor;
    out[`#${id} color`] = cs(host).color;
  }
  for (const [host, id] of [['field', 'a'], ['field', 'b'], ['adopted', 'c']]) {
    const el = doc.getElementById(host).shadowRoot.getElementById(id);
    for (const p of ['outlineStyle', 'outlineColor', 'outlineWidth', 'outlineOffset']) out[`#${host} #${id} ${p}`] = cs(el)[p];
  }
  return out;
}

test('focus inside shadow roots (open, adopted-only, closed) shows in the replay as it did live', { timeout: 90_000 }, async () => {
  const page = await h.openPage('replay-shadow-focus.html');
  const { tabId, sessionId } = await h.startRecording(page);
  const live = async () => ({ time: await pageNow(page), styles: await page.evaluate(`(${shadowFocusStyles})(document)`) });
  await page.click('#field >> #a');
  await page.keyboard.type('x', { delay: 10 });
  // To the next field of the same shadow tree: the document hears nothing of it.
  await page.keyboard.press('Tab');
  await sleep(300);
  const atB = await live();
  await page.click('#adopted >> #c');
  await sleep(300);
  const atC = await live();
  await page.evaluate(() => document.getElementById('closed')._root.getElementById('d').focus());
  await sleep(300);
  const atD = await live();
  await h.stopRecording(tabId);

  assert.equal(await page.evaluate(() => document.activeElement.id), 'closed', 'the document sees the host (test premise)');
  assert.equal(atB.styles['#field #b outlineStyle'], 'auto', "the live field showed the browser's ring (test premise)");
  assert.equal(atB.styles['#field #a outlineStyle'], 'none', 'and the other field none (test premise)');
  assert.equal(atB.styles['#field backgroundColor'], 'rgb(255, 240, 200)', 'the live host matched :focus (test premise)');
  assert.equal(atC.styles['#adopted #c outlineStyle'], 'auto', "the live field showed the browser's ring (test premise)");
  assert.equal(atD.styles['#closed color'], 'rgb(150, 0, 0)', 'the live closed host matched :focus (test premise)');

  // The file names the fields, not their hosts, the closed root's one included.
  const { file } = await h.exportParsed(sessionId);
  const nodes = [...eventsOfKind(file, 'snapshot').flatMap((e) => e.data.nodes), ...eventsOfKind(file, 'mutation').flatMap((e) => (e.data.adds || []).flatMap((a) => a.nodes))];
  const idAttr = (node) => (node.attrs || []).find(([name]) => name === 'id')?.[1];
  const focused = eventsOfKind(file, 'focus').map((e) => {
    const node = nodes.find((n) => n.id === e.data.target);
    return node ? `${node.tag}#${idAttr(node)}` : String(e.data.target);
  });
  assert.deepEqual(focused, ['input#a', 'input#b', 'input#c', 'input#d'], 'one focus event per move, naming the focused field');

  const s = (await h.list()).find((x) => x.id === sessionId);
  for (const [label, at, expected] of [
    ['second field of the open root', Math.round(atB.time - s.startedAt), atB.styles],
    ['field of the adopted-only root', Math.round(atC.time - s.startedAt), atC.styles],
    ['field of the closed root', 'end', atD.styles],
  ]) {
    const replay = await openReplay(sessionId, at);
    assert.deepEqual(await replay.page.evaluate(`(${shadowFocusStyles})(document.getElementById('replay-frame').contentDocument)`), expected, `computed styles with the ${label} focused`);
    await replay.page.close();
  }
  await page.close();
});

for (const [file, what] of [
  ['replay-font.html', 'a page with its own body font'],
  ['replay-nostyle.html', 'a page without any stylesheet'],
  ['replay-style.html', 'a page without a body font'],
]) {
  test(`the replay shows the body font of ${what}, not Chrome's extension font`, { timeout: 60_000 }, async () => {
    const page = await h.openPage(file);
    const { tabId, sessionId } = await h.startRecording(page);
    await sleep(400);
    const live = { dom: await liveDom(page), styles: await liveComputed(page) };
    await h.stopRecording(tabId);
    const replay = await openReplay(sessionId, 'end');
    const styles = await frameComputed(replay.page);
    assert.equal(styles['body fontSize'], live.styles['body fontSize']);
    assert.equal(styles['body fontFamily'], live.styles['body fontFamily']);
    assert.equal(styles['#text fontSize'], live.styles['#text fontSize']);
    await assertSameDom(await replayDom(replay.page), live.dom, `replay-font-${file}`);
    await replay.page.close();
    await page.close();
  });
}
