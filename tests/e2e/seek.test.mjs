// Seeking with the replay's seek bar: within a page, a seek brings the frame's document to the
// target by a diff (core/vdom/diff.rs) instead of writing a fresh document, and the pointer's
// hover and the focus are shown in the next animation frame. Whatever was shown before, a seek
// must show what a replay opened at that time shows (DOM, form state, hover and focus styles),
// and what the live page showed at that time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startHarness, liveDom, replayDom, assertSameDom, sleep, pageNow, liveStyles, replayStyles } from './harness.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** The styles that depend on the recorded pointer and focus. */
const STYLES = {
  '#hot': ['backgroundColor'],
  '#quiet': ['color'],
  '#name': ['outlineColor', 'outlineStyle'],
  '#form': ['borderLeftColor'],
};
const liveComputed = (page) => liveStyles(page, STYLES);
const frameComputed = (replay) => replayStyles(replay, STYLES);

/** Drags the seek bar to `ms` (as the input event does), then waits two animation frames. */
async function seekTo(replay, ms) {
  await replay.evaluate((ms) => {
    const seek = document.getElementById('seek');
    seek.value = String(ms);
    seek.dispatchEvent(new Event('input', { bubbles: true }));
  }, ms);
  await replay.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

test('seeking back and forth with the seek bar shows what a replay opened there shows', { timeout: 150_000 }, async () => {
  const page = await h.openPage('replay-style.html');
  const { tabId, sessionId } = await h.startRecording(page);
  await sleep(300);
  const marks = [];
  const mark = async () => {
    await sleep(400);
    marks.push({ time: await pageNow(page), dom: await liveDom(page), styles: await liveComputed(page) });
  };
  // 1: a list grows, the pointer is over #hot.
  await page.hover('#hot');
  await page.evaluate(() => {
    const ul = document.createElement('ul');
    ul.id = 'list';
    for (let i = 0; i < 40; i++) ul.insertAdjacentHTML('beforeend', `<li class="item" data-i="${i}">item <b>${i}</b></li>`);
    document.body.append(ul);
  });
  await mark();
  // 2: typing focuses the field; items change, move and go; the pointer leaves #hot.
  await page.click('#name');
  await page.keyboard.type('Ada', { delay: 10 });
  await page.evaluate(() => {
    const items = document.querySelectorAll('#list li');
    items.forEach((li, i) => { if (i % 3 === 0) li.className = 'item hot'; if (i % 4 === 0) li.firstChild.data = `changed ${i} `; });
    const list = document.getElementById('list');
    list.prepend(items[30]);
    items[5].remove();
    document.getElementById('quiet').textContent = 'still quiet';
  });
  await mark();
  // 3: the list is replaced, #hot moves into it, the pointer comes back over #hot.
  await page.evaluate(() => {
    const list = document.getElementById('list');
    list.innerHTML = '<li>one</li><li>two</li>';
    list.append(document.getElementById('hot'));
  });
  await page.hover('#hot');
  await mark();
  await h.stopRecording(tabId);

  assert.equal(marks[0].styles['#hot backgroundColor'], 'rgb(10, 20, 30)', 'the live page was hovered (test premise)');
  assert.equal(marks[1].styles['#form borderLeftColor'], 'rgb(0, 0, 200)', 'the live form had the focus within (test premise)');

  const s = (await h.list()).find((x) => x.id === sessionId);
  const at = marks.map((m) => Math.round(m.time - s.startedAt));
  const replay = await h.openReplay(sessionId, 0);
  const fresh = {};
  for (const [k, ms] of [2, 0, 1, 0, 2, 1, 2].map((k) => [k, at[k]])) {
    await seekTo(replay, ms);
    const shown = { dom: await replayDom(replay), styles: await frameComputed(replay) };
    if (!fresh[k]) {
      const opened = await h.openReplay(sessionId, ms);
      fresh[k] = { dom: await replayDom(opened), styles: await frameComputed(opened) };
      await opened.close();
      // The fresh replay shows the live page (the premise of comparing with it).
      await assertSameDom(fresh[k].dom, marks[k].dom, `seek-fresh-${k}`);
      assert.deepEqual(fresh[k].styles, marks[k].styles, `a replay opened at mark ${k} shows its hover and focus`);
    }
    await assertSameDom(shown.dom, fresh[k].dom, `seek-${k}`);
    assert.deepEqual(shown.styles, fresh[k].styles, `hover and focus after seeking to mark ${k}`);
  }
  // A seek within the page changed the document it had rather than writing a new one.
  const kept = await replay.evaluate(async () => {
    const frame = document.getElementById('replay-frame');
    const before = frame.contentDocument.getElementById('text');
    const seek = document.getElementById('seek');
    seek.value = '0';
    seek.dispatchEvent(new Event('input', { bubbles: true }));
    return frame.contentDocument.getElementById('text') === before;
  });
  assert.ok(kept, 'the unchanged paragraph is the same node after a seek');
  assert.deepEqual(replay.replayErrors, []);
  await replay.close();
  await page.close();
});
