// `node bench/wrappers.mjs [--case bigdom-200000] [--over 5]`: what holding a wrapper for every
// node costs in an isolated world, with no extension at all. A content script (tabreel's
// recorder) runs in an isolated world, where Chromium keeps each node's JS wrapper in a per-world
// hash table instead of inside the node (as it does in the page's own world), and that table
// grows by doubling: the DOM call that creates the wrapper past each power of two rehashes it in
// one go. This walks the loaded page once per world and way of keeping wrappers (none, a symbol
// property on each as tabreel's ids, an array), timing every `firstChild`/`nextSibling`, and
// prints the calls slower than `--over` ms with how many nodes had been walked. It isolates the
// browser's part of the long tasks a recorder of a very large page shows, from the recorder's.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromiumArgs, launchBrowser, startServer } from '../tests/e2e/harness.mjs';
import { writePages } from './workloads.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUN = path.join(ROOT, 'bench', 'out', `wrappers-${process.pid}`);

function options(argv) {
  const o = { case: 'bigdom-200000', over: 5 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--case') o.case = argv[++i];
    else if (argv[i] === '--over') o.over = Number(argv[++i]);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  if (!/^bigdom-\d+$/.test(o.case)) throw new Error('--case must be a bigdom-N case');
  return o;
}

/** A preorder walk of the document that keeps each wrapper as `keep` says, and times each step. */
const walk = (keep, over) => `(() => {
  const key = Symbol('id');
  const kept = [];
  let node = document.documentElement, walked = 0;
  const slow = [];
  const visit = (n) => {
    walked++;
    if (${JSON.stringify(keep)} === 'property') n[key] = walked;
    else if (${JSON.stringify(keep)} === 'array') kept.push(n);
  };
  const step = (n, name) => {
    const t = performance.now();
    const next = n[name];
    const ms = performance.now() - t;
    if (ms > ${over}) slow.push({ walked, ms: +ms.toFixed(1), call: name });
    return next;
  };
  const t0 = performance.now();
  visit(node);
  while (node) {
    let next = step(node, 'firstChild');
    while (!next && node) {
      next = step(node, 'nextSibling');
      if (!next) node = node.parentNode;
    }
    node = next;
    if (node) visit(node);
  }
  return { walked, ms: Math.round(performance.now() - t0), slow };
})()`;

async function main() {
  const o = options(process.argv.slice(2));
  fs.mkdirSync(RUN, { recursive: true });
  const files = writePages(RUN, [o.case]);
  const server = await startServer({ root: RUN });
  try {
    console.log(`${o.case}: DOM calls slower than ${o.over} ms while walking every node once (nodes walked when it happened)`);
    for (const world of ['page', 'isolated']) {
      for (const keep of ['none', 'property', 'array']) {
        const browser = await launchBrowser({ extensionDir: null });
        try {
          const page = await browser.context.newPage();
          await page.goto(server.url(files[o.case]), { waitUntil: 'load', timeout: 300_000 });
          const cdp = await browser.context.newCDPSession(page);
          const { frameTree } = await cdp.send('Page.getFrameTree');
          const contextId = world === 'isolated' ? (await cdp.send('Page.createIsolatedWorld', { frameId: frameTree.frame.id, worldName: 'wrappers' })).executionContextId : undefined;
          const r = await cdp.send('Runtime.evaluate', { expression: walk(keep, o.over), contextId, returnByValue: true });
          if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
          const { walked, ms, slow } = r.result.value;
          const list = slow.map((s) => `${s.ms} ms at ${s.walked} (${s.call})`).join(', ') || '-';
          console.log(`  ${`${world} world, wrappers kept: ${keep}`.padEnd(42)} ${walked} nodes in ${String(ms).padStart(4)} ms; slow: ${list}`);
        } finally {
          await browser.close();
        }
      }
    }
  } finally {
    await server.close();
    fs.rmSync(RUN, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
