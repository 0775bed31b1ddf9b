// End-to-end harness for tabreel: a static server for tests/pages, a Chromium with the unpacked
// extension loaded, and helpers that speak the extension's automation contract.
//
// Usage (node:test):
//   const h = await startHarness();          // server + browser + extension id
//   const page = await h.openPage('demo.html');
//   const { sessionId } = await h.startRecording(page);
//   ...
//   await h.close();
//
// Environment:
//   TABREEL_EXTENSION  directory of the unpacked extension (default: <repo>/extension)
//   TABREEL_CHROMIUM   Chromium executable (default: /usr/bin/chromium)
//   TABREEL_HEADED=1   show the browser (needs DISPLAY)

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { normalizeDocument, firstDifference } from './dom-compare.mjs';

export { normalizeDocument, firstDifference };

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const PAGES_DIR = path.join(REPO, 'tests', 'pages');
export const OUT_DIR = path.join(REPO, 'tests', 'out');
export const EXTENSION_DIR = path.resolve(process.env.TABREEL_EXTENSION || path.join(REPO, 'extension'));
export const CHROMIUM = process.env.TABREEL_CHROMIUM || '/usr/bin/chromium';

export const POPUP_PATH = 'gen/popup/popup.html';
export const REPLAY_PATH = 'replay.html';
/** What a masked field that held something shows in the replay. */
export const MASK_PLACEHOLDER = '\u2022'.repeat(8);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; throws `message` (plus the last value) after `timeout` ms. */
export async function waitFor(fn, { timeout = 10_000, interval = 50, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > end) {
      const detail = lastErr ? `; last error: ${lastErr.message}` : `; last value: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${detail}`);
    }
    await sleep(interval);
  }
}

// ---------------------------------------------------------------------------------------------
// Static server
// ---------------------------------------------------------------------------------------------

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const TEMPLATED = new Set(['.html', '.js', '.css', '.svg']);

/** A 1x1 transparent GIF, answered for /pwned* and any *.gif/*.png that does not exist. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * Serves tests/pages on 127.0.0.1:<random>.
 * - `headers`: { '/csp.html': { 'Content-Security-Policy': '...' } } — per-path response headers (a key with a query string wins over the bare path)
 *   (the path without query; may be changed later through `server.headers`).
 * - Text files have `{{ORIGIN}}` replaced by the server's origin (payload pages use absolute URLs).
 * - Every request is logged: `server.log` = [{ time, method, path, url, referer, userAgent }].
 * - `/pwned*` answers 200 with a pixel (and is logged like every other request).
 */
/**
 * The extra headers for a request: a key with a query (`/csp.html?policy=1`) matches when the path
 * is equal and every parameter it names has that value in the request; it wins over the bare path.
 */
function headersFor(table, url) {
  let best = table[url.pathname] || {};
  for (const [key, value] of Object.entries(table)) {
    const k = new URL(key, 'http://127.0.0.1');
    if (!k.search || k.pathname !== url.pathname) continue;
    if ([...k.searchParams].every(([n, v]) => url.searchParams.get(n) === v)) best = value;
  }
  return best;
}

export async function startServer({ root = PAGES_DIR, headers = {} } = {}) {
  const log = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const entry = {
      time: Date.now(),
      method: req.method,
      path: url.pathname,
      url: req.url,
      referer: req.headers.referer || '',
      secFetchDest: req.headers['sec-fetch-dest'] || '',
    };
    log.push(entry);
    // `?delay=ms` holds the response back (a slow stylesheet, for instance); at most 5 s.
    const delay = Math.min(Number(url.searchParams.get('delay')) || 0, 5000);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const extra = { ...headersFor(srv.headers, url) };
    const send = (status, body, type) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      if (url.pathname.startsWith('/pwned')) return send(200, PIXEL, 'image/gif');
      if (req.method === 'POST') {
        // Collect bodies (e.g. CSP reports) for inspection.
        const chunks = [];
        for await (const c of req) chunks.push(c);
        entry.body = Buffer.concat(chunks).toString('utf8');
        return send(204, '', 'text/plain');
      }
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = path.resolve(root, '.' + rel);
      if (!file.startsWith(path.resolve(root) + path.sep)) return send(403, 'forbidden', 'text/plain');
      let body;
      try {
        body = await fsp.readFile(file);
      } catch {
        if (/\.(gif|png|ico)$/.test(rel)) return send(404, PIXEL, 'image/gif');
        return send(404, `not found: ${rel}`, 'text/plain; charset=utf-8');
      }
      const ext = path.extname(file).toLowerCase();
      if (TEMPLATED.has(ext)) body = body.toString('utf8').replaceAll('{{ORIGIN}}', srv.origin);
      return send(200, body, MIME[ext] || 'application/octet-stream');
    } catch (e) {
      try {
        send(500, String(e && e.stack), 'text/plain');
      } catch {
        /* response already sent */
      }
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const srv = {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    headers: { ...headers },
    log,
    url(p) {
      return `${this.origin}/${String(p).replace(/^\//, '')}`;
    },
    /** Forgets every logged request. */
    clearLog() {
      log.length = 0;
    },
    /** Requests logged at or after `time` (epoch ms). */
    requestsSince(time) {
      return log.filter((e) => e.time >= time);
    },
    /** Requests whose path starts with /pwned. */
    pwned() {
      return log.filter((e) => e.path.startsWith('/pwned'));
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
  return srv;
}

// ---------------------------------------------------------------------------------------------
// Browser
// ---------------------------------------------------------------------------------------------

/** Chromium arguments that load the unpacked extension at `ext`. */
export function chromiumArgs(ext, { headless = true } = {}) {
  return [
    ...(headless ? ['--headless=new'] : []),
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--disable-extensions-except=${ext}`,
    `--load-extension=${ext}`,
  ];
}

/**
 * Launches Chromium with the extension in a fresh profile. Returns { context, userDataDir,
 * serviceWorker, extensionId, close }. `serviceWorker`/`extensionId` are null when
 * `requireExtension` is false and no service worker showed up within `swTimeout`, or when
 * `extensionDir` is null (a plain browser, no extension at all).
 */
export async function launchBrowser({
  extensionDir = EXTENSION_DIR,
  headless = !process.env.TABREEL_HEADED,
  requireExtension = true,
  swTimeout = 15_000,
  viewport = { width: 1280, height: 800 },
} = {}) {
  const ext = extensionDir === null ? null : path.resolve(extensionDir);
  if (ext === null) requireExtension = false;
  if (requireExtension && !fs.existsSync(path.join(ext, 'manifest.json'))) {
    throw new Error(`no extension to load: ${ext}/manifest.json is missing (run \`cargo xtask build\` first)`);
  }
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tabreel-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: false, // the real switch is --headless=new in args (the extension needs the full browser)
    // Playwright adds --disable-extensions by default; the extension must load.
    ignoreDefaultArgs: ['--disable-extensions'],
    args: ext === null ? chromiumArgs(null, { headless }).filter((a) => !a.includes('extension')) : chromiumArgs(ext, { headless }),
    viewport,
  });
  let serviceWorker = null;
  if (ext !== null) try {
    serviceWorker =
      context.serviceWorkers().find((w) => w.url().startsWith('chrome-extension://')) ??
      (await context.waitForEvent('serviceworker', {
        timeout: swTimeout,
        predicate: (w) => w.url().startsWith('chrome-extension://'),
      }));
  } catch (e) {
    if (requireExtension) {
      await context.close().catch(() => {});
      await fsp.rm(userDataDir, { recursive: true, force: true }).catch(() => {});
      throw new Error(`the extension's service worker did not start within ${swTimeout} ms (${ext}): ${e.message}`);
    }
  }
  const extensionId = serviceWorker ? new URL(serviceWorker.url()).host : null;
  return {
    context,
    userDataDir,
    serviceWorker,
    extensionId,
    async close() {
      await context.close().catch(() => {});
      await fsp.rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The harness: server + browser + contract helpers
// ---------------------------------------------------------------------------------------------

/**
 * Starts the server and the browser. Options: `headers` (per-path response headers for the
 * server), and anything `launchBrowser` takes.
 */
export async function startHarness({ headers = {}, ...launchOpts } = {}) {
  const server = await startServer({ headers });
  let browser;
  try {
    browser = await launchBrowser(launchOpts);
  } catch (e) {
    await server.close();
    throw e;
  }
  const h = new Harness(server, browser);
  if (h.extensionId) {
    // Open the extension page first, so that pages opened later are the active tab.
    try {
      await h.extPage();
    } catch (e) {
      await h.close();
      throw e;
    }
  }
  return h;
}

export class Harness {
  constructor(server, browser) {
    this.server = server;
    this.browser = browser;
    this.context = browser.context;
    this.extensionId = browser.extensionId;
    this.dialogs = [];
    this.context.on('dialog', (d) => {
      this.dialogs.push({ time: Date.now(), type: d.type(), message: d.message(), url: d.page()?.url() ?? '' });
      d.dismiss().catch(() => {});
    });
    this._ext = null;
    this._uniq = 0;
  }

  get extOrigin() {
    return `chrome-extension://${this.extensionId}`;
  }
  get popupUrl() {
    return `${this.extOrigin}/${POPUP_PATH}`;
  }
  replayUrl(id, at) {
    return `${this.extOrigin}/${REPLAY_PATH}?session=${encodeURIComponent(id)}&at=${encodeURIComponent(String(at))}`;
  }

  /** The service worker as Playwright sees it now (it survives restarts of the worker). */
  get serviceWorker() {
    return this.context.serviceWorkers().find((w) => w.url().startsWith(this.extOrigin)) ?? this.browser.serviceWorker;
  }

  /** An extension page (the popup URL in a tab) used to send messages and read storage. */
  async extPage() {
    if (this._ext && !this._ext.isClosed()) return this._ext;
    const page = await this.context.newPage();
    await page.goto(this.popupUrl);
    await waitFor(() => page.evaluate(() => typeof chrome !== 'undefined' && !!chrome.runtime?.sendMessage), {
      timeout: 10_000,
      message: 'chrome.runtime in the extension page',
    });
    this._ext = page;
    return page;
  }

  /** Sends one automation message to the service worker and returns its answer. */
  async send(msg, { timeout = 30_000 } = {}) {
    const page = await this.extPage();
    const answer = page.evaluate((m) => chrome.runtime.sendMessage(m), msg);
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(msg).slice(0, 200)} within ${timeout} ms`)), timeout);
    });
    try {
      return await Promise.race([answer, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Like `send`, but throws unless the answer is `{ok:true, ...}`. */
  async sendOk(msg, opts) {
    const r = await this.send(msg, opts);
    if (!r || r.ok !== true) {
      throw new Error(`${JSON.stringify(msg).slice(0, 200)} failed: ${JSON.stringify(r)}`);
    }
    return r;
  }

  /** Opens a test page (path under tests/pages) in a new tab; a unique query keeps tab urls apart. */
  async openPage(p, { unique = true } = {}) {
    const page = await this.context.newPage();
    let url = this.server.url(p);
    if (unique) url += (url.includes('?') ? '&' : '?') + `tab=${Date.now().toString(36)}${++this._uniq}`;
    await page.goto(url);
    await page.bringToFront();
    return page;
  }

  /** The chrome.tabs id of a Playwright page, matched by URL. */
  async tabIdOf(page) {
    const ext = await this.extPage();
    const url = page.url();
    return waitFor(
      async () => {
        const tabs = await ext.evaluate(() => chrome.tabs.query({}).then((ts) => ts.map((t) => ({ id: t.id, url: t.url, pendingUrl: t.pendingUrl }))));
        const hits = tabs.filter((t) => t.url === url || t.pendingUrl === url);
        if (hits.length > 1) throw new Error(`${hits.length} tabs have url ${url}`);
        return hits[0]?.id;
      },
      { timeout: 10_000, message: `a tab with url ${url}` },
    );
  }

  async startRecording(page) {
    const tabId = await this.tabIdOf(page);
    const r = await this.sendOk({ cmd: 'start', tabId });
    if (typeof r.sessionId !== 'string' || !r.sessionId) throw new Error(`start answered no sessionId: ${JSON.stringify(r)}`);
    return { tabId, sessionId: r.sessionId };
  }

  async stopRecording(tabId) {
    return this.sendOk({ cmd: 'stop', tabId });
  }

  async status(tabId) {
    return this.send({ cmd: 'status', tabId });
  }

  async list() {
    const r = await this.send({ cmd: 'list' });
    if (!r || !Array.isArray(r.sessions)) throw new Error(`list answered ${JSON.stringify(r)}`);
    return r.sessions;
  }

  /** The session file (text) of session `id`, reassembled when it comes in parts. */
  async exportSession(id) {
    const first = await this.sendOk({ cmd: 'export', id, format: 'json' });
    if (first.parts === undefined || first.parts === null) {
      if (typeof first.data !== 'string') throw new Error(`export answered no data: ${JSON.stringify(first).slice(0, 300)}`);
      return first.data;
    }
    const parts = Number(first.parts);
    if (!Number.isInteger(parts) || parts < 1) throw new Error(`export answered parts=${first.parts}`);
    const texts = [];
    for (let k = 0; k < parts; k++) {
      const r = k === 0 && (first.part === 0 || first.part === undefined) ? first : await this.sendOk({ cmd: 'export', id, format: 'json', part: k });
      if (r.part !== undefined && r.part !== k) throw new Error(`asked for part ${k}, got part ${r.part}`);
      if (typeof r.data !== 'string') throw new Error(`export part ${k} has no data`);
      texts.push(r.data);
    }
    return texts.join('');
  }

  /** Parsed session file. */
  async exportParsed(id) {
    const text = await this.exportSession(id);
    try {
      return { text, file: JSON.parse(text) };
    } catch (e) {
      throw new Error(`export of ${id} is not JSON (${e.message}): ${text.slice(0, 200)}`);
    }
  }

  /**
   * Opens replay.html at `at` (ms since startedAt, or 'end') and waits until it is ready.
   * Throws with the page's `dataset.error` if it reports one.
   */
  async openReplay(id, at = 'end', { timeout = 20_000, page: reuse } = {}) {
    const page = reuse ?? (await this.context.newPage());
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(this.replayUrl(id, at));
    let v;
    try {
      // Plain evaluate polling (the replay page has a strict CSP; evaluate is not subject to it).
      v = await waitFor(
        () =>
          page.evaluate(() => {
            const d = document.documentElement.dataset;
            if (d.error) return { error: d.error };
            if (d.ready === '1') return { ready: true };
            return null;
          }),
        { timeout, interval: 50, message: 'dataset.ready or dataset.error' },
      );
    } catch (e) {
      throw new Error(`replay of ${id} at ${at} did not become ready within ${timeout} ms (${e.message})${errors.length ? `; page errors: ${errors.join(' | ')}` : ''}`);
    }
    if (v.error) throw new Error(`replay of ${id} at ${at} failed: ${v.error}`);
    const hasFrame = await page.evaluate(() => !!document.getElementById('replay-frame')?.contentDocument);
    if (!hasFrame) throw new Error(`replay of ${id} at ${at} is ready but has no readable iframe#replay-frame`);
    page.replayErrors = errors;
    return page;
  }

  /** A handle to the replay frame's document (read through the replay page, same origin). */
  async replayDocument(replayPage) {
    return replayPage.evaluateHandle(() => document.getElementById('replay-frame').contentDocument);
  }

  /** A handle to a live page's document. */
  async liveDocument(page) {
    return page.evaluateHandle(() => document);
  }

  /**
   * Every record of every object store of the extension's `tabreel` IndexedDB as JSON text, with
   * compressed `data` fields inflated (zlib) and stored files (`blobs`) as text. Run inside an
   * extension page.
   */
  async readExtensionIndexedDb() {
    const page = await this.extPage();
    // Brotli chunks (which no DecompressionStream reads) come back as base64 and are
    // decompressed here.
    const dump = await page.evaluate(dumpTabreelIndexedDb);
    const expanded = dump.replace(/\{\s*"brotliBase64":\s*"([A-Za-z0-9+/=]*)",\s*"compressedBytes":\s*(\d+)\s*\}/g, (_, b64, n) => {
      const bytes = Buffer.from(b64, 'base64');
      try {
        // 'B' (or 'b'), the brotli stream, then the text's CRC-32 (src/core/chunk.rs).
        const text = zlib.brotliDecompressSync(bytes.subarray(1, bytes.length - 4)).toString('utf8');
        return JSON.stringify({ inflated: text, compressedBytes: Number(n) });
      } catch (e) {
        return JSON.stringify({ inflateError: String(e && e.message), compressedBytes: Number(n) });
      }
    });
    if (expanded.includes('"brotliBase64"')) throw new Error('a brotli chunk of the IndexedDB dump was left compressed');
    return expanded;
  }

  /** chrome.storage.local and .session contents (JSON text), for leak checks. */
  async readExtensionStorage() {
    const page = await this.extPage();
    return page.evaluate(async () => {
      const out = {};
      for (const area of ['local', 'session', 'sync']) {
        try {
          out[area] = await chrome.storage[area].get(null);
        } catch (e) {
          out[area] = `unavailable: ${e && e.message}`;
        }
      }
      return JSON.stringify(out);
    });
  }

  async close() {
    await this.browser.close();
    await this.server.close();
  }
}

/** Runs inside an extension page: dumps the `tabreel` database. Self-contained (serialised by Playwright). */
async function dumpTabreelIndexedDb() {
  const DB = 'tabreel';
  const known = indexedDB.databases ? await indexedDB.databases() : null;
  // Opening a database that does not exist would create it (empty, version 1) and break the
  // extension's own upgrade, so only open it when it is there.
  if (known && !known.some((d) => d.name === DB)) return JSON.stringify({ database: DB, missing: true, stores: {} });
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open(DB);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('open blocked'));
  });
  async function inflate(bytes) {
    // A compact chunk (src/core/chunk.rs) is the byte 'C' (or 'c', the first compact form) then a
    // zlib stream; older chunks are the zlib stream alone.
    if (bytes[0] === 0x43 || bytes[0] === 0x63) bytes = bytes.subarray(1);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
    return new Response(stream).text();
  }
  function toBytes(v) {
    if (v instanceof Uint8Array) return v;
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return null;
  }
  async function expand(v, key, store) {
    if (v instanceof Blob) v = new Uint8Array(await v.arrayBuffer());
    const bytes = toBytes(v);
    if (bytes) {
      const rawHex = Array.from(bytes.subarray(0, 4096), (b) => b.toString(16).padStart(2, '0')).join('');
      // Stored files (the `blobs` store: page assets) are kept as they were fetched: their text.
      if (key === 'data' && store === 'blobs') return { bytes: bytes.length, text: new TextDecoder().decode(bytes) };
      if (key === 'data' && (bytes[0] === 0x42 || bytes[0] === 0x62)) {
        let bin = '';
        for (const b of bytes) bin += String.fromCharCode(b);
        return { brotliBase64: btoa(bin), compressedBytes: bytes.length };
      }
      if (key === 'data') {
        try {
          return { inflated: await inflate(bytes), compressedBytes: bytes.length };
        } catch (e) {
          return { inflateError: String(e && e.message), compressedBytes: bytes.length, rawHex };
        }
      }
      return { bytes: bytes.length, rawHex };
    }
    if (Array.isArray(v)) return Promise.all(v.map((x) => expand(x, null, store)));
    if (v && typeof v === 'object') {
      const o = {};
      for (const [k, x] of Object.entries(v)) o[k] = await expand(x, k, store);
      return o;
    }
    return v;
  }
  const out = { database: DB, version: db.version, stores: {} };
  const names = Array.from(db.objectStoreNames);
  for (const name of names) {
    const rows = await new Promise((resolve, reject) => {
      const tx = db.transaction(name, 'readonly');
      const store = tx.objectStore(name);
      const keysReq = store.getAllKeys();
      const valsReq = store.getAll();
      tx.oncomplete = () => resolve(keysReq.result.map((k, i) => ({ key: k, value: valsReq.result[i] })));
      tx.onerror = () => reject(tx.error);
    });
    out.stores[name] = [];
    for (const row of rows) out.stores[name].push({ key: await expand(row.key, null, name), value: await expand(row.value, null, name) });
  }
  db.close();
  return JSON.stringify(out, null, 1);
}

// ---------------------------------------------------------------------------------------------
// DOM comparison
// ---------------------------------------------------------------------------------------------

/** The normalised text of the Document behind `docHandle` (see dom-compare.mjs for options). */
export async function normalizedDom(docHandle, opts = {}) {
  return docHandle.evaluate(normalizeDocument, opts);
}

/** Normalised DOM of a live page. */
export async function liveDom(page, opts = {}) {
  const h = await page.evaluateHandle(() => document);
  try {
    return await normalizedDom(h, { ...opts, role: 'live' });
  } finally {
    await h.dispose();
  }
}

/** Normalised DOM shown by a replay page. */
export async function replayDom(replayPage, opts = {}) {
  const assetUrls = await replayPage.evaluate(() => window.tabreelAssetUrls || {});
  const h = await replayPage.evaluateHandle(() => document.getElementById('replay-frame').contentDocument);
  try {
    return await normalizedDom(h, { assetUrls, ...opts, role: 'replay' });
  } finally {
    await h.dispose();
  }
}

/**
 * Computed styles in a document, as `{ "<selector> <property>": value }`, for every selector of
 * `wanted` (`{ selector: [camelCase properties] }`) that matches; missing elements are left out.
 */
function computedStyles(doc, wanted) {
  const out = {};
  for (const [sel, props] of Object.entries(wanted)) {
    const el = doc.querySelector(sel);
    if (!el) continue;
    const cs = doc.defaultView.getComputedStyle(el);
    for (const p of props) out[`${sel} ${p}`] = cs[p];
  }
  return out;
}

/** [`computedStyles`] of the live page. */
export function liveStyles(page, wanted) {
  return page.evaluate(`(${computedStyles})(document, ${JSON.stringify(wanted)})`);
}

/** [`computedStyles`] of the replay frame's document. */
export function replayStyles(replayPage, wanted) {
  return replayPage.evaluate(`(${computedStyles})(document.getElementById('replay-frame').contentDocument, ${JSON.stringify(wanted)})`);
}

/** Writes `text` to tests/out/<name> (for inspecting failures); returns the path. */
export function writeOut(name, text) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, name);
  fs.writeFileSync(file, text);
  return file;
}

/**
 * Throws an AssertionError with the first differing lines (and saves both texts under tests/out)
 * when `actual` (replay) differs from `expected` (live).
 */
export async function assertSameDom(actual, expected, label) {
  const safe = label.replace(/[^\w.-]+/g, '_');
  if (process.env.TABREEL_E2E_KEEP) {
    writeOut(`${safe}.replay.txt`, actual);
    writeOut(`${safe}.live.txt`, expected);
  }
  if (actual === expected) return;
  const { default: assert } = await import('node:assert/strict');
  const a = writeOut(`${safe}.replay.txt`, actual);
  const b = writeOut(`${safe}.live.txt`, expected);
  throw new assert.AssertionError({
    message: `${label}: replayed DOM differs from the live DOM\n${firstDifference(expected, actual, { expectedLabel: 'live', actualLabel: 'replay' })}\n(full texts: ${b} and ${a})`,
    actual,
    expected,
    operator: 'sameDom',
  });
}

// ---------------------------------------------------------------------------------------------
// Session file helpers
// ---------------------------------------------------------------------------------------------

/** Every string value inside a JSON value (keys included), for leak searches. */
export function allStrings(value, out = []) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) allStrings(v, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      allStrings(v, out);
    }
  return out;
}

/** Events of a parsed session file whose data.kind is `kind`. */
export function eventsOfKind(file, kind) {
  return (file.events || []).filter((e) => e && e.data && e.data.kind === kind);
}

/** The browser-side clock now (epoch ms), as the recorder reads it. */
export async function pageNow(page) {
  return page.evaluate(() => Date.now());
}
