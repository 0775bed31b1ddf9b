// A page's stylesheets, fonts and images are stored with its recording, so that the replay looks
// as the page did with no request to the recorded site:
// - a cross-origin stylesheet served without CORS (the page's own scripts, and so the recorder,
//   cannot read its rules), with an `@import`, custom properties of any case and `var()` in a
//   shorthand (which the CSSOM serialises as nothing);
// - a web font declared in the imported sheet (on the page's origin: fonts need CORS), a background image, an `<img>` and an inline
//   `style` URL, on both origins.
// The session is then exported (the file carries the stored files), imported, and deleted: the
// stored files shared by both sessions go with the last one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startHarness, startServer, liveDom, replayDom, assertSameDom, sleep, waitFor, REPO } from './harness.mjs';

let h;
let site; // the page's origin (127.0.0.1)
let other; // the stylesheets' and font's origin (localhost, another port)
let root;

const svg = (color) => `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="${color}"/></svg>`;

before(async () => {
  h = await startHarness();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tabreel-assets-'));
  site = await startServer({ root });
  other = await startServer({ root });
  const xo = `http://localhost:${other.port}`;
  fs.writeFileSync(
    path.join(root, 'page.html'),
    `<!doctype html>
<html><head><meta charset="utf-8"><title>assets</title>
<link rel="stylesheet" href="${xo}/xo.css">
<link rel="stylesheet" href="local.css">
</head><body>
<h1 id="title">Stored assets</h1>
<div id="bg"></div>
<img id="img" src="pic.svg" alt="pic">
<p id="font">Web font text</p>
<div id="inline" style="background-image: url('pic.svg'); width: 12px; height: 12px"></div>
</body></html>`,
  );
  fs.writeFileSync(path.join(root, 'xo.css'), '@import "xo-imported.css";\n:root { --Accent: rgb(200, 30, 40); --pad: 7px; }\n#title { color: var(--Accent); padding: var(--pad) 3px; }\n');
  fs.writeFileSync(
    path.join(root, 'xo-imported.css'),
    // Fonts are fetched with CORS: this one is on the page's origin.
    `@font-face { font-family: "Tabreel Test"; src: url("${site.url('font.woff2')}") format("woff2"); }\n#font { font-family: "Tabreel Test", monospace; }\n#bg { width: 40px; height: 40px; background-image: url("bg.svg"); }\n`,
  );
  fs.writeFileSync(path.join(root, 'local.css'), '#img { width: 40px; height: 40px; border: 2px solid rgb(1, 2, 3); }\n');
  fs.writeFileSync(path.join(root, 'pic.svg'), svg('rgb(0, 128, 0)'));
  fs.writeFileSync(path.join(root, 'bg.svg'), svg('rgb(0, 0, 255)'));
  fs.copyFileSync(path.join(REPO, 'node_modules', 'katex', 'dist', 'fonts', 'KaTeX_Main-Regular.woff2'), path.join(root, 'font.woff2'));
});

after(async () => {
  await h?.close();
  await site?.close();
  await other?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Runs in a document: what the page looks like, as far as its assets go. */
async function looks(doc) {
  await doc.fonts.ready;
  const cs = (sel) => doc.defaultView.getComputedStyle(doc.querySelector(sel));
  const img = doc.getElementById('img');
  if (!img.complete) await new Promise((r) => img.addEventListener('load', r, { once: true }) || setTimeout(r, 3000));
  const font = Array.from(doc.fonts).find((f) => f.family.replace(/"/g, '') === 'Tabreel Test');
  return {
    titleColor: cs('#title').color,
    titlePadding: cs('#title').padding,
    imgBorder: cs('#img').borderTopColor,
    imgLoaded: img.naturalWidth,
    font: font ? font.status : 'absent',
    fontUsed: doc.fonts.check('16px "Tabreel Test"'),
    bg: /^url\(/.test(cs('#bg').backgroundImage),
    inline: /^url\(/.test(cs('#inline').backgroundImage),
  };
}

const liveLooks = (page) => page.evaluate(`(${looks})(document)`);
const replayLooks = (replay) => replay.evaluate(`(${looks})(document.getElementById('replay-frame').contentDocument)`);

/** Counts of the extension's stored files and asset references (read in an extension page). */
async function storedCounts() {
  const page = await h.extPage();
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('tabreel');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['blobs', 'blob_refs', 'assets'], 'readonly');
          const blobs = tx.objectStore('blobs').count();
          const refs = tx.objectStore('blob_refs').count();
          const assets = tx.objectStore('assets').count();
          tx.oncomplete = () => {
            db.close();
            resolve({ blobs: blobs.result, refs: refs.result, assets: assets.result });
          };
        };
      }),
  );
}

test('stylesheets (cross-origin, imported), fonts and images replay from the recording alone', { timeout: 120_000 }, async () => {
  const page = await h.context.newPage();
  await page.goto(site.url(`page.html?tab=${Date.now().toString(36)}`));
  await page.bringToFront();
  const live = await liveLooks(page);
  assert.deepEqual(
    live,
    { titleColor: 'rgb(200, 30, 40)', titlePadding: '7px 3px', imgBorder: 'rgb(1, 2, 3)', imgLoaded: 40, font: 'loaded', fontUsed: true, bg: true, inline: true },
    'the live page (test premise)',
  );
  const unreadable = await page.evaluate(() => {
    try {
      return document.styleSheets[0].cssRules.length < 0;
    } catch (e) {
      return true;
    }
  });
  assert.ok(unreadable, 'the cross-origin sheet is unreadable to the page (test premise)');

  const initial = await storedCounts();
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(600);
  const dom = await liveDom(page);
  await h.stopRecording(tabId);
  const stored = await storedCounts();
  assert.ok(stored.assets - initial.assets >= 6, `references stored: ${JSON.stringify({ initial, stored })}`);

  const quietFrom = Date.now();
  const replay = await h.openReplay(sessionId, 'end');
  assert.deepEqual(await replayLooks(replay), live, 'the replay looks as the page did');
  await sleep(300);
  const requests = [...site.requestsSince(quietFrom), ...other.requestsSince(quietFrom)].map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(requests, [], 'no request reached the recorded site during the replay');
  await assertSameDom(await replayDom(replay), dom, 'assets');
  await replay.close();

  // Export carries the stored files; import brings them back; the files are stored once.
  const { text, file } = await h.exportParsed(sessionId);
  const urls = file.assets.map((a) => a.url).sort();
  for (const want of [`http://localhost:${other.port}/xo.css`, `http://localhost:${other.port}/xo-imported.css`, site.url('font.woff2'), `http://localhost:${other.port}/bg.svg`, site.url('pic.svg'), site.url('local.css')]) {
    assert.ok(urls.includes(want), `${want} is in the export (${urls.join(', ')})`);
  }
  const font = file.blobs.find((b) => b.hash === file.assets.find((a) => a.url.endsWith('/font.woff2')).hash);
  assert.equal(font.mime, 'font/woff2');
  assert.equal(Buffer.from(font.data, 'base64').length, fs.statSync(path.join(root, 'font.woff2')).size);
  const imported = (await h.sendOk({ cmd: 'import', data: text })).sessionId;
  assert.notEqual(imported, sessionId);
  const afterImport = await storedCounts();
  assert.equal(afterImport.blobs, stored.blobs, 'imported files that are stored already are not stored twice');
  assert.equal(afterImport.assets, stored.assets + file.assets.length);
  assert.equal(afterImport.refs, stored.refs + file.blobs.length, 'the import holds each of its files once');
  const replayImported = await h.openReplay(imported, 'end');
  assert.deepEqual(await replayLooks(replayImported), live, 'the imported session replays as the page looked');
  await replayImported.close();

  // A file whose stored file was tampered with is refused, and nothing is stored.
  const tampered = JSON.parse(text);
  tampered.blobs[0].data = Buffer.from('not what was hashed').toString('base64');
  const refused = await h.send({ cmd: 'import', data: JSON.stringify(tampered) });
  assert.equal(refused.ok, false);
  assert.match(refused.error, /does not match its content/);
  assert.deepEqual(await storedCounts(), afterImport);

  // Deleting one session keeps the files the other uses; deleting both removes them.
  await h.sendOk({ cmd: 'delete', id: sessionId });
  assert.deepEqual(await storedCounts(), { blobs: afterImport.blobs, refs: afterImport.refs - file.blobs.length, assets: afterImport.assets - file.assets.length });
  await h.sendOk({ cmd: 'delete', id: imported });
  await waitFor(async () => JSON.stringify(await storedCounts()) === JSON.stringify(initial), { timeout: 5000, message: 'stored files deleted with their sessions' });
});
