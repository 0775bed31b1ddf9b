// The benchmark's workload pages, generated deterministically (a seeded PRNG, no Date/Math.random)
// into bench/out/pages/, so that every run and every mode loads byte-identical pages:
//   blank.html              where a tab starts (and where tabreel starts recording)
//   bigdom-<N>.html         N elements in the static HTML: nested lists, tables, text, attributes,
//                           inline styles, classes
//   storm.html              ~20k DOM mutations over 180 animation frames after load
//   storm-css.html          the same storm on a page styled through the CSSOM: a <style> of 5000
//                           rules, a CSS-in-JS <style> gaining a rule by insertRule every frame,
//                           200 shadow roots adopting one 1000-rule constructed sheet
//   interactions.html       buttons, inputs, a scroll container (the bench drives the input)
//   idle.html               a clock whose text changes every second
// Each page sets `window.__benchDone = true` when its own work is finished.

import fs from 'node:fs';
import path from 'node:path';

/** mulberry32: a small seeded PRNG, the same sequence in node and in the page. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud'.split(' ');
const COLORS = ['#333', '#a33', '#3a3', '#33a', '#777', '#960'];

const page = (title, body, { head = '', script = '' } = {}) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title>\n<style>body{font:14px sans-serif;margin:8px}.hot{color:#c00}.cold{color:#06c}.b{font-weight:bold}table{border-collapse:collapse}td{border:1px solid #ccc;padding:1px 3px}${head}</style></head>\n<body>\n${body}\n${script ? `<script>\n${script}\n</script>` : ''}\n</body></html>\n`;

/** A static page of `n` elements (counted exactly, html/head/body and the style included). */
export function bigdom(n) {
  const rnd = prng(n);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const words = (k) => Array.from({ length: k }, () => pick(WORDS)).join(' ');
  let count = 7; // html, head, meta, title, style, body, script
  const out = [];
  let section = 0;
  // One block is at most 40 elements; the loop fills up to n with small paragraphs at the end.
  while (n - count > 40) {
    const s = section++;
    const kind = s % 3;
    if (kind === 0) {
      // nested list: ul > li*4 > (span + ul > li*2 > a)  = 1 + 4*(1+1+1+2*2) = 29
      let h = `<ul class="list l${s % 5}" data-section="${s}">`;
      for (let i = 0; i < 4; i++) {
        h += `<li class="${pick(['hot', 'cold', 'b'])}" data-i="${i}"><span title="${words(2)}">${words(3)}</span><ul>`;
        for (let j = 0; j < 2; j++) h += `<li style="color:${pick(COLORS)}"><a href="#s${s}-${i}-${j}">${words(2)}</a></li>`;
        h += '</ul></li>';
      }
      out.push(h + '</ul>');
      count += 29;
    } else if (kind === 1) {
      // table > tbody > tr*5 > td*4 (with a <b> in the first cell) = 1 + 1 + 5*(1+4+1) = 32
      let h = `<table class="grid" id="t${s}"><tbody>`;
      for (let r = 0; r < 5; r++) {
        h += `<tr data-row="${r}" class="${r % 2 ? 'odd' : 'even'}">`;
        for (let c = 0; c < 4; c++) h += c === 0 ? `<td><b>${s}.${r}</b></td>` : `<td style="width:${20 + c * 10}px">${words(1)}</td>`;
        h += '</tr>';
      }
      out.push(h + '</tbody></table>');
      count += 32;
    } else {
      // section > h3 + p*3 > (em + span) = 1 + 1 + 3*3 = 11
      let h = `<section id="sec${s}" class="card ${pick(['hot', 'cold'])}" aria-label="${words(2)}"><h3>${words(3)}</h3>`;
      for (let p = 0; p < 3; p++) h += `<p data-p="${p}">${words(6)} <em>${words(1)}</em> ${words(4)} <span class="b" style="margin-left:${p * 4}px">${words(2)}</span>.</p>`;
      out.push(h + '</section>');
      count += 11;
    }
  }
  while (count < n) {
    out.push(`<p class="tail">${words(3)}</p>`);
    count++;
  }
  return page(`bigdom ${n}`, out.join('\n'), { script: 'window.__benchDone = true;' });
}

/** ~20k mutations over 180 animation frames (111 per frame), then __benchDone. */
export function storm() {
  return stormPage('storm', '', '', '');
}

/**
 * The storm on a page with thousands of rules, part of them only in the CSSOM: what watching the
 * CSSOM costs per batch. Every frame, the CSS-in-JS sheet gains a rule (at the end, or at the
 * start every tenth frame) and one shadow host is added.
 */
export function stormCss() {
  let rules = '';
  for (let i = 0; i < 5000; i++) rules += `.r${i}{color:${COLORS[i % COLORS.length]};margin-left:${i % 7}px}`;
  const head = `</style><style id="big">${rules}</style><style id="cssinjs"></style><style>`;
  const setup = `
  const shared = new CSSStyleSheet();
  shared.replaceSync(Array.from({ length: 1000 }, (_, i) => '.s' + i + '{padding:' + (i % 5) + 'px}').join(''));
  class XW extends HTMLElement {
    constructor() { super(); const r = this.attachShadow({ mode: 'open' }); r.adoptedStyleSheets = [shared]; r.innerHTML = '<b class="s1">shadow</b><slot></slot>'; }
  }
  customElements.define('x-w', XW);
  const hosts = document.getElementById('hosts');
  for (let i = 0; i < 200; i++) hosts.appendChild(document.createElement('x-w'));
  const injected = document.getElementById('cssinjs').sheet;`;
  const perFrame = `
    injected.insertRule('.css-' + frame + '{color:#' + (frame % 10) + '0' + (frame % 10) + '}', frame % 10 ? injected.cssRules.length : 0);
    hosts.appendChild(document.createElement('x-w'));`;
  return stormPage('storm-css', head, '<div id="hosts"></div>', setup, perFrame);
}

function stormPage(title, head, extraBody, setup, perFrame = '') {
  let list = '<ul id="root">';
  for (let i = 0; i < 300; i++) list += `<li class="item" data-i="${i}"><span>item ${i}</span> <b>${i % 7}</b></li>`;
  list += '</ul>';
  const script = `
${prng.toString()}
(() => {
  const rnd = prng(42), FRAMES = 180, PER_FRAME = 111;
  const root = document.getElementById('root');${setup}
  let frame = 0, mutations = 0, next = 1000, t0 = 0;
  const anyItem = () => root.children[Math.floor(rnd() * root.children.length)];
  function step() {
    for (let k = 0; k < PER_FRAME; k++) {
      const r = rnd(), li = anyItem();
      if (r < 0.2) {                                   // insert a small subtree
        const n = document.createElement('li');
        n.className = 'item new';
        n.dataset.i = String(next);
        n.innerHTML = '<span>new ' + next++ + '</span> <i>' + (k % 5) + '</i>';
        root.insertBefore(n, li || null);
      } else if (r < 0.38) {                           // remove one (keep at least 100)
        if (root.children.length > 100 && li) li.remove();
      } else if (r < 0.6) {                            // attribute
        if (li) li.setAttribute('data-v', String(Math.floor(rnd() * 1000)));
      } else if (r < 0.8) {                            // text
        const s = li && li.firstElementChild;
        if (s && s.firstChild) s.firstChild.data = 'text ' + frame + '.' + k;
      } else {                                         // class
        if (li) li.classList.toggle('hot');
      }
      mutations++;
    }${perFrame}
    if (++frame < FRAMES) requestAnimationFrame(step);
    else { window.__benchMs = performance.now() - t0; window.__benchMutations = mutations; window.__benchDone = true; }
  }
  addEventListener('load', () => { t0 = performance.now(); requestAnimationFrame(step); });
})();`;
  return page(title, `<h1>${title}</h1>\n${list}${extraBody}`, { script, head });
}

/** Buttons, text inputs, a textarea and a scroll container; every click and move changes the DOM a little. */
export function interactions() {
  let body = '<h1>interactions</h1><div id="pos">0,0</div><div id="buttons">';
  for (let i = 0; i < 40; i++) body += `<button id="b${i}" class="btn" data-count="0">button ${i}</button>`;
  body += '</div><div id="form">';
  for (let i = 0; i < 6; i++) body += `<label>field ${i} <input id="f${i}" name="f${i}" value=""></label>`;
  body += '<textarea id="notes" rows="4" cols="60"></textarea></div>';
  body += '<div id="scroller" style="height:300px;width:600px;overflow:auto;border:1px solid #999">';
  for (let i = 0; i < 400; i++) body += `<div class="row" data-i="${i}">row ${i} <span class="${i % 3 ? 'cold' : 'hot'}">${WORDS[i % WORDS.length]}</span></div>`;
  body += '</div>';
  const script = `
const pos = document.getElementById('pos');
document.addEventListener('mousemove', (e) => { pos.textContent = e.clientX + ',' + e.clientY; });
document.getElementById('buttons').addEventListener('click', (e) => {
  const b = e.target.closest('button'); if (!b) return;
  const n = Number(b.dataset.count) + 1;
  b.dataset.count = String(n); b.classList.toggle('hot'); b.textContent = 'button ' + b.id.slice(1) + ' (' + n + ')';
});
window.__benchDone = true;`;
  return page('interactions', body, { head: '.btn{margin:2px;width:140px;height:28px}.row:hover{background:#eef}', script });
}

/** A clock: one text change a second, nothing else. */
export function idle() {
  let body = '<h1>idle</h1><p>The time is <time id="clock">--:--:--</time>.</p><ul>';
  for (let i = 0; i < 100; i++) body += `<li class="x${i % 4}">line ${i} <b>${WORDS[i % WORDS.length]}</b></li>`;
  body += '</ul>';
  const script = `
const clock = document.getElementById('clock');
let ticks = 0;
setInterval(() => { ticks++; clock.textContent = 'tick ' + ticks; }, 1000);
window.__benchDone = true;`;
  return page('idle', body, { script });
}

/** Writes every page the given cases need into `dir`; returns their file names by case. */
export function writePages(dir, cases) {
  fs.mkdirSync(dir, { recursive: true });
  const files = { blank: 'blank.html' };
  fs.writeFileSync(path.join(dir, 'blank.html'), page('blank', '<p>blank</p>'));
  for (const c of cases) {
    let html;
    const m = /^bigdom-(\d+)$/.exec(c);
    if (m) html = bigdom(Number(m[1]));
    else if (c === 'storm') html = storm();
    else if (c === 'storm-css') html = stormCss();
    else if (c === 'interactions') html = interactions();
    else if (c === 'idle') html = idle();
    else continue;
    files[c] = `${c}.html`;
    fs.writeFileSync(path.join(dir, files[c]), html);
  }
  return files;
}
