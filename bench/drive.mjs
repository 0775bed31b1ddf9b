// What each bench case does in its measured window, once the tab is on the blank page: shared by
// the bench (bench/run.mjs) and its tracer (bench/trace.mjs), so both measure the same work.

import { sleep } from '../tests/e2e/harness.mjs';
import { prng } from './workloads.mjs';

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
