// Static servers for the fidelity suite, all on 127.0.0.1 (never the internet):
// - the app origin serves tests/fidelity/ (apps/, pages/) and maps /npm/<pkg>/<file> to
//   node_modules/<pkg>/<file> (packages pinned in package.json), /rrweb/* to node_modules/rrweb/dist;
// - a second origin (another port, addressed as http://localhost:<port>) serves the same files, for
//   cross-origin stylesheets and frames. `?cors=1` adds Access-Control-Allow-Origin: *.
// Text files have {{ORIGIN}} and {{ORIGIN2}} replaced by the two origins.
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FIDELITY_DIR = path.resolve(HERE, '..');
export const REPO = path.resolve(FIDELITY_DIR, '..', '..');
const NODE_MODULES = path.join(REPO, 'node_modules');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const TEMPLATED = new Set(['.html', '.css', '.json']);

function resolveFile(pathname) {
  let rel = decodeURIComponent(pathname);
  if (rel.endsWith('/')) rel += 'index.html';
  let base = FIDELITY_DIR;
  if (rel.startsWith('/npm/')) {
    base = NODE_MODULES;
    rel = rel.slice('/npm'.length);
  } else if (rel.startsWith('/rrweb/')) {
    base = path.join(NODE_MODULES, 'rrweb', 'dist');
    rel = rel.slice('/rrweb'.length);
  }
  const file = path.resolve(base, '.' + rel);
  if (!file.startsWith(base + path.sep)) return null;
  return file;
}

async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

/** Starts both origins. Returns { origin, origin2, url(p), url2(p), log, close() }. */
export async function startFidelityServer() {
  const log = [];
  const srv = { log, origin: '', origin2: '' };
  const handler = (which) => async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    log.push({ time: Date.now(), origin: which, path: url.pathname });
    const headers = { 'Cache-Control': 'no-store' };
    if (url.searchParams.get('cors') === '1') headers['Access-Control-Allow-Origin'] = '*';
    const delay = Math.min(Number(url.searchParams.get('delay')) || 0, 5000);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const file = resolveFile(url.pathname);
    if (!file) {
      res.writeHead(403, headers);
      return res.end('forbidden');
    }
    let body;
    try {
      body = await fsp.readFile(file);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      return res.end(`not found: ${url.pathname}`);
    }
    const ext = path.extname(file).toLowerCase();
    if (TEMPLATED.has(ext) && !file.startsWith(NODE_MODULES)) {
      body = body.toString('utf8').replaceAll('{{ORIGIN}}', srv.origin).replaceAll('{{ORIGIN2}}', srv.origin2);
    }
    res.writeHead(200, { ...headers, 'Content-Type': MIME[ext] || 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const s1 = await listen(handler('app'));
  const s2 = await listen(handler('second'));
  srv.port = s1.address().port;
  srv.port2 = s2.address().port;
  srv.origin = `http://127.0.0.1:${srv.port}`;
  // The second origin differs by host name and port: a different site for the page.
  srv.origin2 = `http://localhost:${srv.port2}`;
  srv.url = (p) => `${srv.origin}/${String(p).replace(/^\//, '')}`;
  srv.url2 = (p) => `${srv.origin2}/${String(p).replace(/^\//, '')}`;
  srv.close = async () => {
    for (const s of [s1, s2]) {
      s.closeAllConnections?.();
      await new Promise((r) => s.close(() => r()));
    }
  };
  return srv;
}
