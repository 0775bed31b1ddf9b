// Self-test of the DOM normaliser (no extension needed): what the replay changes on purpose
// compares equal, and real differences do not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser } from './harness.mjs';
import { normalizeDocument, firstDifference } from './dom-compare.mjs';

let browser;
let page;
before(async () => {
  browser = await launchBrowser({ extensionDir: null });
  page = await browser.context.newPage();
  await page.goto('about:blank');
});
after(async () => {
  await browser?.close();
});

/** Parses two HTML texts in the page, applies form state, returns both normalised texts. */
async function compare(liveHtml, replayHtml, { liveState = {}, replayState = {}, opts = {} } = {}) {
  return page.evaluate(
    ({ liveHtml, replayHtml, liveState, replayState, opts, fn }) => {
      // eslint-disable-next-line no-new-func
      const normalize = new Function(`return (${fn})`)();
      const make = (html, state) => {
        const d = new DOMParser().parseFromString(html, 'text/html');
        for (const [sel, props] of Object.entries(state)) Object.assign(d.querySelector(sel), props);
        return d;
      };
      return [
        normalize(make(liveHtml, liveState), { ...opts, role: 'live' }),
        normalize(make(replayHtml, replayState), { ...opts, role: 'replay' }),
      ];
    },
    { liveHtml, replayHtml, liveState, replayState, opts, fn: normalizeDocument.toString() },
  );
}

const DOC = (head, body) => `<!DOCTYPE html><html><head>${head}</head><body>${body}</body></html>`;

test('what the replay changes on purpose compares equal', async () => {
  const [live, replay] = await compare(
    DOC(
      '<link rel="stylesheet" href="a.css" media="screen"><script src="app.js" type="module">var x = 1;</script><meta http-equiv="refresh" content="5">',
      '<div onclick="go()" id="d" data-x="1">hi</div><iframe src="https://x.test/" srcdoc="<b>x</b>" width="3"></iframe><a href="javascript:alert(1)">j</a><input type="password" id="pw" value="secret">',
    ),
    DOC(
      '<style media="screen" data-tabreel-href="a.css">p { color: red }</style><script type="text/x-tabreel-inert"></script><meta content="5">',
      '<div id="d" data-x="1" data-tabreel-id="7">hi</div><iframe width="3"></iframe><a>j</a><input type="password" id="pw">',
    ),
    { liveState: { '#pw': { value: 'secret' } }, replayState: { '#pw': { value: '\u2022'.repeat(8) } } },
  );
  assert.equal(replay, live, firstDifference(live, replay));
  assert.match(live, /stylesheet\("a\.css"\) media="screen"/);
  assert.match(live, /\{masked:filled\}/);
});

test('real differences are caught', async () => {
  const base = DOC('<title>t</title>', '<p id="p" class="a">text</p><input id="i"><input type="checkbox" id="c"><select id="s"><option>1</option><option>2</option></select><textarea id="t"></textarea>');
  const variants = {
    text: base.replace('>text<', '>text!<'),
    attribute: base.replace('class="a"', 'class="b"'),
    missingAttribute: base.replace(' class="a"', ''),
    element: base.replace('<p id="p"', '<div id="p"').replace('</p>', '</div>'),
    whitespace: base.replace('>text<', '> text<'),
    comment: base.replace('<title>', '<!--c--><title>'),
    title: base.replace('<title>t', '<title>u'),
    quirks: base.replace('<!DOCTYPE html>', ''),
  };
  for (const [name, html] of Object.entries(variants)) {
    const [a, b] = await compare(base, html);
    assert.notEqual(a, b, `${name} difference not seen`);
  }
  const states = {
    value: { '#i': { value: 'typed' } },
    checked: { '#c': { checked: true } },
    select: { '#s': { value: '2' } },
    textarea: { '#t': { value: 'typed' } },
  };
  for (const [name, state] of Object.entries(states)) {
    const [a, b] = await compare(base, base, { replayState: state });
    assert.notEqual(a, b, `${name} difference not seen`);
  }
});

test('a masked field that shows anything but the placeholder differs', async () => {
  const html = DOC('', '<input type="text" id="shown" autocomplete="one-time-code"><input type="password" id="pw">');
  const live = { '#pw': { value: 'secret' }, '#shown': { value: '123456' } };
  const ok = { '#pw': { value: '\u2022'.repeat(8) }, '#shown': { value: '\u2022'.repeat(8) } };
  let [a, b] = await compare(html, html, { liveState: live, replayState: ok });
  assert.equal(a, b);
  [a, b] = await compare(html, html, { liveState: live, replayState: { ...ok, '#pw': { value: 'secret' } } });
  assert.notEqual(a, b);
  assert.match(b, /masked:UNEXPECTED "secret"/);
  [a, b] = await compare(html, html, { liveState: live, replayState: { ...ok, '#pw': { value: '' } } });
  assert.notEqual(a, b, 'filled vs empty');
  // A field shown as text that was a password is masked through maskSelector.
  const html2 = DOC('', '<input type="text" id="was">');
  [a, b] = await compare(html2, html2, { liveState: { '#was': { value: 'secret' } }, replayState: { '#was': { value: '\u2022'.repeat(8) } }, opts: { maskSelector: '#was' } });
  assert.equal(a, b);
});

/** Like `compare`, but in two live frames (so that <style> elements have sheets), after running
 * `replaySetup` (a function's source, given the replay document). */
async function compareInFrames(liveHtml, replayHtml, { opts = {}, replaySetup = '() => {}' } = {}) {
  return page.evaluate(
    ({ liveHtml, replayHtml, opts, fn, replaySetup }) => {
      // eslint-disable-next-line no-new-func
      const normalize = new Function(`return (${fn})`)();
      // eslint-disable-next-line no-new-func
      const setup = new Function(`return (${replaySetup})`)();
      const make = (html) => {
        const f = document.createElement('iframe');
        document.body.appendChild(f);
        f.contentDocument.open();
        f.contentDocument.write(html);
        f.contentDocument.close();
        return f.contentDocument;
      };
      const replay = make(replayHtml);
      setup(replay);
      return [normalize(make(liveHtml), { ...opts, role: 'live' }), normalize(replay, { ...opts, role: 'replay' })];
    },
    { liveHtml, replayHtml, opts, fn: normalizeDocument.toString(), replaySetup },
  );
}

test('recorded CSS re-spelt by the replay compares equal, in text and in rules', async () => {
  const opts = { baseUrl: 'http://site.test/app/page.html' };
  const live = DOC('<style>@import "more.css"; .a:hover, .b:focus-within > i:not(:focus-visible) { background: url(img/x.png) } .c { mask: url(#m) }</style>', '<p>x</p>');
  const replay = DOC(
    '<style>@import "http://site.test/app/more.css"; .a[data-tabreel-hover], .b[data-tabreel-focus-within] > i:not([data-tabreel-focus-visible]) { background: url("http://site.test/app/img/x.png") } .c { mask: url(#m) }</style>',
    '<p data-tabreel-hover="">x</p>',
  );
  const RING = '@layer tabreel-ua { [data-tabreel-focus-visible] { outline: auto 1px -webkit-focus-ring-color; } }';
  const addReset = `(d) => { const s = d.styleSheets[0]; s.insertRule(${JSON.stringify(RING)}, 1); s.insertRule('body { font-family: revert; font-size: revert; }', 1); s.insertRule('@layer tabreel-ua;', 0); }`;
  for (const o of [opts, { ...opts, cssom: true }]) {
    const [a, b] = await compareInFrames(live, replay, { opts: o, replaySetup: addReset });
    assert.equal(b, a, firstDifference(a, b));
  }
  // The replay's rules in an adopted sheet of their own are left out too, and only on the replay side.
  const adoptReset = `(d) => { const s = new d.defaultView.CSSStyleSheet(); s.replaceSync('@layer tabreel-ua; body { font-family: revert; font-size: revert; } ' + ${JSON.stringify(RING)}); d.adoptedStyleSheets = [s]; }`;
  let [a, b] = await compareInFrames(DOC('', '<p>x</p>'), DOC('', '<p>x</p>'), { opts: { cssom: true }, replaySetup: adoptReset });
  assert.equal(b, a);
  // A reference resolved elsewhere, a pseudo-class lost, or another rule added is a difference.
  for (const wrong of [
    replay.replace('http://site.test/app/img/x.png', 'chrome-extension://abc/img/x.png'),
    replay.replace('.a[data-tabreel-hover]', '.a'),
    replay.replace('.c {', '.d { color: red } .c {'),
  ]) {
    for (const o of [opts, { ...opts, cssom: true }]) {
      [a, b] = await compareInFrames(live, wrong, { opts: o });
      assert.notEqual(b, a, wrong);
    }
  }
  [a, b] = await compareInFrames(live, replay, { opts: { ...opts, cssom: true }, replaySetup: `(d) => d.styleSheets[0].insertRule('body { color: red; }', 1)` });
  assert.notEqual(b, a, 'a rule other than the replay\'s own counts');
});

test('firstDifference points at the first differing line', () => {
  const d = firstDifference('a\nb\nc\nd', 'a\nb\nX\nd');
  assert.match(d, /first difference at line 3/);
  assert.match(d, /^- c$/m);
  assert.match(d, /^\+ X$/m);
});
