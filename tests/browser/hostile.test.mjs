// hostile.test.mjs PORT -- hostile input against `stampede serve` (started
// with --timeout 3): a 1 MB query, invalid UTF-8, negative and huge numbers,
// SQL-like strings, path traversal on the static files, slowloris-style slow
// headers and 1,000 concurrent connections.  Every answer must be a 4xx
// (never 500, never a file outside web/dist), and after each group the
// server must still answer /healthz and a real route.
import net from 'node:net';
import { checker, raw, rawGet } from './lib.mjs';

const port = Number(process.argv[2]);
const t = checker();

async function alive(what) {
  const h = await rawGet(port, '/healthz');
  const r = await rawGet(port, '/api/v1/liq?venue=binance&symbol=BTCUSDT&side=long&entry=62500&qty=0.16&margin=1000');
  t.ok(h.status === 200 && r.status === 200 && r.body.includes('56475.90'), `still serving after ${what}`);
}

function isJsonError(r) {
  try { const j = JSON.parse(r.body); return typeof j.error === 'string' && 'field' in j && typeof j.detail === 'string'; } catch { return false; }
}

// ---- 1 MB query ----------------------------------------------------------------------------
{
  const r = await rawGet(port, '/api/v1/report?day=' + 'A'.repeat(1 << 20));
  t.ok(r.status >= 400 && r.status < 500 || (r.status === 0 && r.closed), `1 MB query: refused (${r.status || 'closed'})`);
  const r2 = await rawGet(port, '/api/v1/report?day=' + 'A'.repeat(20000));
  t.ok(r2.status === 414 || r2.status === 431, `20 KB query: 414/431 (got ${r2.status})`);
  await alive('huge queries');
}

// ---- huge bodies: refused with 413 before (Content-Length) or after (chunked) reading ------------------
{
  const t0 = Date.now();
  const r = await raw(port, 'POST /api/v1/simulate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Content-Length: 1073741824\r\nExpect: 100-continue\r\n\r\n');
  t.ok(r.status === 413 && isJsonError(r) && Date.now() - t0 < 2000, `1 GiB Content-Length: 413 at once (got ${r.status} in ${Date.now() - t0} ms)`);
  const chunk = 'a'.repeat(16384);
  let body = '';
  for (let i = 0; i < 8; i++) body += `4000\r\n${chunk}\r\n`;
  const c = await raw(port, `POST /api/v1/simulate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}0\r\n\r\n`);
  t.ok(c.status === 413 && isJsonError(c), `128 KiB chunked body: 413 JSON (got ${c.status})`);
  await alive('huge bodies');
}

// ---- invalid UTF-8 ------------------------------------------------------------------------------
{
  for (const q of ['symbol=%C3%28', 'symbol=%FF%FE', 'symbol=%ED%A0%80', 'from=%00', 'symbol=%E2%82']) {
    const r = await rawGet(port, '/api/v1/prices?' + q);
    t.ok(r.status === 400 && isJsonError(r), `invalid UTF-8/control ${q}: 400 JSON (got ${r.status})`);
  }
  const rawBytes = await rawGet(port, Buffer.from([0x2f, 0x61, 0x70, 0x69, 0x2f, 0xff, 0xfe, 0x80]));
  t.ok(rawBytes.status >= 400 && rawBytes.status < 500 || rawBytes.closed, `raw 0xFF bytes in the path: 4xx (got ${rawBytes.status})`);
  const hdr = await raw(port, Buffer.concat([Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: '),
    Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('\r\nConnection: close\r\n\r\n')]));
  t.ok(hdr.status === 200 || (hdr.status >= 400 && hdr.status < 500), `invalid UTF-8 in a header: handled (${hdr.status})`);
  await alive('invalid UTF-8');
}

// ---- negative and huge numbers ------------------------------------------------------------------------
{
  const liq = '/api/v1/liq?venue=binance&symbol=BTCUSDT&side=long';
  const cases = [
    [`${liq}&entry=-62500&qty=0.16&margin=1000`, 'entry'],
    [`${liq}&entry=62500&qty=-1&margin=1000`, 'qty'],
    [`${liq}&entry=1e400&qty=0.16&margin=1000`, 'entry'],
    [`${liq}&entry=99999999999999999999999999&qty=0.16&margin=1000`, 'entry'],
    [`${liq}&entry=62500&qty=99999999999&margin=1000`, 'qty'],
    [`${liq}&entry=62500&qty=0.16&margin=1000&leverage=-5`, 'leverage'],
    [`${liq}&entry=62500&qty=0.16&margin=1000&leverage=18446744073709551617`, 'leverage'],
    [`${liq}&entry=NaN&qty=0.16&margin=1000`, 'entry'],
    [`${liq}&entry=0x10&qty=0.16&margin=1000`, 'entry'],
    ['/api/v1/heatmap?bands=-3', 'bands'],
    ['/api/v1/heatmap?bands=99999999999999999999999', 'bands'],
    ['/api/v1/correlation?window=0', 'window'],
    ['/api/v1/liquidations?bucket=-1h', 'bucket'],
    ['/api/v1/liquidations?bucket=1s&from=2020-01-01&to=2026-01-01', 'bucket'],
    ['/api/v1/prices?from=-99999999999999999999', 'from'],
    ['/api/v1/report?window=999999999d', 'window'],
  ];
  for (const [path, field] of cases) {
    const r = await rawGet(port, path);
    let j = {};
    try { j = JSON.parse(r.body); } catch { /* checked below */ }
    t.ok(r.status === 400 && isJsonError(r) && j.field === field, `${path.slice(0, 90)}: 400 naming ${field} (got ${r.status} ${j.field})`);
  }
  for (const body of ['{"positions":-1}', '{"positions":1e12}', '{"positions":99999999999999999999999}',
    '{"shocks_pct":[1e308]}', '{"shocks_pct":[-100]}', '{"seed":-7}', '{"positions":"many"}',
    '{"shocks_pct":[' + '-1,'.repeat(40) + '-1]}', '[]', '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}']) {
    const r = await raw(port, `POST /api/v1/simulate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    t.ok(r.status === 400 && isJsonError(r), `simulate ${body.slice(0, 40)}: 400 JSON (got ${r.status})`);
  }
  await alive('bad numbers');
}

// ---- SQL-like strings ------------------------------------------------------------------------------------
{
  const sqls = ["BTCUSDT' OR '1'='1", 'BTCUSDT"; DROP TABLE events; --', "x' UNION SELECT * FROM symbols --",
    'BTCUSDT%', '*', "'", 'BTCUSDT/**/OR/**/1=1'];
  for (const s of sqls) {
    for (const route of ['prices', 'funding', 'heatmap', 'liquidations']) {
      const r = await rawGet(port, `/api/v1/${route}?symbol=${encodeURIComponent(s)}`);
      t.ok(r.status === 400 && isJsonError(r), `${route} symbol=${s}: 400 (got ${r.status})`);
    }
  }
  const r = await rawGet(port, '/api/v1/etf-flows?fund=' + encodeURIComponent("TOTAL' OR 1=1 --"));
  t.ok(r.status === 400, `etf-flows fund=SQL: 400 (got ${r.status})`);
  const ok = await rawGet(port, '/api/v1/prices?symbol=a%3Db');
  t.ok(ok.status === 404 && isJsonError(ok), `symbol with '=' but no such data: 404 (got ${ok.status})`);
  await alive('SQL-like strings');
}

// ---- path traversal -----------------------------------------------------------------------------------------
{
  const paths = ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e%2f%2e%2e%2fetc/passwd', '//etc/passwd', '/.git/config', '/../package.json', '/app.js/../../README.md',
    '/index.html%00.png', '/..\\..\\etc\\passwd', '/%252e%252e/etc/passwd', '/.%2e/.%2e/etc/passwd',
    '/node_modules/echarts/package.json', '/../src/main.js'];
  for (const p of paths) {
    const r = await rawGet(port, p);
    t.ok((r.status === 404 || r.status === 400) && !r.body.includes('root:') && !r.body.includes('"name"'),
      `traversal ${p}: ${r.status}, no file outside web/dist`);
  }
  await alive('path traversal');
}

// ---- slowloris: slow headers hold sockets, the server keeps answering and drops idle ones ------------------------------
{
  const slow = [];
  for (let i = 0; i < 200; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.closedAt = 0;
    s.on('close', () => { s.closedAt = Date.now(); });
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    slow.push(s);
  }
  const t0 = Date.now();
  const drip = setInterval(() => slow.forEach((s, i) => { if (i % 2 === 0 && !s.destroyed) s.write('a'); }), 1000);
  await new Promise((r) => setTimeout(r, 1500));
  const h0 = Date.now();
  const h = await rawGet(port, '/healthz');
  t.ok(h.status === 200 && Date.now() - h0 < 1000, `200 slow-header clients open: /healthz still answers in ${Date.now() - h0} ms`);
  clearInterval(drip);
  await new Promise((r) => setTimeout(r, 5000)); // --timeout 3: idle sockets are dropped
  const open = slow.filter((s) => s.closedAt === 0).length;
  t.ok(open === 0, `slow clients dropped after the idle timeout (${200 - open}/200 closed within ${Date.now() - t0} ms)`);
  slow.forEach((s) => s.destroy());
  await alive('slowloris');
}

// ---- 1,000 concurrent connections ------------------------------------------------------------------------------
{
  const N = 1000;
  const socks = await Promise.all(Array.from({ length: N }, () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => resolve(s));
  })));
  const connected = socks.filter((s) => !s.destroyed).length;
  t.ok(connected === N, `${connected}/${N} connections open at once`);
  const answers = await Promise.all(socks.map((s) => new Promise((resolve) => {
    let buf = '';
    s.setTimeout(15000, () => { s.destroy(); resolve(0); });
    s.on('data', (d) => { buf += d; if (/\r\n\r\n[\s\S]*\}/.test(buf)) { resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(buf)?.[1] ?? 0)); s.destroy(); } });
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(buf)?.[1] ?? 0)));
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  })));
  const ok = answers.filter((c) => c === 200).length;
  t.ok(ok === N, `${ok}/${N} concurrent requests answered 200`);
  await alive('1,000 concurrent connections');
}
t.done();
