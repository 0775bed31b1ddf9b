// `node bench/ab.mjs [--case storm] [--repeat 6] [--start] [--js] A_DIR B_DIR` (either may be `rrweb`,
// whose script is everything on the page's main thread that is not the page's): what a change to the
// recorder saves, measured on its own script rather than on the whole page. Runs the case with two
// builds of the extension (A and B), alternating which goes first, each run recording as the
// bench's `tabreel` mode does (from the blank page on; `--start`: the page loaded first, as
// `tabreel-start`; `--js`: the page served with the CSP that refuses wasm, as `tabreel-js`), with a
// light Chrome trace (no stacks, no GC categories), and prints per build the median, min and max of
// the extension's own script time on the page's main thread (thread time, from the trace), next to
// the page's own script and CDP's main-thread totals. The whole machine runs faster or slower from
// one run to the next, the page and the recorder alike, so the recorder's script per ms of the
// page's own script is the steadiest of these numbers.
//
// Why: the bench's cells include the page's own work, which varies by ±10-20 % from run to run on
// these machines, so two builds that differ by a few percent of the recorder's time cannot be told
// apart there. The extension's script alone varies far less.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, sleep } from '../tests/e2e/harness.mjs';
import { cdpFor, mainThreadDelta, metrics } from './measure.mjs';
import { NO_WASM_POLICY, WORKLOADS, kindOf, noWasmHeaders, openBrowser } from './drive.mjs';
import { writePages } from './workloads.mjs';
import { LIGHT_CATEGORIES, scriptBySource } from './timeline.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUN = path.join(ROOT, 'bench', 'out', `ab-${process.pid}`);

function options(argv) {
  const o = { case: 'storm', repeat: 6, start: false, js: false, dirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--case') o.case = argv[++i];
    else if (a === '--repeat') o.repeat = Number(argv[++i]);
    else if (a === '--start') o.start = true;
    else if (a === '--js') o.js = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.dirs.push(a === 'rrweb' ? a : path.resolve(a));
  }
  if (o.dirs.length !== 2) throw new Error('usage: node bench/ab.mjs [--case storm] [--repeat 6] [--start] [--js] A_DIR B_DIR');
  if (o.start && !o.case.startsWith('bigdom-')) throw new Error('--start is for bigdom cases');
  if (o.start && o.dirs.includes('rrweb')) throw new Error('rrweb records from the start only');
  for (const d of o.dirs) if (d !== 'rrweb' && !fs.existsSync(path.join(d, 'manifest.json'))) throw new Error(`${d} has no manifest.json`);
  return o;
}

async function runOnce(server, files, o, dir) {
  const rrweb = dir === 'rrweb';
  const { browser, h } = await openBrowser(server, rrweb ? 'rrweb' : 'tabreel', dir);
  try {
    const page = await browser.context.newPage();
    await page.goto(server.url(`${files.blank}?tab=1`));
    await page.bringToFront();
    const url = server.url(`${files[o.case]}?run=1${o.js ? '&csp=nowasm' : ''}`);
    let rec = null;
    if (o.start) {
      await page.goto(url, { waitUntil: 'load', timeout: 300_000 });
      await sleep(1000);
    } else if (!rrweb) {
      rec = await h.startRecording(page);
      await sleep(300);
    }
    const cdp = await cdpFor(browser.context, page);
    const events = [];
    cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
    const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    const m0 = await metrics(cdp);
    await cdp.send('Tracing.start', { traceConfig: { includedCategories: LIGHT_CATEGORIES, recordMode: 'recordAsMuchAsPossible' }, transferMode: 'ReportEvents' });
    if (o.start) rec = await h.startRecording(page);
    else await WORKLOADS[kindOf(o.case)](page, url, { idleSeconds: 15, mark: async () => {} });
    await sleep(1000);
    if (rec) await h.stopRecording(rec.tabId);
    const m1 = await metrics(cdp);
    await cdp.send('Tracing.end');
    await done;
    const split = scriptBySource(events);
    // rrweb's script has no URL of its own (an init script): everything that is not the page's.
    const ext = rrweb ? split.notPage : split.extension;
    const own = split.page;
    return { ext, page: own, perPage: own > 0 ? ext / own : NaN, ...mainThreadDelta(m0, m1) };
  } finally {
    await browser.close();
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, min: s[0], max: s.at(-1) };
};

async function main() {
  const o = options(process.argv.slice(2));
  fs.mkdirSync(path.join(RUN, 'pages'), { recursive: true });
  const files = writePages(path.join(RUN, 'pages'), [o.case]);
  const server = await startServer({ root: path.join(RUN, 'pages'), headers: noWasmHeaders(files) });
  const runs = [[], []];
  try {
    for (let rep = 0; rep < o.repeat; rep++) {
      const order = rep % 2 ? [1, 0] : [0, 1];
      for (const b of order) {
        const r = await runOnce(server, files, o, o.dirs[b]);
        runs[b].push(r);
        process.stderr.write(`ab: [${rep + 1}/${o.repeat}] ${'AB'[b]}: extension script ${r.ext.toFixed(1)} ms, page script ${r.page.toFixed(1)} ms, tasks ${r.taskMs.toFixed(0)} ms\n`);
      }
    }
  } finally {
    await server.close();
    fs.rmSync(RUN, { recursive: true, force: true });
  }
  const rows = [
    ['extension script (ms, trace)', 'ext'],
    ['  per ms of page script', 'perPage'],
    ['page script (ms, trace)', 'page'],
    ['main-thread tasks (ms, CDP)', 'taskMs'],
    ['script (ms, CDP)', 'scriptMs'],
  ];
  const n = (x) => (Math.abs(x) < 10 ? x.toFixed(3) : x.toFixed(1));
  const cell = (s) => `${n(s.median)} (${n(s.min)}-${n(s.max)})`.padStart(24);
  console.log(`${o.case}${o.start ? ' --start' : ''}${o.js ? ` --js (${NO_WASM_POLICY})` : ''}, ${o.repeat} runs each; median (min-max)`);
  console.log(`A: ${o.dirs[0]}\nB: ${o.dirs[1]}`);
  console.log(`${''.padEnd(30)}${'A'.padStart(24)}${'B'.padStart(24)}     B/A`);
  for (const [label, key] of rows) {
    const [a, b] = runs.map((rs) => stats(rs.map((r) => r[key])));
    console.log(`${label.padEnd(30)}${cell(a)}${cell(b)}${(b.median / a.median).toFixed(3).padStart(8)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
