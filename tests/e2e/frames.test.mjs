// Every frame of a recorded tab is recorded and stitched into one replay: a same-origin iframe,
// a `srcdoc` iframe, a cross-origin iframe (another host and port: a separate process the page
// cannot read) and an `about:blank` iframe that a script adds and writes into after recording
// started. Each changes (its own script, the parent's script, typing) while recorded. The replay
// must show each frame's document as it was live, inside the iframe that showed it, with no
// request to either origin; the top-level document too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startHarness, startServer, liveDom, replayDom, normalizedDom, assertSameDom, sleep, eventsOfKind } from './harness.mjs';

let h;
let site; // the page's origin (127.0.0.1)
let other; // the cross-origin frame's (localhost, another port)
let root;

const CHILD = `<!doctype html>
<html><head><meta charset="utf-8"><style>body { background: rgb(230, 240, 255); margin: 4px }</style></head>
<body><canvas id="c" width="20" height="10"></canvas><p id="count">0</p><input id="t"><ul id="list"></ul>
<script>
{
  const ctx = document.getElementById('c').getContext('2d');
  ctx.fillStyle = location.host.startsWith('localhost') ? 'rgb(10, 20, 200)' : 'rgb(200, 10, 20)';
  ctx.fillRect(0, 0, 20, 10);
}
window.bump = () => {
  const c = document.getElementById('count');
  c.textContent = String(+c.textContent + 1);
  const li = document.createElement('li');
  li.textContent = 'item ' + c.textContent + ' from ' + location.host;
  document.getElementById('list').appendChild(li);
};
</script></body></html>`;

before(async () => {
  h = await startHarness();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tabreel-frames-'));
  site = await startServer({ root });
  other = await startServer({ root });
  fs.writeFileSync(path.join(root, 'child.html'), CHILD);
  fs.writeFileSync(
    path.join(root, 'page.html'),
    `<!doctype html>
<html><head><meta charset="utf-8"><title>frames</title>
<style>iframe { width: 280px; height: 120px; border: 3px solid rgb(0, 100, 0); padding: 2px }</style></head>
<body><h1>Frames</h1>
<iframe id="same" src="child.html"></iframe>
<iframe id="srcdoc" srcdoc="<p id=p>srcdoc <b>start</b></p><input id=t>"></iframe>
<iframe id="xo" src="http://localhost:${other.port}/child.html"></iframe>
<div id="slot"></div>
<script>
window.addBlank = () => {
  const f = document.createElement('iframe');
  f.id = 'blank';
  document.getElementById('slot').appendChild(f);
  f.contentDocument.body.innerHTML = '<p id="q">written by the parent</p><input id="t">';
};
</script></body></html>`,
  );
});

after(async () => {
  await h?.close();
  await site?.close();
  await other?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** The normalised document of a Playwright frame (any origin: Playwright reaches every frame). */
async function frameDom(frame, opts) {
  const doc = await frame.evaluateHandle(() => document);
  try {
    return await normalizedDom(doc, opts);
  } finally {
    await doc.dispose();
  }
}

/** The normalised document the replay shows in the iframe with id `id`. */
async function replayFrameDom(replay, id, opts) {
  const doc = await replay.evaluateHandle((id) => document.getElementById('replay-frame').contentDocument.getElementById(id).contentDocument, id);
  try {
    return await normalizedDom(doc, { ...opts, role: 'replay' });
  } finally {
    await doc.dispose();
  }
}

test('same-origin, srcdoc, cross-origin and script-written frames replay inside their iframes', { timeout: 120_000 }, async () => {
  const page = await h.context.newPage();
  await page.goto(site.url('page.html'));
  await page.bringToFront();
  await page.waitForFunction(() => document.readyState === 'complete');
  const xoFrame = () => page.frames().find((f) => f.url().startsWith(`http://localhost:${other.port}/`));
  const sameFrame = () => page.frames().find((f) => f.url() === site.url('child.html'));
  await page.waitForFunction(() => document.getElementById('same').contentDocument?.getElementById('t'));
  assert.ok(xoFrame(), 'the cross-origin frame loaded');
  await xoFrame().waitForFunction(() => document.readyState === 'complete');

  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(500);
  // Changes in each frame, made by its own script, by the parent's and by typing.
  await sameFrame().evaluate(() => window.bump());
  await page.frameLocator('#same').locator('#t').click();
  await page.keyboard.type('same origin', { delay: 5 });
  await page.evaluate(() => (document.getElementById('srcdoc').contentDocument.querySelector('b').textContent = 'changed by the parent'));
  await page.frameLocator('#srcdoc').locator('#t').fill('in srcdoc');
  await xoFrame().evaluate(() => window.bump());
  await xoFrame().evaluate(() => window.bump());
  await page.frameLocator('#xo').locator('#t').click();
  await page.keyboard.type('cross origin', { delay: 5 });
  await page.evaluate(() => window.addBlank());
  await sleep(500);
  await page.frameLocator('#blank').locator('#t').fill('in about:blank');
  await page.evaluate(() => (document.getElementById('blank').contentDocument.getElementById('q').textContent = 'changed later'));
  await page.evaluate(() => (document.querySelector('h1').textContent = 'Frames, changed'));
  await sleep(800);

  const opts = { role: 'live', scroll: true, frames: true, skipSelector: '#xo' };
  const live = await liveDom(page, opts);
  for (const expected of ['{value="same origin"}', '"changed by the parent"', '{value="in srcdoc"}', '"changed later"', '{value="in about:blank"}', '"item 1 from 127.0.0.1']) {
    assert.ok(live.includes(expected), `the live page shows ${expected}`);
  }
  const liveXo = await frameDom(xoFrame(), { role: 'live', scroll: true });
  assert.ok(liveXo.includes('"item 2 from localhost') && liveXo.includes('{value="cross origin"}'), liveXo);
  await h.stopRecording(tabId);

  const { file } = await h.exportParsed(sessionId);
  const frameIds = new Set(file.events.filter((e) => e.frame).map((e) => e.frame));
  assert.ok(frameIds.size >= 4, `events of four frames besides the top-level one (got ${[...frameIds]})`);
  const links = eventsOfKind(file, 'frame_host');
  assert.ok(links.length >= 4 && links.every((e) => frameIds.has(e.data.child) && !e.frame), `the page names the iframe of every frame: ${JSON.stringify(links)}`);

  const pictures = eventsOfKind(file, 'canvas_frame');
  assert.ok(pictures.length >= 2 && pictures.every((e) => frameIds.has(e.frame)), `the canvases of the frames were recorded in their frames: ${JSON.stringify(pictures.map((e) => e.frame))} of ${JSON.stringify(eventsOfKind(file, 'snapshot').map((e) => [e.frame, e.data.url]))}`);

  const requests = () => site.log.length + other.log.length;
  const before = requests();
  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay, { ...opts, role: 'replay' }), live, 'frames-end');
  await assertSameDom(await replayFrameDom(replay, 'xo', { scroll: true }), liveXo, 'frames-end-cross-origin');
  // Frames are still sandboxed without scripts, and same-origin with the replay page.
  const sandbox = await replay.evaluate(() => {
    const doc = document.getElementById('replay-frame').contentDocument;
    return ['same', 'xo'].map((id) => {
      const w = doc.getElementById(id).contentWindow;
      let ran = false;
      try {
        w.eval('1');
        ran = true;
      } catch {}
      return { ran, blank: !doc.getElementById(id).hasAttribute('src') };
    });
  });
  assert.deepEqual(sandbox, [{ ran: false, blank: true }, { ran: false, blank: true }]);
  // Each frame's canvas picture is drawn into the canvas of that frame's replayed document, and
  // shown as its content there (by a sheet of that document: the frame paints no canvas).
  const canvases = await replay.evaluate(() => {
    const doc = document.getElementById('replay-frame').contentDocument;
    return ['same', 'xo'].map((id) => {
      const canvas = doc.getElementById(id).contentDocument.getElementById('c');
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const ctx = copy.getContext('2d');
      ctx.drawImage(canvas, 0, 0);
      const content = canvas.ownerDocument.defaultView.getComputedStyle(canvas).content;
      return { pixel: Array.from(ctx.getImageData(5, 5, 1, 1).data), content: content.startsWith('url("blob:') };
    });
  });
  assert.deepEqual(canvases, [{ pixel: [200, 10, 20, 255], content: true }, { pixel: [10, 20, 200, 255], content: true }]);
  // Seeking back to just before the cross-origin frame first changed shows it as it was then.
  const xoId = eventsOfKind(file, 'snapshot').find((e) => e.frame && e.data.url.startsWith(`http://localhost:${other.port}/`)).frame;
  const firstChange = file.events.find((e) => e.frame === xoId && e.data.kind === 'mutation');
  const start = await h.openReplay(sessionId, firstChange.t - file.session.startedAt - 1, { page: replay });
  const xoAtStart = await replayFrameDom(start, 'xo', {});
  assert.ok(xoAtStart.includes('#text "0"') && !xoAtStart.includes('item 1'), xoAtStart);
  const end = await h.openReplay(sessionId, 'end', { page: replay });
  await assertSameDom(await replayFrameDom(end, 'xo', { scroll: true }), liveXo, 'frames-end-cross-origin-again');
  await replay.close();
  assert.equal(requests(), before, `no request reached either origin during the replay: ${JSON.stringify([...site.log, ...other.log].slice(-5))}`);
  await page.close();
});
