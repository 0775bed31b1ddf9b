// `node bench/trace.mjs [--case storm] [--modes none,off,rrweb,tabreel,tabreel-js,tabreel-start] [--top 30]`: where a bench
// case's main-thread time goes. Runs the case once per mode (as bench/run.mjs does, recording
// started on the blank page first) with a Chrome trace, then prints, for the page's renderer main
// thread, the self time of each trace event name side by side, plus the style/layout forced from
// script (with the script that forced it). The bench's table says how much a recorder costs;
// this says what that time is. Needs a build (`cargo xtask build`).
//
// `--profile` also samples the main thread's JS and wasm (CDP Profiler) and prints the hottest
// functions by self time; build with `TABREEL_UNMINIFIED=1 cargo xtask build` for their names,
// and `--extension DIR` takes the extension from elsewhere (default: extension/). `--untraced`
// (with `--profile`) takes the profile without a trace, which distorts calls such as `setTimeout`,
// and prints each function's total time (self and callees) too. `--inside NAME` also prints the
// self time of what ran inside the functions whose name contains NAME.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, sleep } from '../tests/e2e/harness.mjs';
import { cdpFor, mainThreadDelta, metrics } from './measure.mjs';
import { MODES, WORKLOADS, kindOf, modeQuery, noWasmHeaders, openBrowser } from './drive.mjs';
import { writePages } from './workloads.mjs';
import { CATEGORIES, pageMainThread, summarise } from './timeline.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUN = path.join(ROOT, 'bench', 'out', `trace-${process.pid}`);

function options(argv) {
  const o = { case: 'storm', modes: ['none', 'rrweb', 'tabreel'], top: 30, profile: false, extension: path.join(ROOT, 'extension') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--case') o.case = argv[++i];
    else if (a === '--modes') o.modes = argv[++i].split(',');
    else if (a === '--top') o.top = Number(argv[++i]);
    else if (a === '--profile') o.profile = true;
    else if (a === '--untraced') o.untraced = o.profile = true;
    else if (a === '--inside') o.inside = argv[++i];
    else if (a === '--extension') o.extension = path.resolve(argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  // One extension per run here (--extension): an A/B is two runs.
  const known = MODES.filter((m) => m !== 'tabreel-b');
  const unknown = o.modes.filter((m) => !known.includes(m));
  if (unknown.length) throw new Error(`modes are ${known.join(', ')}; not ${unknown.join(', ')}`);
  return o;
}

async function traceOne(server, files, name, mode, o) {
  const { browser, h } = await openBrowser(server, mode, o.extension);
  try {
    const page = await browser.context.newPage();
    await page.goto(server.url(`${files.blank}?tab=1`));
    await page.bringToFront();
    let rec = null;
    const startLater = mode === 'tabreel-start';
    if (startLater) {
      // As the bench: the page loaded first, recording started inside the window.
      await page.goto(server.url(`${files[name]}?run=1`), { waitUntil: 'load', timeout: 300_000 });
      await sleep(1000);
    } else if (mode === 'tabreel' || mode === 'tabreel-js') {
      rec = await h.startRecording(page);
      await sleep(300);
    }
    const cdp = await cdpFor(browser.context, page);
    const m0 = await metrics(cdp);
    const events = [];
    cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
    const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    if (o.profile) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    if (!o.untraced) await cdp.send('Tracing.start', { traceConfig: { includedCategories: CATEGORIES, recordMode: 'recordAsMuchAsPossible' }, transferMode: 'ReportEvents' });
    if (startLater) rec = await h.startRecording(page);
    else await WORKLOADS[kindOf(name)](page, server.url(`${files[name]}?run=1${modeQuery(mode)}`), { idleSeconds: 15, mark: async () => {} });
    await sleep(1000);
    if (rec) await h.stopRecording(rec.tabId);
    const m1 = await metrics(cdp);
    const profile = o.profile ? (await cdp.send('Profiler.stop')).profile : null;
    if (!o.untraced) {
      await cdp.send('Tracing.end');
      await done;
    }
    return { events, delta: mainThreadDelta(m0, m1), profile };
  } finally {
    await browser.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Self time (ms) per function of a CPU profile, hottest first; only the samples taken within
 * `[from, to)` (trace clock, µs) when given. With `inclusive`, each function's total time instead:
 * every sample counts once for each function on its stack. With `inside`, only the samples with a
 * function whose name contains it on their stack. */
function hottest(profile, from = -Infinity, to = Infinity, inclusive = false, inside = null) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const key = (n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\//, '')}`;
  const by = new Map();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at >= to) return;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (inside) {
      let n = id;
      while (n !== undefined && !key(byId.get(n)).includes(inside)) n = parent.get(n);
      if (n === undefined) return;
    }
    const seen = new Set();
    for (let n = id; n !== undefined; n = inclusive ? parent.get(n) : undefined) {
      const k = key(byId.get(n));
      if (!seen.has(k)) by.set(k, (by.get(k) ?? 0) + ms);
      seen.add(k);
    }
  });
  return [...by].sort((a, b) => b[1] - a[1]);
}

async function main() {
  const o = options(process.argv.slice(2));
  fs.mkdirSync(path.join(RUN, 'pages'), { recursive: true });
  const files = writePages(path.join(RUN, 'pages'), [o.case]);
  const server = await startServer({ root: path.join(RUN, 'pages'), headers: noWasmHeaders(files) });
  const out = {};
  try {
    for (const mode of o.modes) {
      process.stderr.write(`trace: ${o.case} ${mode} ... `);
      const { events, delta, profile } = await traceOne(server, files, o.case, mode, o);
      const key = pageMainThread(events);
      out[mode] = { ...summarise(events, key), delta, hot: profile && hottest(profile), inclusive: profile && o.untraced ? hottest(profile, -Infinity, Infinity, true) : null, inside: profile && o.inside ? hottest(profile, -Infinity, Infinity, false, o.inside) : null };
      if (profile) for (const t of out[mode].long) t.hot = hottest(profile, t.ts, t.ts + t.wall * 1000).filter(([, v]) => v > 0);
      process.stderr.write(`${events.length} events, traced main thread ${out[mode].total.toFixed(0)} ms, metrics: tasks ${delta.taskMs.toFixed(0)} script ${delta.scriptMs.toFixed(0)} style+layout ${delta.layoutMs.toFixed(0)} ms\n`);
    }
  } finally {
    await server.close();
    fs.rmSync(RUN, { recursive: true, force: true });
  }
  const names = new Set();
  for (const m of o.modes) for (const [n] of [...out[m].self].sort((a, b) => b[1] - a[1]).slice(0, o.top)) names.add(n);
  const pad = (s, n) => String(s).padEnd(n);
  const num = (v) => (v ?? 0).toFixed(1).padStart(10);
  console.log(`${pad(`self time (ms), ${o.case}`, 48)}${o.modes.map((m) => m.padStart(10)).join('')}`);
  console.log(`${pad('top-level total', 48)}${o.modes.map((m) => num(out[m].total)).join('')}`);
  for (const n of [...names].sort((a, b) => (out[o.modes.at(-1)].self.get(b) ?? 0) - (out[o.modes.at(-1)].self.get(a) ?? 0))) {
    console.log(`${pad(n.slice(0, 47), 48)}${o.modes.map((m) => num(out[m].self.get(n))).join('')}`);
  }
  for (const m of o.modes) {
    const b = [...out[m].byScript].sort((a, b) => b[1] - a[1]).slice(0, 8);
    console.log(`\nscript by source (nested script excluded) in ${m}:\n${b.map(([k, v]) => `  ${v.toFixed(1).padStart(8)} ms  ${k}`).join('\n')}`);
  }
  for (const m of o.modes) {
    const c = [...out[m].calls].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
    if (c.length) console.log(`\nscript not the page's, by what ran it in ${m} (calls, ms, ms per call: mean, median, max):\n${c.map(([k, v]) => `  ${String(v.n).padStart(6)} ${v.ms.toFixed(1).padStart(8)} ${(v.ms / v.n).toFixed(3).padStart(7)} ${median(v.each).toFixed(3).padStart(7)} ${Math.max(...v.each).toFixed(3).padStart(8)}  ${k}`).join('\n')}`);
  }
  for (const m of o.modes) {
    if (out[m].hot) console.log(`\nhottest functions (self ms) in ${m}:\n${out[m].hot.slice(0, o.top).map(([k, v]) => `  ${v.toFixed(1).padStart(8)} ms  ${k}`).join('\n')}`);
    if (out[m].inside) console.log(`\nself ms inside ${o.inside} in ${m}:\n${out[m].inside.slice(0, o.top).map(([k, v]) => `  ${v.toFixed(1).padStart(8)} ms  ${k}`).join('\n')}`);
    if (out[m].inclusive) console.log(`\nfunctions by total time (self and callees, ms) in ${m}:\n${out[m].inclusive.slice(0, o.top).map(([k, v]) => `  ${v.toFixed(1).padStart(8)} ms  ${k}`).join('\n')}`);
  }
  for (const m of o.modes) {
    // Each task over 50 ms (wall time): whose script it ran first, and where its time went.
    // The 8 longest, and every other one that a script other than the page's started.
    const l = [...out[m].long.slice(0, 8), ...out[m].long.slice(8).filter((t) => t.label && !t.label.endsWith('.html'))];
    if (l.length) console.log(`\ntasks over 50 ms in ${m} (wall ms, first script; self ms of what ran inside):\n${l.map((t) => `  ${t.wall.toFixed(1).padStart(8)}  ${t.label ?? t.name}${t.nth ? ` (task ${t.nth})` : ''}: ${[...t.parts].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}${t.hot ? `\n            sampled: ${t.hot.slice(0, 8).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}` : ''}`).join('\n')}`);
  }
  for (const m of o.modes) {
    const f = [...out[m].forced].sort((a, b) => b[1] - a[1]).slice(0, 10);
    if (f.length) console.log(`\nforced style/layout in ${m}:\n${f.map(([k, v]) => `  ${v.toFixed(1).padStart(8)} ms  ${k}`).join('\n')}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
