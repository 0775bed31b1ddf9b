// Canvas (2D and WebGL without preserveDrawingBuffer), video and selection: recorded and replayed
// with their pixels and state, repeated pictures stored once, offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { PNG } from 'pngjs';

import { startHarness, sleep, pageNow, eventsOfKind } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** Longer than the sampler's longest wait for an unchanged canvas (capture/canvas.rs). */
const SAMPLE_WAIT_MS = 1500;

/** RGBA of a pixel of a canvas in a document (`frame`: read inside the replay frame). */
function pixelOf({ id, x, y, frame }) {
  const doc = frame ? document.getElementById('replay-frame').contentDocument : document;
  const canvas = doc.getElementById(id);
  const copy = document.createElement('canvas');
  copy.width = canvas.width;
  copy.height = canvas.height;
  const ctx = copy.getContext('2d');
  ctx.drawImage(canvas, 0, 0);
  return Array.from(ctx.getImageData(x, y, 1, 1).data);
}

test('canvas pictures, video state and the selection replay as recorded', { timeout: 120_000 }, async () => {
  const page = await h.openPage('canvas.html');
  await page.evaluate(() => window.drawPicture('A'));
  const { tabId, sessionId } = await h.startRecording(page);
  const started = (await h.list()).find((s) => s.id === sessionId).startedAt;
  await page.evaluate(() => {
    // A canvas added while recording: found through the mutation that adds it.
    const late = document.createElement('canvas');
    late.id = 'late';
    late.width = 30;
    late.height = 20;
    late.getContext('2d').fillStyle = '#2e7d32';
    late.getContext('2d').fillRect(0, 0, 30, 20);
    document.body.append(late);
  });
  await sleep(SAMPLE_WAIT_MS);
  const pictureA = await page.evaluate(() => document.getElementById('c2d').toDataURL());
  const afterA = (await pageNow(page)) - started;
  await page.evaluate(() => window.drawPicture('B'));
  await sleep(SAMPLE_WAIT_MS);
  const pictureB = await page.evaluate(() => document.getElementById('c2d').toDataURL());
  assert.notEqual(pictureA, pictureB);
  const afterB = (await pageNow(page)) - started;
  await page.evaluate(() => window.drawPicture('A'));
  await page.evaluate(() => window.startVideo());
  await page.evaluate(() => {
    const v = document.getElementById('vid');
    v.volume = 0.25;
    v.playbackRate = 1.5;
    v.pause();
    const text = document.getElementById('text').firstChild;
    getSelection().setBaseAndExtent(text, 7, text, 16);
  });
  await sleep(SAMPLE_WAIT_MS);
  const live = await page.evaluate(() => {
    const v = document.getElementById('vid');
    return { muted: v.muted, volume: v.volume, rate: v.playbackRate, paused: v.paused, selection: String(getSelection()) };
  });
  assert.equal(live.selection, 'some of t');
  await h.stopRecording(tabId);

  // The file: frames of each canvas, each picture stored once.
  const { file } = await h.exportParsed(sessionId);
  const frames = eventsOfKind(file, 'canvas_frame');
  const ids = [...new Set(frames.map((e) => e.data.target))];
  assert.equal(ids.length, 7, `frames of the 2D canvas, the WebGL canvas, the video, the two canvases sized by the layout, the one in a shadow root and the one added while recording: ${JSON.stringify(frames.map((e) => e.data))}`);
  const byTarget = (id) => frames.filter((e) => e.data.target === id).map((e) => e.data.hash);
  const hashes2d = ids.map(byTarget).find((hs) => hs.length >= 3);
  assert.ok(hashes2d, `one canvas recorded A, B, A: ${JSON.stringify(ids.map(byTarget))}`);
  assert.equal(hashes2d[0], hashes2d[2], 'A again is the same blob');
  assert.notEqual(hashes2d[0], hashes2d[1]);
  assert.equal(new Set(file.blobs.map((b) => b.hash)).size, file.blobs.length, 'blobs are unique in the file');
  assert.deepEqual(new Set(file.blobs.map((b) => b.hash)), new Set(frames.map((e) => e.data.hash)));
  // The store holds each picture once too.
  const stored = await (await h.extPage()).evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('tabreel');
        req.onsuccess = () => {
          const tx = req.result.transaction('blobs', 'readonly');
          const all = tx.objectStore('blobs').getAllKeys();
          all.onsuccess = () => resolve(all.result);
          all.onerror = () => reject(all.error);
        };
        req.onerror = () => reject(req.error);
      }),
  );
  for (const hash of new Set(frames.map((e) => e.data.hash))) assert.ok(stored.includes(hash), `blob ${hash} stored`);
  assert.ok(eventsOfKind(file, 'media').length >= 1, 'media events');
  assert.ok(eventsOfKind(file, 'selection').length >= 1, 'selection events');

  // Replay at the end: the 2D canvas has exactly the live pixels; the WebGL canvas its picture.
  const end = await h.openReplay(sessionId, 'end');
  const replayA = await end.evaluate(() => document.getElementById('replay-frame').contentDocument.getElementById('c2d').toDataURL());
  assert.equal(replayA, pictureA, '2D canvas pixels at the end');
  assert.deepEqual(await end.evaluate(pixelOf, { id: 'gl', x: 5, y: 5, frame: true }), [0, 204, 0, 255], 'WebGL background');
  assert.deepEqual(await end.evaluate(pixelOf, { id: 'gl', x: 30, y: 30, frame: true }), [255, 0, 0, 255], 'WebGL rectangle');
  const shadowed = () => {
    const host = document.getElementById('replay-frame').contentDocument.getElementById('host');
    const c = host.shadowRoot.getElementById('shadowed');
    const copy = document.createElement('canvas');
    copy.width = c.width;
    copy.height = c.height;
    copy.getContext('2d').drawImage(c, 0, 0);
    return Array.from(copy.getContext('2d').getImageData(10, 10, 1, 1).data);
  };
  assert.deepEqual(await end.evaluate(shadowed), [123, 31, 162, 255], 'the canvas in a shadow root');
  assert.deepEqual(await end.evaluate(pixelOf, { id: 'late', x: 10, y: 10, frame: true }), [46, 125, 50, 255], 'the canvas added while recording');
  // ... and they are on screen: a canvas in the script-less frame paints only its fallback, so
  // the replay makes the picture its content (a replaced element, as the live canvas is).
  const box = await end.evaluate(() => {
    const r = document.getElementById('replay-frame').contentDocument.getElementById('gl').getBoundingClientRect();
    const f = document.getElementById('replay-frame').getBoundingClientRect();
    return { x: f.x + r.x, y: f.y + r.y };
  });
  const shot = PNG.sync.read(await end.screenshot({ clip: { x: box.x, y: box.y, width: 40, height: 40 } }));
  const onScreen = (x, y) => Array.from(shot.data.subarray((y * shot.width + x) * 4, (y * shot.width + x) * 4 + 4));
  assert.deepEqual(onScreen(5, 5), [0, 204, 0, 255], 'WebGL background on screen');
  assert.deepEqual(onScreen(30, 30), [255, 0, 0, 255], 'WebGL rectangle on screen');
  // Laid out as live: stretched by a flex row, and 100% wide with a proportional height.
  const rects = (frame) => {
    const doc = frame ? document.getElementById('replay-frame').contentDocument : document;
    return ['gl', 'stretched', 'fluid'].map((id) => {
      const r = doc.getElementById(id).getBoundingClientRect();
      return `${id} ${r.x},${r.y} ${r.width}x${r.height}`;
    });
  };
  const liveRects = await page.evaluate(rects, false);
  assert.deepEqual(liveRects.slice(1).map((r) => r.split(' ')[2]), ['42x64', '200x100'], 'the live canvases are sized by the layout (test premise)');
  assert.deepEqual(await end.evaluate(rects, true), liveRects, 'canvas boxes in the replay');
  const replayed = await end.evaluate(() => {
    const doc = document.getElementById('replay-frame').contentDocument;
    const v = doc.getElementById('vid');
    return { muted: v.muted, volume: v.volume, rate: v.playbackRate, paused: v.paused, poster: v.getAttribute('poster') || '', selection: String(doc.getSelection()) };
  });
  assert.equal(replayed.muted, live.muted);
  assert.equal(replayed.volume, live.volume);
  assert.equal(replayed.rate, live.rate);
  assert.equal(replayed.paused, true);
  assert.match(replayed.poster, /^blob:chrome-extension:/, 'the video shows its recorded frame');
  assert.equal(replayed.selection, live.selection, 'selection');
  assert.deepEqual(end.replayErrors, []);

  // Seeking shows the latest picture at or before the time, backwards too.
  const mid = await h.openReplay(sessionId, Math.round(afterB));
  assert.equal(await mid.evaluate(() => document.getElementById('replay-frame').contentDocument.getElementById('c2d').toDataURL()), pictureB, 'B after B');
  const early = await h.openReplay(sessionId, Math.round(afterA), { page: mid });
  assert.equal(await early.evaluate(() => document.getElementById('replay-frame').contentDocument.getElementById('c2d').toDataURL()), pictureA, 'A before B');
  await Promise.all([end.close(), mid.close(), page.close()]);

  // Export -> import keeps the pictures.
  const text = await h.exportSession(sessionId);
  const imported = await h.sendOk({ cmd: 'import', data: text });
  const again = await h.openReplay(imported.sessionId, 'end');
  assert.equal(await again.evaluate(() => document.getElementById('replay-frame').contentDocument.getElementById('c2d').toDataURL()), pictureA, 'imported');
  await again.close();
});
