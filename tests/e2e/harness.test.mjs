// Self-test of the harness pieces that need no browser: the static server and export reassembly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { startServer, Harness } from './harness.mjs';

function get(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      })
      .on('error', reject);
  });
}

test('the server serves tests/pages with per-path headers, templating and a request log', async () => {
  const csp = "default-src 'none'; script-src 'self'; style-src 'self'";
  const s = await startServer({ headers: { '/csp.html': { 'Content-Security-Policy': csp } } });
  try {
    assert.match(s.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    const t0 = Date.now();
    const page = await get(s.url('csp.html?x=1'));
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-security-policy'], csp);
    assert.match(page.headers['content-type'], /text\/html/);
    const demo = await get(s.url('demo.html'));
    assert.equal(demo.headers['content-security-policy'], undefined);
    const js = await get(s.url('payloads.js'));
    assert.ok(js.body.includes(`'${s.origin}'`), 'the {{ORIGIN}} placeholder is filled in');
    assert.ok(!js.body.includes('{{ORIGIN}}'));
    assert.equal((await get(s.url('no-such-file.html'))).status, 404);
    assert.equal((await get(s.url('../package.json'))).status, 404);
    assert.equal((await get(s.url('pwned?probe'))).status, 200);
    assert.deepEqual(
      s.requestsSince(t0).map((r) => r.url),
      ['/csp.html?x=1', '/demo.html', '/payloads.js', '/no-such-file.html', '/package.json', '/pwned?probe'],
    );
    assert.deepEqual(s.pwned().map((r) => r.url), ['/pwned?probe']);
    s.clearLog();
    assert.equal(s.log.length, 0);
  } finally {
    await s.close();
  }
});

test('exportSession reassembles a file sent in parts', async () => {
  const parts = ['{"format":"tabreel-session",', '"version":1,', '"events":[]}'];
  const calls = [];
  const fake = {
    async sendOk(m) {
      calls.push(m);
      const k = m.part ?? 0;
      return { ok: true, data: parts[k], part: k, parts: parts.length };
    },
  };
  const text = await Harness.prototype.exportSession.call(fake, 's-1');
  assert.equal(text, parts.join(''));
  assert.deepEqual(calls.map((c) => c.part), [undefined, 1, 2]);
  for (const c of calls) assert.deepEqual({ cmd: c.cmd, id: c.id, format: c.format }, { cmd: 'export', id: 's-1', format: 'json' });

  const whole = { async sendOk() { return { ok: true, data: '{"x":1}' }; } };
  assert.equal(await Harness.prototype.exportSession.call(whole, 's-2'), '{"x":1}');

  const wrongPart = { async sendOk(m) { return { ok: true, data: 'x', part: 0, parts: 2 }; } };
  await assert.rejects(Harness.prototype.exportSession.call(wrongPart, 's-3'), /asked for part 1, got part 0/);
});
