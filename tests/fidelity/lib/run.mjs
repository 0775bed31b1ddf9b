// The fidelity runner: records each scenario with tabreel (the real extension) and with rrweb
// 2.2.2 (a plain browser context, the UMD injected with addInitScript), replays both at the
// midpoint and at the end, and scores each replay against the live page it recorded.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { launchBrowser, Harness, CHROMIUM, chromiumArgs, sleep, normalizeDocument, firstDifference } from '../../e2e/harness.mjs';
import { startFidelityServer, REPO } from './server.mjs';
import { structuralScore, pixelDifference, lineDifferences } from './score.mjs';

export const VIEWPORT = { width: 1024, height: 720 };
export const OUT = path.join(REPO, 'tests', 'out', 'fidelity');
export const TARGETS = { structural: 1.0, pixel: 0.001 };
const RRWEB_UMD = path.join(REPO, 'node_modules', 'rrweb', 'dist', 'rrweb.umd.cjs');

/** What the structural comparison looks at (see tests/e2e/dom-compare.mjs). */
const NORMALIZE = { scroll: true, docScroll: true, shadow: true, frames: true, cssom: true, canvas: true };

const log = (...a) => process.stderr.write(a.join(' ') + '\n');

async function settle(page, ms = 400) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))).catch(() => {});
  await sleep(ms);
}

/** The longest the live capture waits for the page's transitions and animations to end. */
const ANIMATIONS_MAX_MS = 3000;

/**
 * Waits until no CSS transition or finite animation (Web Animations too) is running in the
 * page's document and its shadow trees, for at most ANIMATIONS_MAX_MS; answers what it waited
 * for and how long. A paused replay shows the state a transition leads to, never a frame of it
 * (README: "Inherent differences"), so the live page is compared once it got there. Endless
 * animations (spinners) are not waited for.
 */
async function untilAnimationsEnd(page) {
  const running = () =>
    document
      .getAnimations()
      .filter((a) => a.playState === 'running' && Number.isFinite(a.effect?.getComputedTiming().endTime))
      .map((a) => `${a.transitionProperty ? `transition ${a.transitionProperty}` : a.animationName ? `animation ${a.animationName}` : 'animation'} on ${a.effect?.target?.localName || '?'}`);
  const t0 = Date.now();
  const seen = new Set(await page.evaluate(running).catch(() => []));
  if (seen.size === 0) return { waitedMs: 0, waitedFor: [] };
  while (Date.now() - t0 < ANIMATIONS_MAX_MS) {
    const now = await page.evaluate(running).catch(() => []);
    if (now.length === 0) break;
    for (const a of now) seen.add(a);
    await sleep(50);
  }
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))).catch(() => {});
  return { waitedMs: Date.now() - t0, waitedFor: [...seen] };
}

/**
 * Viewport screenshot, normalised DOM and epoch time of a live page. The screenshot comes first
 * because it changes the DOM: Playwright hides the caret by setting `caret-color` on every input,
 * textarea and [contenteditable] and puts it back with `style.setProperty('caret-color', '')`,
 * which leaves `style=""` on elements that had no style attribute. Read before it, the live DOM
 * missed what the recording (and so the replay at the end) has.
 */
async function captureLive(page) {
  await settle(page);
  const settled = await untilAnimationsEnd(page);
  const baseUrl = page.url();
  const png = await page.screenshot();
  const doc = await page.evaluateHandle(() => document);
  const dom = await doc.evaluate(normalizeDocument, { ...NORMALIZE, role: 'live', baseUrl });
  await doc.dispose();
  const time = await page.evaluate(() => Date.now());
  return { dom, time, png, url: baseUrl, settled };
}

async function runSteps(page, scenario, onMid) {
  const steps = scenario.steps;
  const mid = Math.floor(steps.length / 2);
  let midCapture = null;
  for (let i = 0; i < steps.length; i++) {
    await steps[i].run(page);
    if (i + 1 === mid) midCapture = await onMid();
  }
  return midCapture;
}

// ---------------------------------------------------------------------------------------------
// tabreel
// ---------------------------------------------------------------------------------------------

export async function recordTabreel(h, srv, scenario) {
  const page = await h.context.newPage();
  try {
    await page.goto(`${srv.url('pages/blank.html')}?tab=${scenario.name}-${Date.now().toString(36)}`);
    await page.bringToFront();
    const { tabId, sessionId } = await h.startRecording(page);
    // Recorded from the document's start: the app loads in the recorded tab.
    await page.goto(srv.url(scenario.path));
    await scenario.ready(page);
    await settle(page, 300);
    const mid = await runSteps(page, scenario, () => captureLive(page));
    const end = await captureLive(page);
    await h.stopRecording(tabId);
    const session = (await h.list()).find((s) => s.id === sessionId);
    if (!session) throw new Error(`session ${sessionId} not listed`);
    return { sessionId, startedAt: session.startedAt, mid, end };
  } finally {
    await page.close().catch(() => {});
  }
}

export async function replayTabreel(h, rec, which, live) {
  const page = await h.context.newPage();
  const refused = [];
  page.on('console', (m) => {
    if (/Refused to|Failed to load|net::ERR|violates the following Content Security Policy/i.test(m.text())) refused.push(`${m.text().slice(0, 240)} ${m.location()?.url || ''}`.trim());
  });
  try {
    // Room for the replay bar above a 1:1 stage.
    await page.setViewportSize({ width: VIEWPORT.width + 40, height: VIEWPORT.height + 120 });
    const at = which === 'end' ? 'end' : Math.max(0, live.time - rec.startedAt);
    await h.openReplay(rec.sessionId, at, { page });
    await page.addStyleTag({ content: '#pointer, .click { display: none !important; }' });
    await page.evaluate(() => document.getElementById('replay-frame').contentDocument.fonts?.ready).catch(() => {});
    await settle(page, 300);
    const scale = await page.evaluate(() => document.documentElement.dataset.scale);
    const assetUrls = await page.evaluate(() => window.tabreelAssetUrls || {});
    const doc = await page.evaluateHandle(() => document.getElementById('replay-frame').contentDocument);
    const dom = await doc.evaluate(normalizeDocument, { ...NORMALIZE, role: 'replay', baseUrl: live.url, assetUrls });
    await doc.dispose();
    const png = await page.locator('#replay-frame').screenshot();
    return { dom, png, at, scale, refused, errors: page.replayErrors || [] };
  } finally {
    await page.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// rrweb
// ---------------------------------------------------------------------------------------------

const RRWEB_RECORD = `
;(function () {
  if (window.top !== window || !window.rrweb) return;
  window.__rr = [];
  window.rrweb.record({
    emit(e) { window.__rr.push(e); },
    recordCanvas: true,
    inlineStylesheet: true,
    inlineImages: true,
    collectFonts: true,
    recordCrossOriginIframes: false,
  });
})();
`;

export async function recordRrweb(browser, srv, scenario) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    await context.addInitScript({ content: fs.readFileSync(RRWEB_UMD, 'utf8') + RRWEB_RECORD });
    const page = await context.newPage();
    await page.goto(srv.url(scenario.path));
    await scenario.ready(page);
    await page.waitForFunction(() => Array.isArray(window.__rr) && window.__rr.some((e) => e.type === 2), null, { timeout: 15_000 });
    await settle(page, 300);
    const mid = await runSteps(page, scenario, () => captureLive(page));
    const end = await captureLive(page);
    const events = await page.evaluate(() => window.__rr);
    return { events, mid, end };
  } finally {
    await context.close().catch(() => {});
  }
}

/** Replays rrweb events with network to the app's two origins cut (only the replayer's own files load). */
export async function replayRrweb(browser, srv, rec, which, live) {
  const context = await browser.newContext({ viewport: { width: VIEWPORT.width + 40, height: VIEWPORT.height + 40 } });
  const blocked = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    const own = u.origin === srv.origin && (u.pathname.startsWith('/rrweb/') || u.pathname === '/lib/rrweb-replay.html');
    if (!own && (u.origin === srv.origin || u.origin === srv.origin2)) {
      blocked.push(u.pathname);
      return route.abort();
    }
    return route.continue();
  });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e).slice(0, 300)));
    await page.goto(srv.url('lib/rrweb-replay.html'));
    const first = rec.events[0].timestamp;
    const offset = Math.max(0, live.time - first);
    await page.evaluate(
      ({ events, offset }) => {
        const replayer = new rrweb.Replayer(events, {
          root: document.getElementById('root'),
          mouseTail: false,
          showWarning: false,
          showDebug: false,
          triggerFocus: true,
          UNSAFE_replayCanvas: true,
          skipInactive: false,
        });
        replayer.pause(offset);
        window.__replayer = replayer;
      },
      { events: rec.events, offset },
    );
    const frame = page.locator('.replayer-wrapper iframe');
    await page.evaluate(() => document.querySelector('.replayer-wrapper iframe').contentDocument.fonts?.ready).catch(() => {});
    await settle(page, 500);
    // rrweb inlines a readable <link rel=stylesheet> as a <style> without rel/href: mark those
    // (from the replayer's mirror) so that they print as stylesheet(…) like the live links.
    await page.evaluate(() => {
      const doc = document.querySelector('.replayer-wrapper iframe').contentDocument;
      const mirror = window.__replayer.getMirror();
      const walk = (root) => {
        for (const el of root.querySelectorAll('style')) {
          const meta = mirror.getMeta(el);
          if (meta && meta.tagName === 'link') el.setAttribute('data-tabreel-href', '(inlined by rrweb)');
        }
        for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
      };
      walk(doc);
    });
    const doc = await page.evaluateHandle(() => document.querySelector('.replayer-wrapper iframe').contentDocument);
    let dom = await doc.evaluate(normalizeDocument, { ...NORMALIZE, role: 'rrweb', baseUrl: live.url, noscriptAsScript: true });
    await doc.dispose();
    // The replayer's own marks, not part of the page: the paused document's class, the ':hover'
    // class it puts on hovered elements, and its injected <style> (the first child of <html>).
    dom = dom.replace(/ class="([^"]*)"/g, (m, c) => {
      const rest = c.split(/\s+/).filter((x) => x && x !== 'rrweb-paused' && x !== ':hover').join(' ');
      return rest ? ` class="${rest}"` : '';
    });
    dom = dom.replace(/^( *)(<html[^\n]*\n)\1  <style> \{css=[0-9a-f]+ rules=\d+\}\n/gm, '$1$2');
    const png = await frame.screenshot();
    return { dom, png, at: offset, blocked, errors };
  } finally {
    await context.close().catch(() => {});
  }
}

/**
 * How rrweb's replay spells things differently on purpose, removed before its comparison (both
 * sides): stylesheet URLs (it drops href/rel when it inlines a sheet),
 * autocomplete="off" it adds to fields, the value attribute it puts on <select>, <option selected>
 * attributes (it keeps selection as state), class whitespace and empty class/style attributes.
 */
function rrwebCanonical(text) {
  let t = text.replace(/^(\s*)stylesheet\("[^"\n]*"\)/gm, '$1stylesheet(…)');
  t = t.replace(/ class="([^"]*)"/g, (m, c) => {
    const v = c.trim().split(/\s+/).filter(Boolean).join(' ');
    return v ? ` class="${v}"` : '';
  });
  t = t.replace(/ style=""/g, '');
  t = t.replace(/^(\s*<option[^\n]*?) selected="[^"]*"/gm, '$1');
  t = t.replace(/^(\s*<(?:input|textarea|select|form)[^\n]*?) autocomplete="off"/gm, '$1');
  t = t.replace(/^(\s*<select[^\n]*?) value="[^"]*"/gm, '$1');
  return t;
}

// ---------------------------------------------------------------------------------------------
// Scoring and report
// ---------------------------------------------------------------------------------------------

function score(name, point, tool, live0, replay0) {
  const base = path.join(OUT, `${name}-${point}-${tool}`);
  let live = live0;
  let replay = replay0;
  if (tool === 'rrweb') {
    live = { ...live0, dom: rrwebCanonical(live0.dom) };
    replay = { ...replay0, dom: rrwebCanonical(replay0.dom) };
  }
  fs.writeFileSync(`${base}.live.txt`, live.dom);
  fs.writeFileSync(`${base}.replay.txt`, replay.dom);
  const s = structuralScore(live.dom, replay.dom);
  const px = pixelDifference(live.png, replay.png, { diffPath: `${base}.diff.png` });
  const diffs = lineDifferences(live.dom, replay.dom);
  fs.writeFileSync(
    `${base}.dom-diff.txt`,
    `${firstDifference(live.dom, replay.dom, { expectedLabel: 'live', actualLabel: `${tool} replay`, maxLines: 80 })}\n\n` +
      `only in live (${diffs.onlyLiveCount}):\n${diffs.onlyLive.join('\n')}\n\nonly in replay (${diffs.onlyReplayCount}):\n${diffs.onlyReplay.join('\n')}\n`,
  );
  return {
    structural: s.score,
    nodes: { live: s.live, replay: s.replay, matched: s.matched },
    pixel: px.ratio,
    sameSize: px.sameSize,
    size: `${px.width}x${px.height}`,
    onlyLive: diffs.onlyLive.slice(0, 8),
    onlyReplay: diffs.onlyReplay.slice(0, 8),
    onlyLiveCount: diffs.onlyLiveCount,
    onlyReplayCount: diffs.onlyReplayCount,
    files: `${path.relative(REPO, base)}.*`,
    liveSettled: live0.settled,
  };
}

/** Runs the scenarios; returns { rows, errors }. A scenario that fails is reported, not thrown. */
export async function runFidelity(scenarios) {
  fs.mkdirSync(OUT, { recursive: true });
  const srv = await startFidelityServer();
  const ext = await launchBrowser({ viewport: VIEWPORT });
  const h = new Harness(srv, ext);
  await h.extPage();
  const plain = await chromium.launch({
    executablePath: CHROMIUM,
    headless: false, // --headless=new in args, as for the extension browser
    args: chromiumArgs('').filter((a) => !a.includes('extension')),
  });
  const rows = [];
  const errors = [];
  try {
    for (const sc of scenarios) {
      const t0 = Date.now();
      const row = { name: sc.name, kind: sc.kind, covers: sc.covers, points: {} };
      try {
        const tick = (what) => process.env.TABREEL_FIDELITY_VERBOSE && log(`  ${sc.name}: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const tr = await recordTabreel(h, srv, sc);
        tick('tabreel recorded');
        const rr = await recordRrweb(plain, srv, sc);
        tick('rrweb recorded');
        for (const point of ['mid', 'end']) {
          const trReplay = await replayTabreel(h, tr, point, tr[point]);
          tick(`tabreel ${point} replayed`);
          const rrReplay = await replayRrweb(plain, srv, rr, point, rr[point]);
          tick(`rrweb ${point} replayed`);
          row.points[point] = {
            tabreel: { ...score(sc.name, point, 'tabreel', tr[point], trReplay), at: trReplay.at, scale: trReplay.scale, refused: [...new Set(trReplay.refused)], errors: trReplay.errors },
            rrweb: { ...score(sc.name, point, 'rrweb', rr[point], rrReplay), at: rrReplay.at, blocked: [...new Set(rrReplay.blocked)], errors: rrReplay.errors },
          };
        }
        row.rrwebEvents = rr.events.length;
      } catch (e) {
        row.error = String(e && e.stack ? e.stack : e).slice(0, 2000);
        errors.push(`${sc.name}: ${row.error}`);
      }
      row.seconds = (Date.now() - t0) / 1000;
      log(`fidelity: ${sc.name} done in ${row.seconds.toFixed(1)} s${row.error ? ' (FAILED: ' + row.error.split('\n')[0] + ')' : ''}`);
      rows.push(row);
    }
  } finally {
    await plain.close().catch(() => {});
    await h.close().catch(() => {});
  }
  return { rows, errors };
}

const pct = (r) => `${(r * 100).toFixed(2)} %`;
const meets = (t) => t.structural >= TARGETS.structural && t.pixel <= TARGETS.pixel;

/** The results table (markdown) and a per-row detail section. */
export function report(rows, { mode } = {}) {
  const lines = [];
  lines.push(`# tabreel fidelity (${mode || 'fast'} mode, ${new Date().toISOString()})`);
  lines.push('');
  lines.push(`Targets for tabreel: structural ${TARGETS.structural.toFixed(3)}, pixels ≤ ${(TARGETS.pixel * 100).toFixed(1)} %. Viewport ${VIEWPORT.width}x${VIEWPORT.height}. rrweb 2.2.2 replays with the app's origins blocked (offline, like tabreel).`);
  lines.push('');
  lines.push('| scenario | point | tabreel structural | tabreel pixels | rrweb structural | rrweb pixels | tabreel target |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.error) {
      lines.push(`| ${r.name} | – | error | error | error | error | misses (run failed) |`);
      continue;
    }
    for (const point of ['end', 'mid']) {
      const p = r.points[point];
      lines.push(
        `| ${r.name} | ${point} | ${p.tabreel.structural.toFixed(3)} | ${pct(p.tabreel.pixel)} | ${p.rrweb.structural.toFixed(3)} | ${pct(p.rrweb.pixel)} | ${meets(p.tabreel) ? 'meets' : 'misses'} |`,
      );
    }
  }
  lines.push('');
  lines.push('## Details');
  for (const r of rows) {
    lines.push('');
    lines.push(`### ${r.name} (${r.kind}; ${r.seconds?.toFixed(1)} s)`);
    lines.push(`Covers: ${r.covers}.`);
    if (r.error) {
      lines.push('```');
      lines.push(r.error);
      lines.push('```');
      continue;
    }
    for (const point of ['end', 'mid']) {
      const p = r.points[point];
      for (const tool of ['tabreel', 'rrweb']) {
        const t = p[tool];
        lines.push(`- **${point} / ${tool}** (at ${t.at} ms): structural ${t.structural.toFixed(3)} (${t.nodes.matched} of live ${t.nodes.live} / replay ${t.nodes.replay} lines), pixels ${pct(t.pixel)}${t.sameSize ? '' : ` (sizes differ, compared at ${t.size})`}${t.scale && t.scale !== '1.000' ? `, replay scale ${t.scale}` : ''}; files ${t.files}`);
        if (tool === 'tabreel' || t.structural < 1) {
          if (t.onlyLiveCount) lines.push(`  - only in live (${t.onlyLiveCount}): ${t.onlyLive.map((l) => '`' + l.slice(0, 140).replaceAll('`', "'") + '`').join(', ')}`);
          if (t.onlyReplayCount) lines.push(`  - only in replay (${t.onlyReplayCount}): ${t.onlyReplay.map((l) => '`' + l.slice(0, 140).replaceAll('`', "'") + '`').join(', ')}`);
        }
        if (t.liveSettled?.waitedMs) lines.push(`  - live capture waited ${t.liveSettled.waitedMs} ms for ${t.liveSettled.waitedFor.slice(0, 6).join(', ')} to end`);
        if (t.refused?.length) lines.push(`  - replay console: ${t.refused.slice(0, 6).map((l) => '`' + l.slice(0, 200).replaceAll('`', "'") + '`').join(', ')}${t.refused.length > 6 ? ` (+${t.refused.length - 6})` : ''}`);
        if (t.blocked?.length) lines.push(`  - requests to the app blocked during the rrweb replay: ${t.blocked.slice(0, 6).join(', ')}${t.blocked.length > 6 ? ` (+${t.blocked.length - 6})` : ''}`);
        if (t.errors?.length) lines.push(`  - replay page errors: ${t.errors.slice(0, 3).join(' | ')}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** The compact side-by-side table for the terminal. */
export function table(rows) {
  const head = ['scenario', 'point', 'tabreel struct', 'tabreel px', 'rrweb struct', 'rrweb px', 'target'];
  const body = [];
  for (const r of rows) {
    if (r.error) {
      body.push([r.name, '-', 'error', 'error', 'error', 'error', 'misses']);
      continue;
    }
    for (const point of ['end', 'mid']) {
      const p = r.points[point];
      body.push([r.name, point, p.tabreel.structural.toFixed(3), pct(p.tabreel.pixel), p.rrweb.structural.toFixed(3), pct(p.rrweb.pixel), meets(p.tabreel) ? 'meets' : 'misses']);
    }
  }
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells) => cells.map((c, i) => c.padEnd(w[i])).join('  ');
  return [fmt(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(fmt)].join('\n') + `\ntargets (tabreel): structural ${TARGETS.structural.toFixed(3)}, pixels <= ${(TARGETS.pixel * 100).toFixed(1)} %\n`;
}
