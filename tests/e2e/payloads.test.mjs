// A hostile page: in the live page its payloads run; in a replay none may run, nothing may be
// fetched from anywhere (the test server sees no request at all) and the frame must not navigate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, sleep, pageNow } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** Runs in the replay page: what the replay frame holds that could be dangerous. */
function inspectReplay() {
  const frame = document.getElementById('replay-frame');
  const d = frame.contentDocument;
  const w = frame.contentWindow;
  const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background', 'ping', 'codebase', 'cite'];
  const scriptUrl = (v) => {
    const s = String(v).replace(/^[\u0000-\u0020]+/, '').replace(/[\t\n\r]/g, '').toLowerCase();
    return s.startsWith('javascript:') || s.startsWith('vbscript:') || s.startsWith('data:text/html') || s.startsWith('data:image/svg');
  };
  const problems = [];
  const all = d.querySelectorAll('*');
  for (const el of all) {
    const tag = el.localName;
    for (const a of Array.from(el.attributes)) {
      const n = a.name.toLowerCase();
      const where = `<${tag}${el.id ? '#' + el.id : ''}> ${a.name}=${JSON.stringify(a.value.slice(0, 80))}`;
      if (n.startsWith('on')) problems.push(`handler attribute ${where}`);
      if (n === 'srcdoc') problems.push(`srcdoc ${where}`);
      if (URL_ATTRS.includes(n) && scriptUrl(a.value)) problems.push(`script URL ${where}`);
      if (['iframe', 'frame', 'object', 'embed'].includes(tag) && (n === 'src' || n === 'data')) problems.push(`frame source ${where}`);
      if (tag === 'meta' && n === 'http-equiv') problems.push(`meta http-equiv ${where}`);
    }
    if (tag === 'script') {
      if (el.getAttribute('type') !== 'text/x-tabreel-inert') problems.push(`script with type ${JSON.stringify(el.getAttribute('type'))}`);
      if (el.hasAttribute('src')) problems.push(`script with src ${el.getAttribute('src')}`);
    }
  }
  let frameUrl;
  try {
    frameUrl = w.location.href;
  } catch (e) {
    frameUrl = `unreadable: ${e.message}`;
  }
  const nested = Array.from(d.querySelectorAll('iframe'), (f) => {
    try {
      return f.contentWindow ? f.contentWindow.location.href : null;
    } catch (e) {
      return `unreadable: ${e.message}`;
    }
  });
  let framePwned;
  try {
    framePwned = w.__pwned;
  } catch (e) {
    framePwned = `unreadable: ${e.message}`;
  }
  return {
    problems,
    frameUrl,
    // A navigation replaces the frame's Document; the one shown at ready time must still be there.
    sameDocument: window.__docAtReady !== undefined && d === window.__docAtReady,
    nested,
    framePwned: framePwned === undefined ? 'undefined' : JSON.stringify(framePwned),
    pagePwned: window.__pwned === undefined ? 'undefined' : JSON.stringify(window.__pwned),
    elementCount: all.length,
    hasDynamic: !!d.getElementById('dyn-text'),
    dynText: d.getElementById('dyn-text')?.textContent ?? null,
    escapedText: d.getElementById('escaped-text')?.textContent ?? null,
    attrBreakout: d.getElementById('attr-breakout')?.getAttribute('title') ?? null,
    intro: !!d.getElementById('intro'),
  };
}

test('payloads.html: nothing runs, loads or navigates in the replay', { timeout: 120_000 }, async () => {
  const page = await h.openPage('payloads.html');
  await page.waitForLoadState('load');
  await sleep(500);
  // Sanity: the payloads are live (so that "nothing happened" in the replay means something).
  const livePwned = await page.evaluate(() => window.__pwned || []);
  assert.ok(livePwned.includes('inline-script') && livePwned.includes('img-onerror'), `live payloads ran: ${JSON.stringify(livePwned)}`);
  assert.ok(h.server.pwned().length > 0, 'live payloads reached the server');

  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(600);
  const mid = await pageNow(page);
  await sleep(400);
  await page.click('#inject');
  await page.waitForFunction(() => window.__payloadsInjected === 1);
  await sleep(800);
  const liveDyn = await page.evaluate(() => ({
    dynText: document.getElementById('dyn-text').textContent,
    escapedText: document.getElementById('escaped-text').textContent,
    attrBreakout: document.getElementById('attr-breakout').getAttribute('title'),
    pwned: window.__pwned,
  }));
  assert.ok(liveDyn.pwned.includes('dyn-inline-script'), `dynamic payloads ran live: ${JSON.stringify(liveDyn.pwned)}`);
  await h.stopRecording(tabId);
  const s = (await h.list()).find((x) => x.id === sessionId);
  assert.ok(s, 'session listed');

  // From here on, the test server must hear nothing.
  await page.close();
  await sleep(500);
  h.server.clearLog();
  const dialogsBefore = h.dialogs.length;
  const quietFrom = Date.now();

  const results = {};
  for (const [name, at] of [['end', 'end'], ['mid', Math.round(mid - s.startedAt)]]) {
    const replay = await h.openReplay(sessionId, at);
    await replay.evaluate(() => {
      window.__docAtReady = document.getElementById('replay-frame').contentDocument;
    });
    await sleep(1000);
    results[name] = await replay.evaluate(inspectReplay);
    results[name].frames = replay.frames().map((f) => f.url());
    results[name].replayUrl = replay.url();
    await replay.close();
  }
  await sleep(300);

  const requests = h.server.requestsSince(quietFrom).map((r) => `${r.method} ${r.url} (dest=${r.secFetchDest}, referer=${r.referer})`);
  assert.deepEqual(requests, [], 'requests that reached the test server during the replays');
  assert.deepEqual(h.dialogs.slice(dialogsBefore), [], 'dialogs opened during the replays');

  for (const [name, r] of Object.entries(results)) {
    assert.ok(r.intro && r.elementCount > 50, `${name}: the replay shows the page (${r.elementCount} elements)`);
    assert.equal(r.framePwned, 'undefined', `${name}: window.__pwned in the replay frame`);
    assert.equal(r.pagePwned, 'undefined', `${name}: window.__pwned in the replay page`);
    // Not navigated: the same Document as at ready time, at about:blank/about:srcdoc — or at the
    // replay page's own URL, which is what document.open() (used by the player to reset the
    // frame) gives the frame's document; a navigation would leave neither.
    assert.equal(r.sameDocument, true, `${name}: the replay frame's document was replaced (navigated?) — now at ${r.frameUrl}`);
    assert.ok(/^about:(blank|srcdoc)$/.test(r.frameUrl) || r.frameUrl === r.replayUrl, `${name}: the replay frame navigated to ${r.frameUrl}`);
    // A recorded iframe shows its recorded document, written by the player with document.open()
    // (so at the replay page's URL), or is empty; it never loads anything.
    for (const u of r.nested) assert.ok(u === null || u === r.replayUrl || /^about:(blank|srcdoc)$/.test(u), `${name}: a recorded iframe navigated to ${u}`);
    for (const u of r.frames) assert.ok(u === r.replayUrl || /^about:(blank|srcdoc)$/.test(u), `${name}: frame at ${u}`);
    assert.deepEqual(r.problems, [], `${name}: dangerous markup left in the replay`);
    assert.equal(r.escapedText, liveDyn.escapedText, `${name}: markup-looking text stays text`);
    assert.equal(r.attrBreakout, liveDyn.attrBreakout, `${name}: markup-looking attribute stays an attribute`);
  }
  assert.equal(results.end.hasDynamic, true, 'the end shows the dynamically injected payloads');
  assert.equal(results.end.dynText, liveDyn.dynText);
  assert.equal(results.mid.hasDynamic, false, 'the midpoint is before the injection');
});
