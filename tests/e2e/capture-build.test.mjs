// Which build of the capture a document runs: real wasm where its CSP lets a content script
// compile wasm, wasm2js everywhere else (src/shell/capture_build.rs). Whatever the build, the
// page must see no CSP violation and the recording must work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, liveDom, replayDom, assertSameDom, sleep, waitFor } from './harness.mjs';

const ALLOWS = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
const REFUSES = "default-src 'none'; script-src 'self'; style-src 'self'";
const HEADERS = {
  '/csp.html?policy=allows': { 'Content-Security-Policy': ALLOWS },
  '/csp.html?policy=refuses': { 'Content-Security-Policy': REFUSES },
  '/csp.html?policy=report-only': { 'Content-Security-Policy-Report-Only': REFUSES },
};

let h;
before(async () => {
  h = await startHarness({ headers: HEADERS });
});
after(async () => {
  await h?.close();
});

/** `__tabreelCapture.engine` in the extension's isolated world of the page's top frame, once set. */
async function engineOf(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    return await waitFor(
      async () => {
        const contexts = [];
        const listener = (e) => contexts.push(e.context);
        cdp.on('Runtime.executionContextCreated', listener);
        await cdp.send('Runtime.enable');
        await cdp.send('Runtime.disable');
        cdp.off('Runtime.executionContextCreated', listener);
        const { frameTree } = await cdp.send('Page.getFrameTree');
        const worlds = contexts.filter((c) => c.auxData?.frameId === frameTree.frame.id && c.auxData?.type === 'isolated' && c.name === 'tabreel');
        for (const c of worlds) {
          const { result } = await cdp.send('Runtime.evaluate', { expression: 'globalThis.__tabreelCapture?.engine ?? null', contextId: c.id, returnByValue: true });
          if (result.value) return result.value;
        }
        return undefined;
      },
      { timeout: 10_000, message: 'a running capture in the page' },
    );
  } finally {
    await cdp.detach();
  }
}

const violations = (page) => page.evaluate(() => window.__violations.slice());

async function recordSome(page) {
  await page.click('#name');
  await page.keyboard.type('engine', { delay: 10 });
  await page.click('#add');
  await page.click('#agree');
  await sleep(400);
}

const CASES = [
  { name: 'no policy', path: 'csp.html', engine: 'wasm' },
  { name: "a header policy with 'wasm-unsafe-eval'", path: 'csp.html?policy=allows', engine: 'wasm' },
  { name: "a header policy without 'wasm-unsafe-eval'", path: 'csp.html?policy=refuses', engine: 'wasm2js' },
  { name: 'a report-only policy without it (reported, not blocked)', path: 'csp.html?policy=report-only', engine: 'wasm2js' },
  { name: 'a <meta> policy without it (never seen in headers)', path: 'csp-meta.html', engine: 'wasm2js' },
];

for (const c of CASES) test(`recording started on a page with ${c.name} runs the ${c.engine} build, no violation, replay equals live`, { timeout: 90_000 }, async () => {
  const page = await h.openPage(c.path);
  const { tabId, sessionId } = await h.startRecording(page);
  assert.equal(await engineOf(page), c.engine);
  await recordSome(page);
  const live = await liveDom(page);
  await h.stopRecording(tabId);
  assert.deepEqual(await violations(page), [], 'CSP violations seen by the page');
  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay), live, `capture-build ${c.path}`);
  await replay.close();
  await page.close();
});

test('a recording that navigates gets the build each new document allows', { timeout: 90_000 }, async () => {
  const page = await h.openPage('csp.html?policy=refuses');
  const { tabId, sessionId } = await h.startRecording(page);
  assert.equal(await engineOf(page), 'wasm2js');
  for (const [path, engine] of [['csp.html?policy=allows', 'wasm'], ['csp.html?policy=report-only', 'wasm2js'], ['csp.html', 'wasm']]) {
    await page.goto(h.server.url(path));
    assert.equal(await engineOf(page), engine, path);
    await recordSome(page);
    assert.deepEqual(await violations(page), [], `CSP violations on ${path}`);
  }
  const live = await liveDom(page);
  await h.stopRecording(tabId);
  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay), live, 'capture-build navigations');
  await replay.close();
  await page.close();
});
