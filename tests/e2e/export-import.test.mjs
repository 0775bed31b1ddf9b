// Export → import round trip, delete, and refusal of broken files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { startHarness, sleep } from './harness.mjs';

let h;
let original; // { id, text, file }

before(async () => {
  h = await startHarness();
  // One short recording to work with.
  const page = await h.openPage('demo.html');
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(200);
  await page.click('#name');
  await page.keyboard.type('exported', { delay: 10 });
  await page.click('#add');
  await page.click('#subscribe');
  await page.mouse.move(300, 300, { steps: 3 });
  await sleep(300);
  await h.stopRecording(tabId);
  await page.close();
  const text = await h.exportSession(sessionId);
  original = { id: sessionId, text, file: JSON.parse(text) };
});
after(async () => {
  await h?.close();
});

/** The file without what an import may legitimately change. */
function comparable(file) {
  const copy = structuredClone(file);
  delete copy.session.id;
  delete copy.session.bytes;
  return copy;
}

test('the exported file has the documented shape', async () => {
  const f = original.file;
  assert.equal(f.format, 'tabreel-session');
  assert.equal(f.version, 1);
  assert.equal(f.session.id, original.id);
  for (const k of ['title', 'url', 'startedAt', 'durationMs', 'eventCount', 'bytes']) assert.ok(k in f.session, `session.${k}`);
  assert.equal(f.session.eventCount, f.events.length);
  assert.ok(f.events.length > 0);
  for (const e of f.events) {
    assert.equal(typeof e.t, 'number');
    assert.equal(typeof e.page, 'number');
    assert.equal(typeof e.data?.kind, 'string');
  }
  const snap = f.events.find((e) => e.data.kind === 'snapshot');
  assert.ok(snap, 'a snapshot');
  for (const k of ['url', 'title', 'width', 'height', 'nodes', 'scrolls']) assert.ok(k in snap.data, `snapshot.${k}`);
  assert.equal(snap.data.nodes[0].type, 'document');
  const listed = (await h.list()).find((s) => s.id === original.id);
  assert.ok(listed, 'listed');
  assert.equal(listed.eventCount, f.events.length, 'list eventCount = events in the export');
});

test('export → import → export gives the same file (but id and bytes)', async () => {
  const before = await h.list();
  const r = await h.send({ cmd: 'import', data: original.text });
  assert.equal(r?.ok, true, `import: ${JSON.stringify(r)}`);
  assert.equal(typeof r.sessionId, 'string');
  const importedId = r.sessionId;
  const afterImport = await h.list();
  assert.ok(afterImport.some((s) => s.id === importedId), 'the imported session is listed');
  if (importedId !== original.id) {
    assert.equal(afterImport.length, before.length + 1, 'one more session');
    assert.ok(afterImport.some((s) => s.id === original.id), 'the original is still there');
  }
  const again = JSON.parse(await h.exportSession(importedId));
  assert.equal(again.session.id, importedId);
  assert.deepEqual(comparable(again), comparable(original.file));

  // Delete the imported copy.
  const d = await h.send({ cmd: 'delete', id: importedId });
  assert.equal(d?.ok, true, `delete: ${JSON.stringify(d)}`);
  const afterDelete = await h.list();
  assert.ok(!afterDelete.some((s) => s.id === importedId), 'deleted session is gone from the list');
  const gone = await h.send({ cmd: 'export', id: importedId, format: 'json' });
  assert.equal(gone?.ok, false, `export of a deleted session: ${JSON.stringify(gone).slice(0, 200)}`);
  assert.ok(typeof gone.error === 'string' && gone.error.length > 0);
  if (importedId !== original.id) {
    // The original is untouched.
    assert.equal(await h.exportSession(original.id), original.text);
  } else {
    // Same id: import the original back so the other tests have it.
    const back = await h.send({ cmd: 'import', data: original.text });
    assert.equal(back?.ok, true);
  }
});

test('broken files are refused with a useful message and change nothing', async () => {
  const text = original.text;
  const v2 = JSON.parse(text);
  v2.version = 2;
  const wrong = { format: 'rrweb', version: 1, events: [] };
  const unknownKind = JSON.parse(text);
  unknownKind.session.id = `${original.id}-teleport`;
  unknownKind.events.push({ t: unknownKind.events.at(-1).t + 1, page: 0, data: { kind: 'teleport', to: 'mars' } });
  unknownKind.session.eventCount = unknownKind.events.length;
  const garbage = String.fromCharCode(...crypto.randomBytes(2048));
  const cases = [
    ['truncated (half the text)', text.slice(0, Math.floor(text.length / 2)), /truncat|malformed|JSON|EOF|end of/i],
    ['wrong format', JSON.stringify(wrong), /format|tabreel/i],
    ['version 2', JSON.stringify(v2), /version/i],
    ['garbage bytes', garbage, /JSON|malformed|not a session|parse|syntax|expected/i],
    ['unknown event kind', JSON.stringify(unknownKind), /teleport|unknown|kind|variant/i],
  ];
  const before = await h.list();
  const problems = [];
  for (const [name, data, useful] of cases) {
    const r = await h.send({ cmd: 'import', data });
    const now = await h.list();
    if (!r || r.ok !== false) problems.push(`${name}: expected {ok:false}, got ${JSON.stringify(r)}`);
    else if (typeof r.error !== 'string' || r.error.length < 10) problems.push(`${name}: error is not a useful message: ${JSON.stringify(r.error)}`);
    else if (!useful.test(r.error)) problems.push(`${name}: error does not say what is wrong (${useful}): ${r.error}`);
    if (name === 'version 2' && r && typeof r.error === 'string' && !r.error.includes('2')) problems.push(`${name}: error does not name the version: ${r.error}`);
    try {
      assert.deepEqual(now, before);
    } catch {
      problems.push(`${name}: the session list changed: ${JSON.stringify(now)}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the replay of an unknown session reports an error instead of hanging', async () => {
  await assert.rejects(h.openReplay('no-such-session', 'end', { timeout: 10_000 }), (e) => {
    assert.match(e.message, /failed: .{5,}/, `the replay page sets dataset.error to a message: ${e.message}`);
    return true;
  });
});
