// `node bench/per-event.mjs [--modes none,rrweb,tabreel,tabreel-js] [--n 5000] [--extension DIR]`: what one
// recorded event costs the page's main thread, in CPU time, with no recorder, with rrweb and with
// tabreel in the same run. The bench's cases (bench/run.mjs) say what a workload costs as a
// whole; this splits that into the price of one mouse move and of one mutation callback, which
// the workloads multiply: interactions and idle pay per callback, the storm per record.
//
// Each test runs N iterations inside one task of the page (a loop, awaiting a microtask between
// mutations so that each gets its own observer callback), and the task's CPU time is read from
// CDP `Performance.getMetrics` (`TaskDuration`, thread ticks), so time descheduled on a busy
// machine does not count. Median of 5 runs per test; the recorder's flush runs between them.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, sleep } from '../tests/e2e/harness.mjs';
import { modeQuery, noWasmHeaders, openBrowser } from './drive.mjs';
import { cdpFor, mainThreadDelta, metrics } from './measure.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUN = path.join(ROOT, 'bench', 'out', `per-event-${process.pid}`);
const REPEATS = 5;

const TESTS = {
  'mouse move (one listener call)': 'move',
  'attribute set, own callback': 'attribute',
  'text set, own callback': 'text',
  'element added and removed, own callback': 'addRemove',
  'attribute set, 5000 per callback': 'attributeBatch',
};

const PAGE = `<!doctype html><title>per-event</title><body><div id=a>hello</div><div id=box style="width:300px;height:300px"></div>
<script>
window.tests = {
  move(n) { const box = document.getElementById('box'); for (let i = 0; i < n; i++) box.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: i % 300, clientY: 5 })); },
  async attribute(n) { const a = document.getElementById('a'); for (let i = 0; i < n; i++) { a.setAttribute('data-x', String(i)); await null; } },
  async text(n) { const a = document.getElementById('a'); for (let i = 0; i < n; i++) { a.firstChild.data = 'v' + i; await null; } },
  async addRemove(n) { const box = document.getElementById('box'); for (let i = 0; i < n; i++) { const d = document.createElement('span'); d.textContent = 'x'; box.appendChild(d); d.remove(); await null; } },
  async attributeBatch(n) { const a = document.getElementById('a'); for (let i = 0; i < n; i++) a.setAttribute('data-x', String(i)); await null; },
};
</script>`;

function options(argv) {
  const o = { modes: ['none', 'rrweb', 'tabreel'], n: 5000, extension: path.join(ROOT, 'extension') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--modes') o.modes = argv[++i].split(',');
    else if (argv[i] === '--n') o.n = Number(argv[++i]);
    else if (argv[i] === '--extension') o.extension = path.resolve(argv[++i]);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  const unknown = o.modes.filter((m) => !['none', 'rrweb', 'tabreel', 'tabreel-js'].includes(m));
  if (unknown.length) throw new Error(`modes are none, rrweb, tabreel and tabreel-js; not ${unknown.join(', ')}`);
  return o;
}

async function measure(server, mode, o) {
  const { browser, h } = await openBrowser(server, mode, o.extension);
  try {
    const page = await browser.context.newPage();
    await page.goto(server.url('blank.html'));
    await page.bringToFront();
    if (h) {
      await h.startRecording(page);
      await sleep(300);
    }
    await page.goto(server.url(`page.html?m=1${modeQuery(mode)}`));
    await sleep(1000);
    const cdp = await cdpFor(browser.context, page);
    const out = {};
    for (const [label, test] of Object.entries(TESTS)) {
      const samples = [];
      for (let rep = 0; rep < REPEATS; rep++) {
        const before = await metrics(cdp);
        await page.evaluate(([test, n]) => window.tests[test](n), [test, o.n]);
        samples.push((mainThreadDelta(before, await metrics(cdp)).taskMs * 1000) / o.n);
        await sleep(250);
      }
      out[label] = samples.sort((a, b) => a - b)[REPEATS >> 1];
    }
    return out;
  } finally {
    await browser.close();
  }
}

async function main() {
  const o = options(process.argv.slice(2));
  fs.mkdirSync(RUN, { recursive: true });
  fs.writeFileSync(path.join(RUN, 'blank.html'), '<!doctype html><title>blank</title>');
  fs.writeFileSync(path.join(RUN, 'page.html'), PAGE);
  const server = await startServer({ root: RUN, headers: noWasmHeaders({ page: 'page.html' }) });
  const results = {};
  try {
    for (const mode of o.modes) {
      process.stderr.write(`per-event: ${mode} ...\n`);
      results[mode] = await measure(server, mode, o);
    }
  } finally {
    await server.close();
    fs.rmSync(RUN, { recursive: true, force: true });
  }
  const cols = o.modes.flatMap((m) => (m === 'none' ? [m] : [m, `${m} added`]));
  console.log(`${'main-thread CPU per iteration (µs)'.padEnd(44)}${cols.map((c) => c.padStart(15)).join('')}`);
  for (const label of Object.keys(TESTS)) {
    const base = results.none?.[label];
    const cells = o.modes.flatMap((m) => {
      const v = results[m][label];
      return m === 'none' ? [v.toFixed(2)] : [v.toFixed(2), base === undefined ? '' : (v - base).toFixed(2)];
    });
    console.log(`${label.padEnd(44)}${cells.map((c) => c.padStart(15)).join('')}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
