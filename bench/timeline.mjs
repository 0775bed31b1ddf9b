// Reading a Chrome trace of a bench case: which thread is the page's main thread, and where its
// time went (self time per trace event, script per source, the extension's calls by what ran
// them, forced style/layout, tasks over 50 ms). Shared by bench/trace.mjs (one run per mode,
// printed in full) and bench/ab.mjs (two builds, many runs, the extension's script only).

/** Everything trace.mjs reads; `LIGHT_CATEGORIES` is enough for script per source (no stacks). */
export const CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.stack',
  'v8.execute',
  'v8',
  'blink',
  'disabled-by-default-v8.gc',
  'cppgc',
  'disabled-by-default-cppgc',
  'toplevel',
];

/** Script per source and per top-level task, without the stack and GC categories that make each call dearer. */
export const LIGHT_CATEGORIES = ['devtools.timeline', 'v8.execute', 'toplevel'];

/** The renderer main thread that ran the most: the page's (the extension page's is nearly idle). */
export function pageMainThread(events) {
  const names = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  const busy = new Map();
  for (const e of events) {
    const k = `${e.pid}:${e.tid}`;
    if (names.get(k) === 'CrRendererMain' && e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask') busy.set(k, (busy.get(k) ?? 0) + (e.dur ?? 0));
  }
  return [...busy].sort((a, b) => b[1] - a[1])[0]?.[0];
}

const SCRIPT = new Set(['FunctionCall', 'EvaluateScript', 'v8.callFunction', 'V8.Execute', 'v8.run', 'FireAnimationFrame', 'TimerFire', 'EventDispatch']);
const FORCED = new Set(['UpdateLayoutTree', 'Layout', 'RecalculateStyles']);

/** Self time (thread time when the trace has it) per event name, and forced style/layout by script. */
export function summarise(events, key) {
  const mine = events.filter((e) => `${e.pid}:${e.tid}` === key && e.ph === 'X' && e.dur !== undefined).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const time = (e) => (e.tdur ?? e.dur) / 1000;
  const self = new Map();
  const forced = new Map();
  const byScript = new Map();
  const calls = new Map();
  const stack = [];
  const tasks = [];
  let total = 0;
  const close = (f) => {
    const own = Math.max(0, f.t - f.child);
    self.set(f.name, (self.get(f.name) ?? 0) + own);
    f.root.parts.set(f.name, (f.root.parts.get(f.name) ?? 0) + own);
  };
  for (const e of mine) {
    while (stack.length && stack[stack.length - 1].end <= e.ts) close(stack.pop());
    const parent = stack[stack.length - 1];
    const f = { end: e.ts + e.dur, name: e.name, t: time(e), child: 0, type: e.args?.data?.type };
    f.root = parent ? parent.root : f;
    if (parent) parent.child += f.t;
    else {
      total += f.t;
      f.parts = new Map();
      f.wall = e.dur / 1000;
      f.ts = e.ts;
      tasks.push(f);
    }
    if (SCRIPT.has(e.name) && !f.root.label) {
      // The task's label (for its long-task line): the first script in it with a URL. Not `who`,
      // which marks script events for the per-source split.
      const d = e.args?.data ?? {};
      f.root.label = String(d.url ?? d.scriptName ?? '').replace(/\?.*$/, '').replace(/^.*\//, '') || undefined;
    }
    if (SCRIPT.has(e.name)) {
      // Script time per source: a script event's time minus the script events nested in it.
      const d = e.args?.data ?? {};
      const url = String(d.url ?? d.scriptName ?? '').replace(/\?.*$/, '');
      f.who = url.startsWith('chrome-extension://') ? `extension ${url.replace(/^chrome-extension:\/\/[^/]+/, '')}` : url ? `page ${url.replace(/^.*\//, '')}` : `(${e.name})`;
      const outer = stack.findLast((s) => s.who);
      if (outer) byScript.set(outer.who, (byScript.get(outer.who) ?? 0) - f.t);
      byScript.set(f.who, (byScript.get(f.who) ?? 0) + f.t);
      if (e.name === 'FunctionCall' && !f.who.startsWith('page') && !stack.some((s) => s.name === 'FunctionCall')) {
        // What the extension's outermost calls were: the event or timer that ran them.
        const why = `${stack.findLast((s) => s.name === 'EventDispatch')?.type ?? stack.findLast((s) => s.who)?.name ?? stack[0]?.name ?? e.name} → ${d.functionName || '(anon)'}`;
        const c = calls.get(why) ?? { n: 0, ms: 0, each: [] };
        c.n++;
        c.ms += f.t;
        c.each.push(f.t);
        calls.set(why, c);
      }
    }
    if (FORCED.has(e.name) && stack.some((s) => SCRIPT.has(s.name))) {
      const st = e.args?.beginData?.stackTrace?.[0];
      const where = st ? `${e.name} from ${st.functionName || '(anon)'} ${String(st.url).replace(/^.*\//, '')}` : `${e.name} from script`;
      forced.set(where, (forced.get(where) ?? 0) + f.t);
    }
    stack.push(f);
  }
  stack.forEach(close);
  // Where each long task falls among the tasks that ran the same script (first, last, …).
  const same = new Map();
  for (const t of tasks) if (t.label) same.set(t.label, [...(same.get(t.label) ?? []), t]);
  const long = tasks.filter((t) => t.wall > 50).sort((a, b) => b.wall - a.wall);
  for (const t of long) if (t.label) t.nth = `${same.get(t.label).indexOf(t) + 1} of ${same.get(t.label).length}`;
  return { total, self, forced, byScript, calls, long };
}

/**
 * Script time (thread ms) on the page's main thread of a light trace, by whose it is: the page's
 * own scripts, the extension's, and everything that is not the page's (the extension's; rrweb's
 * init script, which has no URL of its own; the harness's few calls).
 */
export function scriptBySource(events) {
  const bySource = [...summarise(events, pageMainThread(events)).byScript];
  const sum = (pred) => bySource.filter(([k]) => pred(k)).reduce((t, [, v]) => t + v, 0);
  return { page: sum((k) => k.startsWith('page')), extension: sum((k) => k.startsWith('extension')), notPage: sum((k) => !k.startsWith('page')) };
}
