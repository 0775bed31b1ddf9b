// The popup as a person uses it: the session list, Export (a real download), Replay (a new tab),
// Import (a file chosen in the file input, good and truncated) and Delete, down to the empty list.
// The popup is opened as a tab (its URL), so the active tab of its window is the popup itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';

import { startHarness, sleep, waitFor } from './harness.mjs';

let h;
/** The session recorded through the contract: { id, url, title, text (contract export) }. */
let recorded;
/** The id the popup's import gave the exported file (deleted again in the last test). */
let importedId;

const row = (id) => `#sessions li.session[data-id="${id}"]`;

before(async () => {
  h = await startHarness();
  const initial = await h.list();
  assert.deepEqual(initial, [], 'a fresh profile starts with no sessions');
  const page = await h.openPage('demo.html');
  const url = page.url();
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(300);
  await page.click('#name');
  await page.keyboard.type('popup', { delay: 20 });
  await page.click('#subscribe');
  await page.mouse.move(200, 250, { steps: 4 });
  await sleep(1200); // so that the duration is not zero
  await h.stopRecording(tabId);
  const title = await page.title();
  await page.close();
  recorded = { id: sessionId, url, title, text: await h.exportSession(sessionId) };
});

after(async () => {
  await h?.close();
});

/**
 * Opens the popup in a new tab (in front, so it is the active tab of its window) and waits until
 * Rust has filled it in: the record button has its final text and the list (or #empty) is shown.
 */
async function openPopup() {
  const page = await h.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.popupErrors = errors;
  await page.bringToFront();
  await page.goto(h.popupUrl);
  await waitFor(
    () =>
      page.evaluate(() => {
        const record = document.getElementById('record');
        const status = document.getElementById('status');
        if (status.classList.contains('error')) return { error: status.textContent };
        // The page ships a disabled "● Record this tab"; Rust either disables it with its own
        // text or enables it.
        const labelled = record.textContent === 'This page cannot be recorded' || !record.disabled;
        const listed = document.querySelectorAll('#sessions li.session').length > 0 || !document.getElementById('empty').hidden;
        return labelled && listed;
      }),
    { timeout: 20_000, message: 'the popup to show its record button state and its session list' },
  ).then((v) => {
    if (v && v.error) throw new Error(`the popup shows an error: ${v.error}`);
  }).catch((e) => {
    throw new Error(`${e.message}${errors.length ? `; page errors: ${errors.join(' | ')}` : ''}`);
  });
  return page;
}

/** What the popup shows: record button, status and the rows of the list. */
async function popupState(page) {
  return page.evaluate(() => {
    const record = document.getElementById('record');
    const status = document.getElementById('status');
    const empty = document.getElementById('empty');
    return {
      record: { text: record.textContent, disabled: record.disabled },
      status: { text: status.textContent, error: status.classList.contains('error') },
      emptyShown: !empty.hidden && getComputedStyle(empty).display !== 'none',
      rows: Array.from(document.querySelectorAll('#sessions li.session'), (li) => ({
        id: li.dataset.id,
        title: li.querySelector('.title')?.textContent ?? null,
        url: li.querySelector('.url')?.textContent ?? null,
        facts: li.querySelector('.facts')?.textContent ?? null,
        actions: Array.from(li.querySelectorAll('button[data-action]'), (b) => b.dataset.action),
      })),
    };
  });
}

async function rowIds(page) {
  return (await popupState(page)).rows.map((r) => r.id);
}

test('the popup lists the recorded session and cannot record itself', { timeout: 90_000 }, async () => {
  const popup = await openPopup();
  try {
    await waitFor(() => popup.$(row(recorded.id)), { timeout: 20_000, message: `row ${recorded.id} in the popup` });
    const state = await popupState(popup);
    const listed = (await h.list()).find((s) => s.id === recorded.id);
    assert.ok(listed, 'the session is in {cmd:"list"}');

    assert.equal(state.rows.length, 1, `exactly the one session is listed: ${JSON.stringify(state.rows)}`);
    const r = state.rows[0];
    assert.equal(r.id, recorded.id);
    assert.equal(r.title, recorded.title, 'the title is the recorded page title');
    assert.equal(r.title, 'tabreel demo');
    assert.equal(r.url, recorded.url, 'the url is the recorded page');
    assert.match(r.facts, /\d+:\d\d/, `facts show a m:ss duration: ${r.facts}`);
    assert.match(r.facts, /\d+(\.\d)? (B|KB|MB)\b/, `facts show a size: ${r.facts}`);
    assert.match(r.facts, new RegExp(`\\b${listed.eventCount} events$`), `facts end with the event count ${listed.eventCount}: ${r.facts}`);
    assert.ok(listed.eventCount > 0);
    assert.deepEqual(r.actions, ['replay', 'export', 'delete']);
    assert.equal(state.emptyShown, false, '#empty is hidden while there are sessions');

    // The popup's own tab is the active tab of its window: not recordable.
    assert.equal(state.record.disabled, true, 'the record button is disabled');
    assert.equal(state.record.text, 'This page cannot be recorded');
    assert.equal(state.status.error, false, `no error shown: ${state.status.text}`);
    assert.deepEqual(popup.popupErrors, []);
  } finally {
    await popup.close();
  }
});

test('Export downloads tabreel-<id>.json with the session file', { timeout: 90_000 }, async () => {
  const popup = await openPopup();
  try {
    const button = popup.locator(`${row(recorded.id)} button[data-action="export"]`);
    const [download] = await Promise.all([popup.waitForEvent('download', { timeout: 30_000 }), button.click()]);
    assert.equal(download.suggestedFilename(), `tabreel-${recorded.id}.json`);
    const failure = await download.failure();
    assert.equal(failure, null, `the download failed: ${failure}`);
    const file = await download.path();
    const text = await fsp.readFile(file, 'utf8');
    let parsed;
    assert.doesNotThrow(() => (parsed = JSON.parse(text)), `the download is JSON: ${text.slice(0, 200)}`);
    assert.equal(parsed.format, 'tabreel-session');
    assert.equal(parsed.version, 1);
    assert.equal(parsed.session.id, recorded.id);
    assert.deepEqual(parsed, JSON.parse(recorded.text), 'the downloaded file equals the contract export');
    await waitFor(() => popup.evaluate(() => document.getElementById('status').textContent === 'Exported.'), {
      timeout: 10_000,
      message: '#status "Exported."',
    });
    assert.equal((await popupState(popup)).status.error, false);
  } finally {
    await popup.close();
  }
});

/**
 * Clicks Replay on the recorded session's row and returns the new tab once it reports ready
 * (throws with its dataset.error otherwise).
 */
async function clickReplay(popup) {
  const expected = `${h.extOrigin}/replay.html?session=${recorded.id}`;
  const before = new Set(h.context.pages());
  await popup.locator(`${row(recorded.id)} button[data-action="replay"]`).click();
  const replay = await waitFor(() => h.context.pages().find((p) => !before.has(p) && p.url() === expected), {
    timeout: 20_000,
    message: `a new tab at ${expected} (pages: ${h.context.pages().map((p) => p.url()).join(', ')})`,
  });
  try {
    const tabs = await popup.evaluate(() => chrome.tabs.query({}).then((ts) => ts.map((t) => t.url || t.pendingUrl)));
    assert.equal(tabs.filter((u) => u === expected).length, 1, `one tab at the replay url: ${JSON.stringify(tabs)}`);
    const v = await waitFor(
      () =>
        replay.evaluate(() => {
          const d = document.documentElement.dataset;
          if (d.error) return { error: d.error };
          return d.ready === '1' ? { ready: true } : null;
        }),
      { timeout: 30_000, message: 'dataset.ready or dataset.error in the replay tab' },
    );
    assert.deepEqual(v, { ready: true }, `the replay reports: ${JSON.stringify(v)}`);
    assert.equal(await replay.evaluate(() => !!document.getElementById('replay-frame')?.contentDocument), true, 'iframe#replay-frame is there');
  } catch (e) {
    await replay.close();
    throw e;
  }
  return replay;
}

test('Replay opens replay.html?session=<id> in a new tab that becomes ready', { timeout: 90_000 }, async () => {
  const popup = await openPopup();
  let replay;
  try {
    replay = await clickReplay(popup);
    const status = (await popupState(popup)).status;
    assert.equal(status.error, false, `no error in the popup: ${status.text}`);
  } finally {
    await replay?.close();
    await popup.close();
  }
});

test('the replay opened from the popup shows the recorded page, not an empty frame', { timeout: 90_000 }, async () => {
  const popup = await openPopup();
  let replay;
  try {
    replay = await clickReplay(popup);
    // The demo page had loaded before the recording started, so its first snapshot has the heading.
    const shown = await waitFor(
      () =>
        replay.evaluate(() => {
          const doc = document.getElementById('replay-frame').contentDocument;
          return doc.getElementById('title')?.textContent ?? null;
        }),
      { timeout: 5_000, message: 'the recorded heading in the replay frame' },
    ).catch(async (e) => {
      const frame = await replay.evaluate(() => ({
        time: document.getElementById('time')?.textContent,
        html: document.getElementById('replay-frame').contentDocument.documentElement.outerHTML.slice(0, 300),
      }));
      throw new Error(`${e.message}; the replay shows ${JSON.stringify(frame)}`);
    });
    assert.equal(shown, 'Welcome to the tabreel demo');
  } finally {
    await replay?.close();
    await popup.close();
  }
});

test('Import adds a chosen file to the list; a truncated file is refused and changes nothing', { timeout: 90_000 }, async () => {
  const popup = await openPopup();
  try {
    const before = await rowIds(popup);
    const listBefore = await h.list();
    assert.equal(before.length, listBefore.length);

    await popup.setInputFiles('#import', {
      name: `tabreel-${recorded.id}.json`,
      mimeType: 'application/json',
      buffer: Buffer.from(recorded.text, 'utf8'),
    });
    const status = await waitFor(
      () =>
        popup.evaluate(() => {
          const s = document.getElementById('status');
          return s.textContent ? { text: s.textContent, error: s.classList.contains('error') } : null;
        }),
      { timeout: 30_000, message: '#status after importing' },
    );
    assert.equal(status.error, false, `import failed: ${status.text}`);
    const m = /^Imported as (.+)\.$/.exec(status.text);
    assert.ok(m, `status says "Imported as <id>.": ${status.text}`);
    importedId = m[1];
    assert.notEqual(importedId, '?', 'the import answered a session id');
    assert.notEqual(importedId, recorded.id, 'the taken id was not reused');

    await waitFor(async () => (await rowIds(popup)).length === before.length + 1, { timeout: 20_000, message: 'one more row in the popup' });
    const ids = await rowIds(popup);
    assert.ok(ids.includes(importedId), `the imported session is listed: ${JSON.stringify(ids)}`);
    assert.ok(ids.includes(recorded.id), 'the original is still listed');
    const listAfter = await h.list();
    assert.equal(listAfter.length, listBefore.length + 1);
    assert.ok(listAfter.some((s) => s.id === importedId), 'the contract lists the imported session');
    const importedRow = (await popupState(popup)).rows.find((r) => r.id === importedId);
    assert.equal(importedRow.title, recorded.title);
    assert.equal(importedRow.url, recorded.url);

    // A truncated file.
    const truncated = recorded.text.slice(0, Math.floor(recorded.text.length / 2));
    await popup.setInputFiles('#import', { name: 'truncated.json', mimeType: 'application/json', buffer: Buffer.from(truncated, 'utf8') });
    const refused = await waitFor(
      () =>
        popup.evaluate(() => {
          const s = document.getElementById('status');
          return s.classList.contains('error') ? s.textContent : null;
        }),
      { timeout: 30_000, message: '#status.error after importing a truncated file' },
    );
    assert.match(refused, /truncat|malformed/i, `the error says what is wrong: ${refused}`);
    assert.doesNotMatch(refused, /^Imported/);
    await sleep(500); // a (wrong) refresh of the list would have happened by now
    assert.deepEqual(await rowIds(popup), ids, 'the list in the popup is unchanged');
    assert.deepEqual(await h.list(), listAfter, 'the contract list is unchanged');
    const reopened = await openPopup();
    try {
      assert.deepEqual((await rowIds(reopened)).sort(), [...ids].sort(), 'a freshly opened popup lists the same sessions');
    } finally {
      await reopened.close();
    }
  } finally {
    await popup.close();
  }
});

test('Delete removes sessions from the popup and the store; an empty list says so', { timeout: 90_000 }, async () => {
  const popup = await openPopup();
  try {
    const start = await rowIds(popup);
    assert.equal((await popupState(popup)).emptyShown, false);
    // The imported copy first (when the import test got that far), then everything else this file created.
    const order = [...(importedId && start.includes(importedId) ? [importedId] : []), ...start.filter((id) => id !== importedId)];
    assert.ok(order.length >= 1, 'there is something to delete');
    for (const [k, id] of order.entries()) {
      await popup.locator(`${row(id)} button[data-action="delete"]`).click();
      await waitFor(async () => !(await rowIds(popup)).includes(id), { timeout: 20_000, message: `row ${id} to leave the popup` });
      const state = await popupState(popup);
      assert.equal(state.status.error, false, `no error: ${state.status.text}`);
      assert.equal(state.status.text, 'Deleted.');
      assert.deepEqual(
        state.rows.map((r) => r.id),
        start.filter((x) => !order.slice(0, k + 1).includes(x)),
        'only that row left the list',
      );
      const listed = (await h.list()).map((s) => s.id);
      assert.ok(!listed.includes(id), `{cmd:"list"} no longer has ${id}: ${JSON.stringify(listed)}`);
      const gone = await h.send({ cmd: 'export', id, format: 'json' });
      assert.equal(gone?.ok, false, `export of a deleted session: ${JSON.stringify(gone).slice(0, 200)}`);
      assert.equal(state.emptyShown, k === order.length - 1, `#empty is shown exactly when the list is empty (after ${k + 1} of ${order.length})`);
    }
    assert.deepEqual(await h.list(), []);
    assert.equal(await popup.isVisible('#empty'), true, '#empty is visible');
    assert.equal(await popup.locator('#sessions li').count(), 0);
    const reopened = await openPopup();
    try {
      const st = await popupState(reopened);
      assert.deepEqual(st.rows, []);
      assert.equal(st.emptyShown, true, 'a freshly opened popup shows #empty');
      assert.equal(await reopened.isVisible('#empty'), true);
    } finally {
      await reopened.close();
    }
  } finally {
    await popup.close();
  }
});
