// A page with a strict Content-Security-Policy: recording must work, replay must match, and the
// extension must never cause a CSP violation that the page can see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, liveDom, replayDom, assertSameDom, sleep } from './harness.mjs';

// The policy named in the issue, github.com's shape, and one that lets the page's stylesheet load.
// None of them allows 'wasm-unsafe-eval', so any attempt to compile wasm would be a violation.
const POLICIES = [
  "default-src 'none'; script-src 'self'",
  "script-src 'self'",
  "default-src 'none'; script-src 'self'; style-src 'self'",
];

let h;
before(async () => {
  const headers = {};
  POLICIES.forEach((csp, i) => {
    headers[i === 0 ? '/csp.html' : `/csp.html?policy=${i}`] = { 'Content-Security-Policy': csp };
  });
  h = await startHarness({ headers });
});
after(async () => {
  await h?.close();
});

const violations = (page) => page.evaluate(() => JSON.stringify(window.__violations));

for (const [i, policy] of POLICIES.entries()) test(`csp.html under "${policy}": record, replay equals live, no CSP violation`, { timeout: 90_000 }, async () => {
  const page = await h.openPage(i === 0 ? 'csp.html' : `csp.html?policy=${i}`);
  const served = (await fetch(page.url())).headers.get('content-security-policy'); // from Node, not the page
  assert.equal(served, policy, 'the page is served with the policy under test');
  // The policy is really in force and the detector works: an inline script is refused and seen.
  const probe = await page.evaluate(async () => {
    window.__inlineRan = false;
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.head.appendChild(s);
    await new Promise((r) => setTimeout(r, 100));
    s.remove();
    const seen = window.__violations.length;
    window.__violations.length = 0;
    return { ran: window.__inlineRan, seen };
  });
  assert.equal(probe.ran, false, 'the inline script must be blocked by the CSP');
  assert.ok(probe.seen >= 1, 'the violation detector must see the blocked inline script');
  assert.equal(await violations(page), '[]');
  // csp.js (same origin) ran: the button works before recording.
  await page.click('#add');
  assert.equal(await page.textContent('#tick'), '1');

  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(300);
  await page.mouse.move(100, 100, { steps: 4 });
  await page.click('#name');
  await page.keyboard.type('Strict Sam', { delay: 10 });
  await page.click('#agree');
  await page.focus('#choice');
  await page.keyboard.press('ArrowDown');
  await page.click('#comment');
  await page.keyboard.type('under a strict policy');
  for (let i = 0; i < 3; i++) await page.click('#add');
  await page.mouse.wheel(0, 200);
  await sleep(500);
  const live = await liveDom(page, { scroll: true });
  await h.stopRecording(tabId);
  await sleep(500);

  const v = JSON.parse(await violations(page));
  assert.deepEqual(v, [], `CSP violations seen by the page during start/record/stop: ${JSON.stringify(v, null, 1)}`);

  const sessions = await h.list();
  const s = sessions.find((x) => x.id === sessionId);
  assert.ok(s && s.eventCount > 0 && s.bytes > 0, `listed: ${JSON.stringify(s)}`);

  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay, { scroll: true }), live, 'csp-end');
  // The stylesheet was inlined (its text was readable) or kept as a link; either way it is there.
  const sheets = await replay.evaluate(
    () => document.getElementById('replay-frame').contentDocument.querySelectorAll('style[data-tabreel-href], link[rel~="stylesheet"]').length,
  );
  assert.ok(sheets >= 1, 'the replay carries the page stylesheet');
  await replay.close();

  const v2 = JSON.parse(await violations(page));
  assert.deepEqual(v2, [], `CSP violations after replay: ${JSON.stringify(v2)}`);
  await page.close();
});
