// `cargo xtask bench` (node bench/run.mjs [--quick] [--repeat N] [--cases a,b] [--idle-seconds S] [--modes a,b] [--trace]):
// what recording costs a page, measured in real headless Chromium with the real extension, against
// the same page unrecorded and recorded by rrweb, all in one run. Every (case, mode, repeat) gets
// a fresh browser profile. Prints a table and writes bench/out/results.md and results.json.
// See bench/README.md for what each number means.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';

import { launchBrowser, startServer, sleep } from '../tests/e2e/harness.mjs';
import { LONGTASK_INIT, browserCpu, cdpFor, cpuDelta, heap, longTasks, mainThreadDelta, metrics } from './measure.mjs';
import { runRrwebSeek, runTabreelSeek, seekSession, writeRrwebReplayPage } from './seek.mjs';
import { MODES as ALL_MODES, RECORDS_FROM_BLANK, NO_WASM_POLICY, RRWEB_UMD, WORKLOADS, kindOf, modeQuery, noWasmHeaders, openBrowser } from './drive.mjs';
import { writePages } from './workloads.mjs';
import { LIGHT_CATEGORIES, scriptBySource } from './timeline.mjs';

// bench/out of this file's tree (not the harness's: other worktrees may share tests/ and
// node_modules with this one). Each run works in its own directory there, removed at the end, so
// runs in parallel cannot swap each other's pages or extension.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench', 'out');
const RUN = path.join(OUT, `run-${process.pid}`);
const PAGES = path.join(RUN, 'pages');
// The extension as it was when the run started: a rebuild of extension/gen during a run (others
// work in this tree) must not mix two builds in one table.
const EXTENSION = path.join(RUN, 'extension');
const SOURCE_EXTENSION = path.resolve(process.env.TABREEL_EXTENSION || path.join(ROOT, 'extension'));
// `tabreel-b`: a second build, as `tabreel`, in the same run (an A/B whose ratios share one run).
const EXTENSION_B = path.join(RUN, 'extension-b');
const SOURCE_EXTENSION_B = process.env.TABREEL_EXTENSION_B ? path.resolve(process.env.TABREEL_EXTENSION_B) : null;
const ALL_CASES = ['bigdom-10000', 'bigdom-50000', 'bigdom-200000', 'storm', 'storm-css', 'interactions', 'idle', 'seek'];
const QUICK_CASES = ['bigdom-10000', 'storm', 'interactions', 'idle', 'seek'];

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

function options(argv) {
  const o = { quick: false, repeat: null, cases: null, idleSeconds: null, modes: null, trace: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? fail(`${a} needs a value`);
    if (a === '--quick') o.quick = true;
    else if (a === '--repeat') o.repeat = Number(value());
    else if (a.startsWith('--repeat=')) o.repeat = Number(a.slice(9));
    else if (a === '--cases') o.cases = value().split(',');
    else if (a.startsWith('--cases=')) o.cases = a.slice(8).split(',');
    else if (a === '--idle-seconds') o.idleSeconds = Number(value());
    else if (a === '--modes') o.modes = value().split(',');
    else if (a === '--trace') o.trace = true;
    else fail(`unknown argument ${a}\nusage: cargo xtask bench [--quick] [--repeat N] [--cases ${ALL_CASES.join(',')}] [--idle-seconds S] [--modes ${ALL_MODES.join(',')}] [--trace]`);
  }
  o.repeat ??= o.quick ? 1 : 3;
  o.cases ??= o.quick ? QUICK_CASES : ALL_CASES;
  o.idleSeconds ??= o.quick ? 15 : 60;
  for (const c of o.cases) if (!ALL_CASES.includes(c)) fail(`unknown case ${c} (cases: ${ALL_CASES.join(', ')})`);
  if (!(o.repeat >= 1)) fail('--repeat must be at least 1');
  for (const m of o.modes ?? []) if (!ALL_MODES.includes(m)) fail(`unknown mode ${m} (modes: ${ALL_MODES.join(', ')})`);
  if (o.modes?.includes('tabreel-b') && !SOURCE_EXTENSION_B) fail('tabreel-b needs TABREEL_EXTENSION_B (the second build)');
  return o;
}

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}

/** The modes case `c` runs in; `--modes` keeps only those named (an A/B of two builds needs fewer). */
const modesOf = (c, only) =>
  (c === 'seek' ? ['rrweb', 'tabreel'] : c.startsWith('bigdom-') ? ALL_MODES : ALL_MODES.filter((m) => m !== 'tabreel-start'))
    .filter((m) => (only ? only.includes(m) : m !== 'tabreel-b'));

// tabreel-js: the workload is served with a policy that refuses wasm (and allows everything the
// workloads do), so the recorder runs its wasm2js build, as on github.com-like pages.

// ---------------------------------------------------------------------------------------------
// One measured run of one case in one mode
// ---------------------------------------------------------------------------------------------

let uniq = 0;

const gzip = (s) => zlib.gzipSync(Buffer.from(s)).length;

async function runCase(server, files, name, mode, opts) {
  const kind = kindOf(name);
  const { browser, h } = await openBrowser(server, mode, mode === 'tabreel-b' ? EXTENSION_B : EXTENSION, [LONGTASK_INIT]);
  try {
    const { context } = browser;
    const page = await context.newPage();
    await page.goto(server.url(`${files.blank}?tab=${++uniq}`));
    await page.bringToFront();
    const url = server.url(`${files[name]}?run=${uniq}${modeQuery(mode)}`);
    const cdp = await cdpFor(context, page);
    let rec = null;
    if (RECORDS_FROM_BLANK.includes(mode)) {
      rec = await h.startRecording(page);
      await sleep(300);
    }
    if (mode === 'tabreel-start') {
      await page.goto(url, { waitUntil: 'load', timeout: 300_000 });
      await sleep(1000);
    }
    // The idle case's steady state: two marks [page epoch ms, tabreel stored bytes so far].
    const marks = [];
    const mark = async () => marks.push([await page.evaluate(() => Date.now()), rec ? ((await h.list()).find((s) => s.id === rec.sessionId)?.bytes ?? 0) : 0]);

    // With --trace, a light trace (no stacks, no GC categories) says whose script ran on the
    // main thread. It makes every traced call dearer, most on pages with many events.
    const traced = [];
    const traceDone = opts.trace && new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    if (opts.trace) {
      cdp.on('Tracing.dataCollected', (e) => traced.push(...e.value));
      await cdp.send('Tracing.start', { traceConfig: { includedCategories: LIGHT_CATEGORIES, recordMode: 'recordAsMuchAsPossible' }, transferMode: 'ReportEvents' });
    }
    const m0 = await metrics(cdp);
    const c0 = browserCpu(browser.userDataDir);
    const w0 = Date.now();
    let since = 0;
    let extra = {};
    if (mode === 'tabreel-start') {
      since = await page.evaluate(() => performance.now());
      rec = await h.startRecording(page);
    } else {
      extra = await WORKLOADS[kind](page, url, { idleSeconds: opts.idleSeconds, mark });
    }
    await sleep(1000);
    if (rec) await h.stopRecording(rec.tabId);
    const m1 = await metrics(cdp);
    const c1 = browserCpu(browser.userDataDir);
    if (opts.trace) {
      await cdp.send('Tracing.end');
      await traceDone;
    }
    const [[a, storedAtA] = [], [b, storedAtB] = []] = marks;
    const perMin = 60_000 / (b - a);
    const r = { wallMs: Date.now() - w0, ...extra, ...mainThreadDelta(m0, m1), ...cpuDelta(c0, c1) };
    // Script by source: the page's own, and everything else (the recorder's: the extension's
    // content script, or rrweb's init script; with no recorder, the harness's few calls).
    if (opts.trace) {
      const { page: pageMs, notPage } = scriptBySource(traced);
      r.pageScriptMs = pageMs;
      r.otherScriptMs = notPage;
    }
    Object.assign(r, await longTasks(page, since));
    Object.assign(r, await heap(cdp));

    if (mode === 'rrweb') {
      const text = await page.evaluate(() => JSON.stringify(window.__rr));
      r.rawKB = text.length / 1024;
      r.storedKB = gzip(text) / 1024;
      r.events = await page.evaluate(() => window.__rr.length);
      if (marks.length === 2) {
        const steady = await page.evaluate(([a, b]) => JSON.stringify(window.__rr.filter((e) => e.timestamp > a && e.timestamp <= b)), [a, b]);
        Object.assign(r, { rawPerMinKB: (steady.length / 1024) * perMin, storedPerMinKB: (gzip(steady) / 1024) * perMin });
      }
    }
    if (rec) {
      const s = (await h.list()).find((x) => x.id === rec.sessionId);
      const text = await h.exportSession(rec.sessionId);
      Object.assign(r, { storedKB: s.bytes / 1024, rawKB: text.length / 1024, events: s.eventCount });
      if (marks.length === 2) {
        const steady = JSON.parse(text).events.filter((e) => e.t > a && e.t <= b);
        Object.assign(r, { rawPerMinKB: (JSON.stringify(steady).length / 1024) * perMin, storedPerMinKB: ((storedAtB - storedAtA) / 1024) * perMin });
      }
    }
    if (!h) delete r.extMs; // no extension, no extension process
    r.timeDomain = cdp.timeDomain;
    return r;
  } finally {
    await browser.close();
  }
}

async function runSeek(server, mode, session, rrwebPage) {
  const { browser, h } = await openBrowser(server, mode === 'tabreel' ? 'tabreel' : 'none', EXTENSION, [LONGTASK_INIT]);
  try {
    const res = mode === 'tabreel' ? await runTabreelSeek(h, session) : await runRrwebSeek(await browser.context.newPage(), server.url(rrwebPage), session);
    const r = { openMs: res.openMs };
    if (res.prepareMs !== undefined) r.prepareMs = res.prepareMs;
    for (const s of res.seeks) {
      r[`seek ${s.label}`] = s.js;
      r[`seek ${s.label} +layout`] = s.layout;
      if (s.newest !== s.expected) r.problem = `${mode}: after seeking to ${s.label} the newest item shown is ${s.newest}, expected ${s.expected}`;
    }
    return r;
  } finally {
    await browser.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

// [key, label, ratio kind]: 'added' = (tabreel − none)/(rrweb − none), 'plain' = tabreel/rrweb.
const METRICS = [
  ['taskMs', 'main-thread tasks (ms)', 'added'],
  ['addedTaskMs', '  added vs none (ms)', null],
  ['scriptMs', 'script (ms)', 'added'],
  ['otherScriptMs', "  not the page's (ms, trace)", 'added'],
  ['pageScriptMs', "  the page's own (ms, trace)", 'added'],
  ['layoutMs', 'style+layout (ms)', 'added'],
  ['maxMs', 'longest task (ms)', 'plain'],
  ['over50', 'tasks > 50 ms', 'plain'],
  ['jsHeapMB', 'JS heap after GC (MB)', 'added'],
  ['backingMB', 'ArrayBuffers (MB)', null],
  ['extMs', 'extension processes CPU (ms)', null],
  ['totalMs', 'all browser processes CPU (ms)', 'added'],
  ['storedKB', 'bytes stored (KB; rrweb: gzip)', 'plain'],
  ['rawKB', 'bytes raw JSON (KB)', 'plain'],
  ['storedPerMinKB', 'steady bytes stored/min (KB)', 'plain'],
  ['rawPerMinKB', 'steady bytes raw/min (KB)', 'plain'],
  ['events', 'events recorded', null],
  ['loadMs', 'load event (ms)', 'added'],
  ['stormMs', '180 frames took (ms)', 'added'],
  ['driveMs', 'driving the input took (ms)', 'added'],
  ['wallMs', 'measured window (ms)', null],
  ['openMs', 'open replay at 0 (ms)', 'plain'],
  ['prepareMs', 'keyframes ready after open (ms)', 'plain'],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x) => (x === undefined || Number.isNaN(x) ? '' : Number.isInteger(x) || Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

function summarise(samples) {
  const xs = samples.filter((x) => typeof x === 'number' && !Number.isNaN(x));
  return xs.length ? { median: median(xs), min: Math.min(...xs), n: xs.length } : null;
}

function table(results, opts) {
  const modes = ALL_MODES;
  const cols = [...modes, 'tabreel/rrweb', 'b/rrweb', 'js/rrweb', 'start/rrweb', 'observer/rrweb'];
  let rows = [];
  for (const c of opts.cases) {
    const byMode = results[c] || {};
    const keys = new Set(Object.values(byMode).flatMap((runs) => runs.flatMap((r) => Object.keys(r))));
    const stat = (mode, key) => summarise((byMode[mode] || []).map((r) => r[key]));
    const metricList = c === 'seek' ? [...keys].filter((k) => k.startsWith('seek ')).map((k) => [k, `${k} (ms)`, 'plain']).concat(METRICS.filter(([k]) => k === 'openMs' || k === 'prepareMs')) : METRICS;
    for (const [key, label, ratio] of metricList) {
      if (key === 'addedTaskMs') {
        const none = stat('none', 'taskMs');
        if (!none) continue;
        const cells = modes.map((m) => {
          const s = stat(m, 'taskMs');
          return s && m !== 'none' ? fmt(s.median - none.median) : '';
        });
        rows.push([c, label, ...cells, '', '', '', '', '']);
        continue;
      }
      if (!keys.has(key)) continue;
      const cells = modes.map((m) => {
        const s = stat(m, key);
        return !s ? '' : opts.repeat > 1 ? `${fmt(s.median)} (${fmt(s.min)})` : fmt(s.median);
      });
      const ratioOf = (m) => {
        const t = stat(m, key)?.median;
        const rr = stat('rrweb', key)?.median;
        if (t === undefined || rr === undefined || !ratio) return '';
        if (ratio === 'plain') return rr > 0 ? (t / rr).toFixed(2) : '';
        const n = stat('none', key)?.median;
        return n !== undefined && rr - n > 0 ? ((t - n) / (rr - n)).toFixed(2) : 'n/a';
      };
      rows.push([c, label, ...cells, ratioOf('tabreel'), ratioOf('tabreel-b'), ratioOf('tabreel-js'), ratioOf('tabreel-start'), ratioOf('observer')]);
    }
  }
  // Columns no case filled (tabreel-start without a bigdom case; none/off with only seek) go.
  const keep = [0, 1, ...cols.map((_, i) => i + 2).filter((i) => rows.some((r) => r[i] !== ''))];
  const head = keep.map((i) => ['case', 'metric', ...cols][i]);
  rows = rows.map((r) => keep.map((i) => r[i]));
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((x, i) => (i < 2 ? x.padEnd(width[i]) : x.padStart(width[i]))).join(' | ');
  const out = [line(head), width.map((w) => '-'.repeat(w)).join('-|-')];
  let last = null;
  for (const r of rows) {
    if (last !== null && r[0] !== last) out.push('');
    out.push(line(r[0] === last ? ['', ...r.slice(1)] : r));
    last = r[0];
  }
  return out.join('\n');
}

function report(results, problems, opts, info) {
  const cells = opts.repeat > 1 ? `median (min) of ${opts.repeat} runs` : '1 run each';
  const text = [
    `tabreel bench, ${info.date}: ${info.browser}, ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`,
    `Extension: ${info.extension}.`,
    `Only ratios within one run count: absolute numbers depend on this machine and what else it was doing.`,
    `Cells: ${cells}.${info.timeDomain ? ` Main-thread times are ${info.timeDomain === 'threadTicks' ? 'thread CPU time' : 'wall time'} of the page's renderer main thread (CDP Performance).` : ''}`,
    `tabreel/rrweb: for times and heap (tabreel − none)/(rrweb − none), for bytes and task lengths tabreel/rrweb. start/rrweb: the same for tabreel-start.`,
    `observer/rrweb: the same for an observer that does nothing (what the browser charges any recorder that observes mutations, tabreel and rrweb alike).`,
    `tabreel-start: the bigdom page loaded first, then recording started (the snapshot of a loaded DOM). rrweb snapshots at load.`,
    `tabreel: pages without a CSP, so the recorder runs as wasm. tabreel-js (js/rrweb): the same page served with a CSP that refuses wasm ("${NO_WASM_POLICY}"), so it runs its wasm2js build.`,
    '',
    table(results, opts),
    ...(problems.length ? ['', 'Problems:', ...problems.map((p) => `- ${p}`)] : []),
  ].join('\n');
  return text;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

/** Copies an extension (`from`, default TABREEL_EXTENSION or extension/) into the run's directory; returns what was copied. */
function snapshotExtension(from = SOURCE_EXTENSION, to = EXTENSION) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true, dereference: true });
  const hash = (f) => crypto.createHash('sha256').update(fs.readFileSync(path.join(to, 'gen', f))).digest('hex').slice(0, 12);
  const built = fs.statSync(path.join(from, 'gen', 'capture.js')).mtime.toISOString().slice(0, 16).replace('T', ' ');
  const git = (...a) => {
    try {
      return execFileSync('git', a, { cwd: ROOT }).toString().trim();
    } catch {
      return '?';
    }
  };
  const dirty = git('status', '--porcelain', '--', 'src', 'extension', 'popup') ? ', src/ has uncommitted changes' : '';
  return `capture.js ${hash('capture.js')}, capture-wasm.js ${hash('capture-wasm.js')} built ${built}, HEAD ${git('rev-parse', '--short', 'HEAD')}${dirty}`;
}

async function main() {
  const opts = options(process.argv.slice(2));
  fs.mkdirSync(PAGES, { recursive: true });
  let extension = snapshotExtension();
  if (opts.modes?.includes('tabreel-b')) extension += `; tabreel-b: ${SOURCE_EXTENSION_B}, ${snapshotExtension(SOURCE_EXTENSION_B, EXTENSION_B)}`;
  const files = writePages(PAGES, opts.cases);
  const session = opts.cases.includes('seek') ? seekSession() : null;
  const rrwebPage = session ? writeRrwebReplayPage(PAGES, RRWEB_UMD, session) : null;
  const server = await startServer({ root: PAGES, headers: noWasmHeaders(files) });
  const results = {};
  const problems = [];
  const info = { date: new Date().toISOString().slice(0, 16).replace('T', ' '), browser: '', timeDomain: '', extension };
  const started = Date.now();
  try {
    for (let rep = 0; rep < opts.repeat; rep++) {
      for (const c of opts.cases) {
        for (const mode of modesOf(c, opts.modes)) {
          const label = `[${rep + 1}/${opts.repeat}] ${c} ${mode}`;
          process.stderr.write(`bench: ${label} ... `);
          const t0 = Date.now();
          try {
            const r = c === 'seek' ? await runSeek(server, mode, session, rrwebPage) : await runCase(server, files, c, mode, opts);
            ((results[c] ??= {})[mode] ??= []).push(r);
            info.timeDomain ||= r.timeDomain;
            if (r.problem) problems.push(r.problem);
            process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s${r.taskMs !== undefined ? `, tasks ${fmt(r.taskMs)} ms, longest ${fmt(r.maxMs)} ms` : ''}${r.storedKB !== undefined ? `, ${fmt(r.storedKB)} KB stored` : ''}\n`);
          } catch (e) {
            problems.push(`${label} failed: ${String(e.message).split('\n')[0]}`);
            process.stderr.write(`failed: ${e.message}\n`);
          }
        }
      }
    }
  } finally {
    await server.close();
    fs.rmSync(RUN, { recursive: true, force: true });
  }
  info.browser = await browserVersion();
  const text = report(results, problems, opts, info);
  console.log(text);
  fs.writeFileSync(path.join(OUT, 'results.md'), `# tabreel bench results\n\n\`\`\`\n${text}\n\`\`\`\n`);
  fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({ info, options: opts, results, problems }, null, 1));
  process.stderr.write(`bench: done in ${((Date.now() - started) / 60000).toFixed(1)} min; wrote bench/out/results.md and results.json\n`);
}

async function browserVersion() {
  const b = await launchBrowser({ extensionDir: null });
  try {
    const page = await b.context.newPage();
    return (await page.evaluate(() => navigator.userAgent)).match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium';
  } finally {
    await b.close();
  }
}

await main();
