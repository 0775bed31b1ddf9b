// What the bench's scripts share, so they measure the same thing: the browser each mode runs in
// (rrweb injected before page scripts, or the extension and the harness that drives it), and
// what each case does in its measured window once the tab is on the blank page. Used by
// bench/run.mjs, bench/trace.mjs and bench/per-event.mjs.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Harness, launchBrowser, sleep } from '../tests/e2e/harness.mjs';
import { prng } from './workloads.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** rrweb's UMD build (npm `rrweb`, pinned in package.json). */
export const RRWEB_UMD = path.join(ROOT, 'node_modules', 'rrweb', 'dist', 'rrweb.umd.cjs');

// Not on about:blank: rrweb.record there (a new tab's first document) crashes Chromium's renderer.
const RRWEB_INIT = `${fs.readFileSync(RRWEB_UMD, 'utf8')}
;window.__rr = [];
if (location.protocol !== 'about:') rrweb.record({ emit(e) { window.__rr.push(e); } });`;

// What any recorder built on a MutationObserver pays, with nothing recorded: the browser queues a
// record per change and hands them over. The options are tabreel's (capture/recorder.rs).
const OBSERVER_INIT = `new MutationObserver(() => {}).observe(document, { childList: true, attributes: true, characterData: true, subtree: true });`;

/** Every mode the bench knows (its columns, in order); bench/README.md says what each is. */
export const MODES = ['none', 'off', 'observer', 'rrweb', 'tabreel', 'tabreel-b', 'tabreel-js', 'tabreel-start'];
/** The modes that record the workload from the blank page on (the others record nothing, or start later). */
export const RECORDS_FROM_BLANK = ['tabreel', 'tabreel-b', 'tabreel-js'];

/** The policy `tabreel-js` pages are served with: it refuses wasm and allows everything else. */
export const NO_WASM_POLICY = "default-src * data: blob: 'unsafe-inline'";
/** Server headers that give each of `files` (name → file) that policy when asked with `?csp=nowasm`. */
export const noWasmHeaders = (files) => Object.fromEntries(Object.values(files).map((f) => [`/${f}?csp=nowasm`, { 'Content-Security-Policy': NO_WASM_POLICY }]));
/** The query a page is asked with in `mode` (`tabreel-js` gets the policy). */
export const modeQuery = (mode) => (mode === 'tabreel-js' ? '&csp=nowasm' : '');

/** A bench case's kind: `bigdom-50000` → `bigdom`. */
export const kindOf = (name) => name.replace(/-\d+$/, '');

/**
 * A fresh browser for `mode`: `rrweb` gets rrweb recording every page (events in
 * `window.__rr`), `observer` an observer that does nothing with its records; `off` and `tabreel…` get the extension from `extensionDir` and a harness `h`
 * with its extension page open (in `off` too, so both load the same); `initScripts` go into
 * every mode's pages.
 */
export async function openBrowser(server, mode, extensionDir, initScripts = []) {
  const withExt = mode === 'off' || mode.startsWith('tabreel');
  const browser = await launchBrowser({ extensionDir: withExt ? extensionDir : null });
  const h = withExt ? new Harness(server, browser) : null;
  try {
    if (h) await h.extPage();
    for (const content of initScripts) await browser.context.addInitScript({ content });
    if (mode === 'rrweb') await browser.context.addInitScript({ content: RRWEB_INIT });
    if (mode === 'observer') await browser.context.addInitScript({ content: OBSERVER_INIT });
  } catch (e) {
    await browser.close();
    throw e;
  }
  return { browser, h };
}

/** Case kind (`bigdom`, `storm`, …) → async (page, url, { idleSeconds, mark }) → extra numbers. */
export const WORKLOADS = {
  async bigdom(page, url) {
    await page.goto(url, { waitUntil: 'load', timeout: 300_000 });
    return { loadMs: await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd) };
  },
  async storm(page, url) {
    await page.goto(url);
    await page.waitForFunction(() => window.__benchDone === true, null, { polling: 200, timeout: 300_000 });
    return { stormMs: await page.evaluate(() => window.__benchMs) };
  },
  'storm-css'(page, url) {
    return WORKLOADS.storm(page, url);
  },
  async interactions(page, url) {
    await page.goto(url);
    const t0 = Date.now();
    const rnd = prng(3);
    const at = await page.evaluate(() => {
      const c = (el) => {
        const r = el.getBoundingClientRect();
        return [r.x + r.width / 2, r.y + r.height / 2];
      };
      return { buttons: [...document.querySelectorAll('.btn')].map(c), notes: c(document.getElementById('notes')), scroller: c(document.getElementById('scroller')), field: c(document.getElementById('f0')) };
    });
    for (let i = 0; i < 2000; i++) await page.mouse.move(Math.round(rnd() * 1200) + 20, Math.round(rnd() * 700) + 20);
    for (let i = 0; i < 300; i++) {
      const [x, y] = at.buttons[Math.floor(rnd() * at.buttons.length)];
      await page.mouse.click(x, y);
      await page.mouse.move(x + 30, y + 40, { steps: 3 });
    }
    await page.mouse.click(...at.notes);
    await page.keyboard.type('The quick brown fox jumps over the lazy dog. '.repeat(12).slice(0, 500));
    await page.mouse.click(...at.field);
    await page.keyboard.type('hello tabreel');
    await page.mouse.move(...at.scroller);
    for (let i = 0; i < 200; i++) await page.mouse.wheel(0, i % 50 < 40 ? 60 : -120);
    return { driveMs: Date.now() - t0 };
  },
  async idle(page, url, { idleSeconds, mark }) {
    await page.goto(url);
    await sleep(2000);
    await mark(); // steady state from here
    await sleep(idleSeconds * 1000);
    await mark(); // to here (still recording: a stop merges tabreel's chunks)
    return {};
  },
};
