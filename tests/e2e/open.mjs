#!/usr/bin/env node
// The launcher behind `cargo xtask run`: serves tests/pages and opens Chromium with the extension
// on the demo page.
//
// - With a display (DISPLAY set): a real window; it stays open until you close the browser.
// - Without one: says so, runs headless, records ~3 s of scripted interaction on the demo page,
//   stops, prints the session list and the replay URL, saves a screenshot of the replay to
//   tests/out/replay.png and exits 0.
//
// Usage: node tests/e2e/open.mjs [--headless]
import fs from 'node:fs';
import path from 'node:path';

import { startServer, launchBrowser, Harness, OUT_DIR, sleep } from './harness.mjs';

const forceHeadless = process.argv.includes('--headless');
const headed = !!process.env.DISPLAY && !forceHeadless;

async function main() {
  const server = await startServer();
  console.log(`serving tests/pages at ${server.origin}/`);
  if (!headed) {
    console.log(forceHeadless ? 'running headless (--headless).' : 'no display (DISPLAY is not set): running headless and recording a short scripted demo instead.');
  }
  let browser;
  try {
    browser = await launchBrowser({ headless: !headed, viewport: headed ? null : { width: 1280, height: 800 } });
  } catch (e) {
    await server.close();
    throw e;
  }
  const h = new Harness(server, browser);
  console.log(`extension id: ${h.extensionId}`);
  console.log(`popup:  ${h.popupUrl}`);

  if (headed) {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(server.url('demo.html'));
    console.log(`demo page: ${server.url('demo.html')}`);
    console.log('Click the tabreel toolbar button to record. Close the browser window to quit.');
    await new Promise((resolve) => browser.context.on('close', resolve));
    await h.close();
    return;
  }

  try {
    await h.extPage();
    const page = await h.openPage('demo.html');
    const { tabId, sessionId } = await h.startRecording(page);
    console.log(`recording tab ${tabId} as session ${sessionId}…`);
    const t0 = Date.now();
    await page.mouse.move(80, 60, { steps: 8 });
    await page.click('#name');
    await page.keyboard.type('Ada Lovelace', { delay: 40 });
    await page.click('#notes');
    await page.keyboard.press('End');
    await page.keyboard.type(' Recorded by tabreel.', { delay: 20 });
    await page.click('#subscribe');
    await page.click('#size-l');
    await page.click('#password');
    await page.keyboard.type('not-recorded', { delay: 20 });
    for (let i = 0; i < 3; i++) {
      await page.click('#add');
      await sleep(150);
    }
    await page.hover('#scrollbox');
    await page.mouse.wheel(0, 200);
    const left = 3000 - (Date.now() - t0);
    if (left > 0) await sleep(left);
    await h.stopRecording(tabId);
    console.log('stopped.');

    const sessions = await h.list();
    console.log('sessions:');
    for (const s of sessions) {
      console.log(
        `  ${s.id}  ${new Date(s.startedAt).toISOString()}  ${(s.durationMs / 1000).toFixed(1)} s  ${s.eventCount} events  ${s.bytes} bytes  ${s.title} <${s.url}>`,
      );
    }
    const replayUrl = h.replayUrl(sessionId, 'end');
    console.log(`replay: ${replayUrl}`);
    const replay = await h.openReplay(sessionId, 'end');
    fs.mkdirSync(OUT_DIR, { recursive: true });
    const shot = path.join(OUT_DIR, 'replay.png');
    await replay.screenshot({ path: shot, fullPage: false });
    console.log(`screenshot of the replay: ${path.relative(process.cwd(), shot) || shot}`);
  } finally {
    await h.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`open: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  },
);
