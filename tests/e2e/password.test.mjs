// Passwords never leave the page: not in the export, not in the extension's storage, not in the
// replay. A text field typed in the same session must be there (so the checks can fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { startHarness, liveDom, replayDom, assertSameDom, sleep, allStrings, MASK_PLACEHOLDER } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

const rand = (n) => crypto.randomBytes(n).toString('hex');

/** Strings to search in: the raw text plus every string inside it when it is JSON (recursively, two levels). */
function haystacks(text) {
  const out = [text];
  const expand = (t, depth) => {
    let v;
    try {
      v = JSON.parse(t);
    } catch {
      return;
    }
    for (const s of allStrings(v)) {
      out.push(s);
      if (depth > 0 && /^\s*[[{]/.test(s)) expand(s, depth - 1);
    }
  };
  expand(text, 2);
  return out;
}

/** Needles found in any haystack, with a little context. */
function leaks(text, needles) {
  const found = [];
  const hs = haystacks(text);
  for (const n of needles) {
    for (const hay of hs) {
      const i = hay.indexOf(n);
      if (i >= 0) {
        found.push(`${JSON.stringify(n)} in …${JSON.stringify(hay.slice(Math.max(0, i - 60), i + n.length + 60))}…`);
        break;
      }
    }
  }
  return found;
}

function substrings(s, min) {
  const out = new Set();
  for (let i = 0; i + min <= s.length; i++) out.add(s.slice(i, i + min));
  return [...out];
}

test('password fields are masked everywhere; the text field is recorded', { timeout: 90_000 }, async () => {
  const password = `Tr0ub4dor&3-${rand(4)}`;
  const otp = `Otp${rand(5)}`;
  const username = `user-${rand(5)}`;
  const secretNeedles = [password, ...substrings(password, 6), otp];

  const page = await h.openPage('password.html');
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(200);

  await page.click('#username');
  await page.keyboard.type(username, { delay: 5 });
  await page.click('#password');
  await page.keyboard.type(password, { delay: 5 });
  // "Show password": the field becomes type=text and must stay masked.
  await page.click('#show');
  assert.equal(await page.getAttribute('#password', 'type'), 'text');
  await page.click('#password');
  await page.keyboard.press('End');
  await page.keyboard.type('!', { delay: 5 });
  // A field that becomes a password field via script, then gets typed in.
  await page.click('#secure-later');
  assert.equal(await page.getAttribute('#later', 'type'), 'password');
  await page.click('#later');
  await page.keyboard.type(password, { delay: 5 });
  // A password field added later.
  await page.click('#add-pin');
  await page.click('#pin');
  await page.keyboard.type(password, { delay: 5 });
  // autocomplete=one-time-code on a text field.
  await page.click('#otp');
  await page.keyboard.type(otp, { delay: 5 });
  await sleep(500);

  const maskSelector = '#password, #later, #pin, #otp';
  const live = await liveDom(page, { maskSelector });
  // The page really holds the secrets (so "not found" below means something).
  assert.equal(await page.inputValue('#password'), password + '!');
  assert.equal(await page.getAttribute('#password', 'value'), password + '!', 'the page mirrors the value into the attribute');
  await h.stopRecording(tabId);

  // --- export
  const text = await h.exportSession(sessionId);
  assert.ok(text.includes(username), 'the export contains the text field value (leak check sanity)');
  assert.deepEqual(leaks(text, secretNeedles), [], 'secrets in the export');
  const file = JSON.parse(text);
  // Masked states carry nothing but `filled`.
  const masked = [];
  const visit = (v) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      if (v.type === 'masked') masked.push(v);
      Object.values(v).forEach(visit);
    }
  };
  visit(file.events);
  assert.ok(masked.length > 0, 'masked form states are recorded');
  for (const m of masked) assert.deepEqual(Object.keys(m).sort(), ['filled', 'type'], `masked state ${JSON.stringify(m)}`);

  // --- the extension's IndexedDB, chunks inflated
  const dump = await h.readExtensionIndexedDb();
  assert.ok(!/"missing":\s*true/.test(dump), `the tabreel database exists: ${dump.slice(0, 200)}`);
  assert.ok(!dump.includes('inflateError'), `every chunk inflates: ${dump.slice(dump.indexOf('inflateError') - 100, dump.indexOf('inflateError') + 200)}`);
  assert.ok(dump.includes(username), 'the IndexedDB dump contains the text field value (leak check sanity)');
  assert.deepEqual(leaks(dump, secretNeedles), [], 'secrets in IndexedDB');
  // chrome.storage too.
  const storage = await h.readExtensionStorage();
  assert.deepEqual(leaks(storage, secretNeedles), [], 'secrets in chrome.storage');

  // --- the replay
  const replay = await h.openReplay(sessionId, 'end');
  const fields = await replay.evaluate(() => {
    const d = document.getElementById('replay-frame').contentDocument;
    const f = (id) => {
      const e = d.getElementById(id);
      return e ? { value: e.value, valueAttr: e.getAttribute('value'), type: e.getAttribute('type') } : null;
    };
    return { username: f('username'), password: f('password'), later: f('later'), pin: f('pin'), otp: f('otp'), html: d.documentElement.outerHTML };
  });
  assert.equal(fields.username?.value, username);
  for (const id of ['password', 'later', 'pin', 'otp']) {
    assert.ok(fields[id], `#${id} is in the replay`);
    assert.equal(fields[id].value, MASK_PLACEHOLDER, `#${id} shows the placeholder`);
    assert.ok(fields[id].valueAttr === null || fields[id].valueAttr === '' || fields[id].valueAttr === MASK_PLACEHOLDER, `#${id} value attribute: ${fields[id].valueAttr}`);
  }
  assert.deepEqual(leaks(fields.html, secretNeedles), [], 'secrets in the replayed markup');
  await assertSameDom(await replayDom(replay, { maskSelector }), live, 'password-end');
  await replay.close();
  await page.close();
});
