// The seek benchmark: a synthetic 10-minute session (a ~5k-element page, a mutation batch every
// 100 ms, a pointer move every 50 ms) written both as a tabreel session file
// (docs/session-format.md; src/core/event.rs and format.rs are normative) and as the equivalent
// rrweb event list. tabreel's copy is imported through the automation contract and seeked in
// replay.html (the `#seek` input handler applies synchronously); rrweb's is replayed by
// rrweb.Replayer on a 127.0.0.1 page and seeked with `replayer.pause(offset)`.

import fs from 'node:fs';
import path from 'node:path';

import { prng } from './workloads.mjs';

const STARTED_AT = 1_700_000_000_000;
// At the start, as rrweb writes its meta and full snapshot: rrweb's seek to 0 rebuilds only from a
// full snapshot at or before offset 0.
const SNAPSHOT_AT = STARTED_AT;

/**
 * Builds the session. Returns { tabreel: session file text, rrweb: events, durationMs,
 * newestAt(ms): the number of the newest added item shown at `ms` after the start, -1 for none
 * (a check that a seek really got there) }.
 */
export function seekSession({ minutes = 10, sections = 66 } = {}) {
  const rnd = prng(7);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  // The page, as flat nodes in document order: { id, parent, type, tag?, attrs?, text? }.
  const nodes = [];
  let nextId = 1;
  const add = (parent, type, props = {}) => {
    const n = { id: nextId++, parent, type, ...props };
    nodes.push(n);
    return n.id;
  };
  const doc = add(undefined, 'document');
  add(doc, 'doctype', { name: 'html' });
  const html = add(doc, 'element', { tag: 'html', attrs: [['lang', 'en']] });
  const head = add(html, 'element', { tag: 'head' });
  add(add(head, 'element', { tag: 'title' }), 'text', { text: 'seek bench' });
  const body = add(html, 'element', { tag: 'body' });
  const app = add(body, 'element', { tag: 'div', attrs: [['id', 'app']] });
  const texts = [];
  const items = [];
  const lists = [];
  for (let s = 0; s < sections; s++) {
    const sec = add(app, 'element', { tag: 'section', attrs: [['class', 'card'], ['id', `s${s}`]] });
    add(add(sec, 'element', { tag: 'h2' }), 'text', { text: `section ${s}` });
    const ul = add(sec, 'element', { tag: 'ul' });
    lists.push(ul);
    for (let i = 0; i < 24; i++) {
      const li = add(ul, 'element', { tag: 'li', attrs: [['class', 'item'], ['data-i', String(i)]] });
      items.push(li);
      texts.push(add(add(li, 'element', { tag: 'span' }), 'text', { text: `item ${s}.${i}` }));
      add(li, 'text', { text: ' ' });
      add(add(li, 'element', { tag: 'b' }), 'text', { text: String(i % 7) });
    }
  }

  // The timeline: a batch every 100 ms, a pointer move every 50 ms.
  const durationMs = minutes * 60_000;
  const batches = []; // { t, texts: [[id, text]], attrs: [[id, name, value]], add?: { parent, ids }, remove?: { parent, id } }
  const moves = []; // { t, x, y }
  const live = []; // added items still in the page: { parent, id }
  const changes = []; // [t, n] of every added item, for newestAt
  let x = 400;
  let y = 300;
  for (let k = 0; SNAPSHOT_AT + 50 * (k + 1) < STARTED_AT + durationMs; k++) {
    const t = SNAPSHOT_AT + 50 * (k + 1);
    x = Math.min(1270, Math.max(0, x + (rnd() - 0.5) * 40));
    y = Math.min(790, Math.max(0, y + (rnd() - 0.5) * 40));
    moves.push({ t, x: Math.round(x), y: Math.round(y) });
    if (k % 2) continue;
    const b = { t: t + 1, texts: [], attrs: [] };
    const n = batches.length;
    for (let i = 0; i < 3; i++) b.texts.push([pick(texts), `v${n}.${i}`]);
    b.attrs.push([pick(items), 'data-v', String(n)]);
    b.attrs.push([pick(items), 'class', rnd() < 0.5 ? 'item hot' : 'item']);
    if (n % 10 === 5) {
      const parent = pick(lists);
      const ids = [nextId++, nextId++, nextId++]; // li > span > text
      b.add = { parent, ids, n };
      live.push({ parent, id: ids[0] });
      changes.push([b.t, n]);
      if (live.length > 30) b.remove = live.shift();
    }
    batches.push(b);
  }

  return {
    durationMs,
    tabreel: tabreelFile(nodes, batches, moves, durationMs),
    rrweb: rrwebEvents(nodes, batches, moves, body),
    newestAt: (ms) => changes.filter(([t]) => t <= STARTED_AT + ms).reduce((a, [, n]) => Math.max(a, n), -1),
  };
}

function tabreelFile(nodes, batches, moves, durationMs) {
  const snapNodes = nodes.map(({ id, parent, type, tag, attrs, text, name }) => {
    const n = { id, ...(parent !== undefined ? { parent } : {}), type };
    if (type === 'element') Object.assign(n, { tag }, attrs ? { attrs } : {});
    if (type === 'text') n.text = text;
    if (type === 'doctype') n.name = name;
    return n;
  });
  const events = [
    {
      t: SNAPSHOT_AT,
      page: 0,
      data: { kind: 'snapshot', url: 'http://127.0.0.1/seek.html', title: 'seek bench', width: 1280, height: 800, nodes: snapNodes, scrolls: [], focus: null },
    },
  ];
  const mutation = (b) => ({
    t: b.t,
    page: 0,
    data: {
      kind: 'mutation',
      removes: b.remove ? [{ parent: b.remove.parent, id: b.remove.id }] : [],
      adds: b.add
        ? [
            {
              parent: b.add.parent,
              before: null,
              nodes: [
                { id: b.add.ids[0], type: 'element', tag: 'li', attrs: [['class', 'item new']] },
                { id: b.add.ids[1], parent: b.add.ids[0], type: 'element', tag: 'span' },
                { id: b.add.ids[2], parent: b.add.ids[1], type: 'text', text: `new ${b.add.n}` },
              ],
            },
          ]
        : [],
      attrs: b.attrs.map(([id, name, value]) => ({ id, name, value })),
      texts: b.texts.map(([id, text]) => ({ id, text })),
    },
  });
  let i = 0;
  for (const m of moves) {
    while (i < batches.length && batches[i].t <= m.t) events.push(mutation(batches[i++]));
    events.push({ t: m.t, page: 0, data: { kind: 'pointer_move', x: m.x, y: m.y } });
  }
  while (i < batches.length) events.push(mutation(batches[i++]));
  const session = { id: 'bench-seek', title: 'seek bench', url: 'http://127.0.0.1/seek.html', startedAt: STARTED_AT, durationMs, eventCount: events.length, bytes: 0 };
  return JSON.stringify({ format: 'tabreel-session', version: 1, session, events });
}

/** The same session as rrweb events (meta, full snapshot, incremental mutations, mouse moves batched per 500 ms as rrweb does). */
function rrwebEvents(nodes, batches, moves, bodyId) {
  const byId = new Map();
  let root;
  for (const n of nodes) {
    let s;
    if (n.type === 'document') s = { type: 0, childNodes: [], id: n.id };
    else if (n.type === 'doctype') s = { type: 1, name: n.name, publicId: '', systemId: '', id: n.id };
    else if (n.type === 'element') s = { type: 2, tagName: n.tag, attributes: Object.fromEntries(n.attrs || []), childNodes: [], id: n.id };
    else s = { type: 3, textContent: n.text, id: n.id };
    byId.set(n.id, s);
    if (n.parent === undefined) root = s;
    else byId.get(n.parent).childNodes.push(s);
  }
  const events = [
    { type: 4, data: { href: 'http://127.0.0.1/seek.html', width: 1280, height: 800 }, timestamp: STARTED_AT },
    { type: 2, data: { node: root, initialOffset: { left: 0, top: 0 } }, timestamp: SNAPSHOT_AT },
  ];
  const timed = [];
  for (const b of batches) {
    const adds = b.add
      ? [
          { parentId: b.add.parent, nextId: null, node: { type: 2, tagName: 'li', attributes: { class: 'item new' }, childNodes: [], id: b.add.ids[0] } },
          { parentId: b.add.ids[0], nextId: null, node: { type: 2, tagName: 'span', attributes: {}, childNodes: [], id: b.add.ids[1] } },
          { parentId: b.add.ids[1], nextId: null, node: { type: 3, textContent: `new ${b.add.n}`, id: b.add.ids[2] } },
        ]
      : [];
    timed.push({
      type: 3,
      data: {
        source: 0,
        texts: b.texts.map(([id, value]) => ({ id, value })),
        attributes: b.attrs.map(([id, name, value]) => ({ id, attributes: { [name]: value } })),
        removes: b.remove ? [{ parentId: b.remove.parent, id: b.remove.id }] : [],
        adds,
      },
      timestamp: b.t,
    });
  }
  for (let i = 0; i < moves.length; i += 10) {
    const group = moves.slice(i, i + 10);
    const t = group[group.length - 1].t;
    timed.push({ type: 3, data: { source: 1, positions: group.map((m) => ({ x: m.x, y: m.y, id: bodyId, timeOffset: m.t - t })) }, timestamp: t });
  }
  timed.sort((a, b) => a.timestamp - b.timestamp);
  return events.concat(timed);
}

/** In the page: the number of the newest added item shown in `doc` (-1 for none). */
const NEWEST = `function newestShown(doc) {
  return Math.max(-1, ...[...doc.querySelectorAll('li.new')].map((li) => Number(li.textContent.replace('new ', ''))));
}`;

/** Runs in the replay page: seeks by the `#seek` input, returns { js, layout, newest, at } (ms; js: the handler, layout: plus a forced layout of the frame). */
function seekTabreel(target) {
  const seek = document.getElementById('seek');
  const frame = document.getElementById('replay-frame').contentDocument;
  const t0 = performance.now();
  seek.value = String(target === 'max' ? seek.max : target === 'mid' ? Math.round(Number(seek.max) / 2) : target);
  seek.dispatchEvent(new Event('input', { bubbles: true }));
  const t1 = performance.now();
  void frame.documentElement.getBoundingClientRect().height;
  const t2 = performance.now();
  return { js: t1 - t0, layout: t2 - t0, newest: newestShown(frame), at: Number(seek.value) };
}

/** Runs in the rrweb page: the same with `replayer.pause(offset)`. */
function seekRrweb(offset) {
  const r = window.__replayer;
  const t0 = performance.now();
  r.pause(offset);
  const t1 = performance.now();
  const doc = r.iframe.contentDocument;
  void doc.documentElement.getBoundingClientRect().height;
  const t2 = performance.now();
  return { js: t1 - t0, layout: t2 - t0, newest: newestShown(doc), at: offset };
}

/** The four seeks, in order, as [label, target ms, tabreel input value]. */
export function seekPlan(durationMs) {
  const max = Math.ceil(durationMs);
  return [
    ['end', max, 'max'],
    ['0', 0, 0],
    ['middle', Math.round(max / 2), 'mid'],
    ['end again', max, 'max'],
  ];
}

/** tabreel: import the file, open replay.html at 0, seek. Returns { openMs, seeks: [{ label, js, layout, newest, expected }] }. */
export async function runTabreelSeek(h, session) {
  const { sessionId } = await h.sendOk({ cmd: 'import', data: session.tabreel }, { timeout: 120_000 });
  const t0 = Date.now();
  const page = await h.openReplay(sessionId, 0, { timeout: 120_000 });
  const openMs = Date.now() - t0;
  // The replay prepares keyframes in the background after it opens (data-prepared on its root);
  // seeks are timed once that is done, as a user's first drag would come some time after opening.
  const t1 = Date.now();
  await page.waitForFunction(() => document.documentElement.dataset.prepared === '1', null, { timeout: 60_000 }).catch(() => {});
  const prepareMs = Date.now() - t1;
  const seeks = [];
  for (const [label, ms, target] of seekPlan(session.durationMs)) {
    const r = await page.evaluate(`(${seekTabreel})(${JSON.stringify(target)}); ${NEWEST}`);
    seeks.push({ label, ...r, expected: session.newestAt(r.at) });
  }
  return { openMs, prepareMs, seeks };
}

/** Writes the rrweb replay page (rrweb's UMD build and the events) into the served directory. */
export function writeRrwebReplayPage(dir, rrwebUmdFile, session) {
  fs.copyFileSync(rrwebUmdFile, path.join(dir, 'rrweb.js'));
  fs.writeFileSync(path.join(dir, 'seek-rrweb.json'), JSON.stringify(session.rrweb));
  fs.writeFileSync(
    path.join(dir, 'rrweb-replay.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>rrweb replay</title><script src="rrweb.js"></script></head><body><div id="root"></div></body></html>\n',
  );
  return 'rrweb-replay.html';
}

/** rrweb: build a Replayer on the page, wait for its first full snapshot, seek. */
export async function runRrwebSeek(page, url, session) {
  await page.goto(url);
  const t0 = Date.now();
  await page.evaluate(async () => {
    const events = await (await fetch('seek-rrweb.json')).json();
    window.__replayer = new rrweb.Replayer(events, { root: document.getElementById('root'), showWarning: false, mouseTail: false, triggerFocus: false });
    window.__replayer.pause(0);
  });
  await page.waitForFunction(() => window.__replayer.iframe.contentDocument?.querySelectorAll('li').length > 1000, null, { timeout: 60_000 });
  const openMs = Date.now() - t0;
  const seeks = [];
  for (const [label, target] of seekPlan(session.durationMs)) {
    // rrweb's pause(0) schedules the full snapshot at offset 0 instead of applying it (then pauses
    // before it runs), so "the start" for rrweb is 1 ms in: the same state (the first change is at 51 ms).
    const ms = Math.max(target, 1);
    const r = await page.evaluate(`(${seekRrweb})(${ms}); ${NEWEST}`);
    seeks.push({ label, ...r, expected: session.newestAt(ms) });
  }
  return { openMs, seeks };
}
