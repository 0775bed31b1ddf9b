// A page large enough that the recorder's memory grows while it serialises (wasm2js grows memory
// by swapping its ArrayBuffer; without the build's fix, strings then silently come back empty).
// Every row's text must arrive intact, in the snapshot and in a later mutation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, liveDom, replayDom, assertSameDom, sleep, eventsOfKind } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

test('a 20000-row page is recorded completely and replays equal to the live DOM', { timeout: 180_000 }, async () => {
  const page = await h.openPage('big.html');
  await page.waitForFunction(() => window.__bigReady === true);
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(500);
  await page.click('#more');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 22000);
  await sleep(600);
  const live = await liveDom(page);
  await h.stopRecording(tabId);

  const { file, text } = await h.exportParsed(sessionId);
  const [snapshot] = eventsOfKind(file, 'snapshot');
  assert.ok(snapshot, `the export holds a snapshot (it holds ${file.events.length} events of kinds ${[...new Set(file.events.map((e) => e.data.kind))]})`);
  // The snapshot of a loaded page comes in slices: its first nodes, then insertions.
  const recorded = [...snapshot.data.nodes, ...eventsOfKind(file, 'mutation').flatMap((e) => (e.data.adds || []).flatMap((a) => a.nodes))];
  const texts = recorded.filter((n) => n.type === 'text').map((n) => n.text);
  for (const i of [0, 1, 9999, 19999]) {
    assert.ok(texts.includes(`row ${i}`), `snapshot holds "row ${i}"`);
    assert.ok(texts.includes(`text ünïcödé ${i} — ${'x'.repeat(i % 17)}`), `snapshot holds row ${i}'s unicode text`);
  }
  const empty = recorded.filter((n) => n.type === 'element' && n.tag === 'tr' && !(n.attrs || []).some(([k]) => k === 'data-row'));
  assert.equal(empty.length, 0, 'every row kept its attributes');
  assert.ok(text.includes('"row 21999"'), 'the rows added while recording are in the export');

  const replay = await h.openReplay(sessionId, 'end');
  await assertSameDom(await replayDom(replay), live, 'big-end');
  await replay.close();
  await page.close();
});
