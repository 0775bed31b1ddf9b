// What the benchmark reads from the browser, in one place: the page's main-thread metrics (CDP
// `Performance.getMetrics`), its long tasks (a PerformanceObserver injected before page scripts),
// its heap after a forced GC, and the CPU time of the browser's processes from /proc (all of
// them, and separately the extension's own processes, which hold the service worker).

import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Installed with `context.addInitScript` in every mode: collects long tasks in `window.__lt`. */
export const LONGTASK_INIT = `(() => {
  window.__lt = [];
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__lt.push([e.startTime, e.duration]); })
      .observe({ type: 'longtask', buffered: true });
  } catch (e) { window.__lt = null; }
})();`;

/**
 * A CDP session on `page` with the Performance domain on, timing in thread CPU time when the
 * platform has it (`cdp.timeDomain`), so time the main thread spends descheduled on a busy machine
 * does not count.
 */
export async function cdpFor(context, page) {
  const cdp = await context.newCDPSession(page);
  cdp.timeDomain = 'threadTicks';
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' }).catch(() => {
    cdp.timeDomain = 'timeTicks';
    return cdp.send('Performance.enable');
  });
  return cdp;
}

/** Performance.getMetrics as { name: value }. */
export async function metrics(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

/**
 * Main-thread deltas between two `metrics` readings, in ms. If the counters went backwards (the
 * page moved to a new renderer process), the later reading alone is the delta.
 */
export function mainThreadDelta(a, b) {
  const d = (k) => (b[k] >= a[k] ? b[k] - a[k] : b[k]) * 1000;
  return { taskMs: d('TaskDuration'), scriptMs: d('ScriptDuration'), layoutMs: d('LayoutDuration') + d('RecalcStyleDuration') };
}

/** The longest task and the number of tasks over 50 ms seen by the page since `since` (page ms). */
export async function longTasks(page, since = 0) {
  const lt = await page.evaluate(() => window.__lt);
  if (!Array.isArray(lt)) return { maxMs: NaN, over50: NaN };
  const mine = lt.filter(([start]) => start >= since);
  return { maxMs: mine.reduce((m, [, d]) => Math.max(m, d), 0), over50: mine.filter(([, d]) => d > 50).length };
}

/** The page's heap after a full GC: JS heap used, and ArrayBuffer backing stores when reported. */
export async function heap(cdp) {
  await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
  const m = await metrics(cdp);
  const u = await cdp.send('Runtime.getHeapUsage').catch(() => ({}));
  return { jsHeapMB: m.JSHeapUsedSize / 2 ** 20, backingMB: (u.backingStorageSize ?? NaN) / 2 ** 20 };
}

// ---------------------------------------------------------------------------------------------
// CPU time of the browser's processes (/proc, Linux)
// ---------------------------------------------------------------------------------------------

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function readProc(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    // Chromium's child processes rewrite their title: one string with spaces, not NUL-separated.
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return { pid: Number(pid), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), cmdline };
  } catch {
    return null; // gone
  }
}

/**
 * CPU ticks of every process of the browser started with `userDataDir` (the browser process and
 * all its descendants): { pid: { ticks, ext } }, `ext` when its command line has
 * `--extension-process`.
 */
export function browserCpu(userDataDir) {
  const all = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(readProc).filter(Boolean);
  const roots = all.filter((p) => p.cmdline.includes(`--user-data-dir=${userDataDir} `) && !p.cmdline.includes(' --type='));
  const children = new Map();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) || []), p]);
  const out = {};
  const queue = [...roots];
  while (queue.length) {
    const p = queue.shift();
    out[p.pid] = { ticks: p.ticks, ext: p.cmdline.includes('--extension-process') };
    queue.push(...(children.get(p.pid) || []));
  }
  return out;
}

/** CPU ms used between two `browserCpu` readings: { totalMs, extMs } (processes born in between count from 0). */
export function cpuDelta(a, b) {
  let total = 0;
  let ext = 0;
  for (const [pid, p] of Object.entries(b)) {
    const d = p.ticks - (a[pid]?.ticks ?? 0);
    total += d;
    if (p.ext) ext += d;
  }
  return { totalMs: (total * 1000) / CLK_TCK, extMs: (ext * 1000) / CLK_TCK };
}
