// api.test.mjs PORT STAMPEDE STORE -- every route of `stampede serve` over
// real HTTP on 127.0.0.1, each answer validated against the server's own
// OpenAPI document (openapi_check.mjs), every error status produced and
// checked to be a JSON {error, field, detail}; the report and the
// calculator compared with the CLI (`stampede report --json`, `stampede liq
// --json`) on the same store and inputs; the simulation queue overflowed
// into 429s.  Exit 1 on any failure.
import { execFileSync } from 'node:child_process';
import { validate, responseSchema } from './openapi_check.mjs';
import { checker, rawGet } from './lib.mjs';

const [port, bin, store] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const t = checker();

async function call(method, path, body, headers = {}) {
  const r = await fetch(base + path, { method, body, headers });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, text, json, type: r.headers.get('content-type') };
}

const doc = (await call('GET', '/api/v1/openapi.json')).json;
t.ok(doc && doc.openapi === '3.0.3' && Object.keys(doc.paths).length >= 12, 'openapi.json parses, 12+ paths');

// answer must be documented for (method, route, status) and valid against its schema
function conforms(method, route, r, what) {
  // a 405 is documented on the route's one allowed method
  const m = r.status === 405 ? Object.keys(doc.paths[route] ?? {})[0] ?? method : method;
  const s = responseSchema(doc, m, route, r.status);
  if (!t.ok(s !== undefined, `${what}: status ${r.status} documented for ${method} ${route}`)) return false;
  if (!t.ok(r.json !== undefined, `${what}: body is JSON (${r.text.slice(0, 80)})`)) return false;
  const errs = validate(doc, s, r.json);
  return t.ok(errs.length === 0, `${what}: matches the schema` + (errs.length ? ': ' + errs.slice(0, 5).join('; ') : ''));
}

// ---- every route, defaults and a second set of parameters ------------------------------
const gets = [
  ['/healthz', '/healthz'],
  ['/api/v1/openapi.json', '/api/v1/openapi.json'],
  ['/api/v1/report', '/api/v1/report'],
  ['/api/v1/report', '/api/v1/report?day=2024-10-01&window=12h'],
  ['/api/v1/prices', '/api/v1/prices'],
  ['/api/v1/prices', '/api/v1/prices?symbol=ETHUSDT&venue=binance_spot&interval=4h&from=2026-01-01&to=2026-02-10'],
  ['/api/v1/liquidations', '/api/v1/liquidations'],
  ['/api/v1/liquidations', '/api/v1/liquidations?from=2024-10-01&to=2024-10-02&bucket=1h'],
  ['/api/v1/heatmap', '/api/v1/heatmap'],
  ['/api/v1/correlation', '/api/v1/correlation?against=GC%3DF&window=20&ret=simple'],
  ['/api/v1/correlation', '/api/v1/correlation'],
  ['/api/v1/funding', '/api/v1/funding'],
  ['/api/v1/etf-flows', '/api/v1/etf-flows'],
  ['/api/v1/fear-greed', '/api/v1/fear-greed'],
  ['/api/v1/extremes', '/api/v1/extremes'],
  ['/api/v1/drawdown', '/api/v1/drawdown'],
  ['/api/v1/change', '/api/v1/change'],
  ['/api/v1/volatility', '/api/v1/volatility'],
  ['/api/v1/liq', '/api/v1/liq?venue=binance&symbol=BTCUSDT&side=long&entry=62500&qty=0.16&margin=1000&leverage=10'],
];
for (const [route, path] of gets) {
  const r = await call('GET', path);
  t.ok(r.status === 200, `GET ${path}: 200 (got ${r.status} ${r.text.slice(0, 120)})`);
  conforms('GET', route, r, `GET ${path}`);
}

// ---- facts a reader can check in data/PROVENANCE.md ---------------------------------------
const rep = (await call('GET', '/api/v1/report')).json;
const ath = rep.figures.find((f) => f.key === 'btc_ath');
t.ok(ath && ath.data === '126,199.63 on 2025-10-06', 'report: BTC ATH 126,199.63 on 2025-10-06');
const liq24 = (await call('GET', '/api/v1/liquidations?from=2024-10-01&to=2024-10-01T12:00:00Z')).json;
t.ok(liq24.groups.some((g) => g.venue === 'binance_cm' && g.symbol === 'BTCUSD_PERP' && g.side === 'short' && g.count === 3),
  'liquidations 2024-10-01: binance_cm BTCUSD_PERP short x3 (as `stampede report --day 2024-10-01 --window 12h`)');
const pr = (await call('GET', '/api/v1/prices')).json;
t.ok(pr.bars.length === 1440 && Math.min(...pr.bars.map((b) => b[3])) === 59800, 'prices: 1440 1m bars on the day, low 59,800.00');
const fg = (await call('GET', '/api/v1/fear-greed')).json;
t.ok(fg.last_day === '2026-02-06' && fg.published === 9, 'fear-greed: published 9 on 2026-02-06');

// ---- the API and the CLI give the same answers -----------------------------------------------
const metricCases = [
  ['extremes', 'symbol=BTCUSDT&venue=binance&interval=1m&from=2026-02-06&to=2026-02-07',
    ['--symbol', 'BTCUSDT', '--venue', 'binance', '--interval', '1m', '--from', '2026-02-06', '--to', '2026-02-07'], ['high', 'low', 'bars']],
  ['drawdown', 'from=2024-01-01&to=2026-02-07', ['--from', '2024-01-01', '--to', '2026-02-07'], ['drawdown', 'peak', 'trough']],
  ['change', 'symbol=SOLUSDT&interval=4h&at=2026-02-06T08:00:00Z', ['--symbol', 'SOLUSDT', '--interval', '4h', '--at', '2026-02-06T08:00:00Z'], ['change']],
  ['volatility', 'from=2026-01-01&to=2026-02-07', ['--from', '2026-01-01', '--to', '2026-02-07'], ['stdev', 'annualised', 'returns']],
];
for (const [name, q, args, keys] of metricCases) {
  const cli = JSON.parse(execFileSync(bin, ['metric', name === 'volatility' ? 'vol' : name, '--store', store, '--json', ...args], { encoding: 'utf8' }));
  const r = (await call('GET', `/api/v1/${name}?${q}`)).json;
  const diff = keys.filter((k) => JSON.stringify(cli[k]) !== JSON.stringify(r?.[k]));
  t.ok(diff.length === 0, `${name}: API == \`stampede metric ${name} --json\`` + (diff.length ? ' differs in ' + diff.map((k) => `${k}: ${cli[k]} vs ${r?.[k]}`).join(', ') : ` (${keys.map((k) => cli[k]).join(', ')})`));
}

const cliRep = execFileSync(bin, ['report', '--store', store, '--json'], { encoding: 'utf8' }).trim();
t.ok(cliRep === (await call('GET', '/api/v1/report')).text, 'report: API body == `stampede report --json` byte for byte');
const liqCases = [
  { venue: 'binance', symbol: 'BTCUSDT', side: 'long', entry: '62500', qty: '0.16', margin: '1000' },
  { venue: 'binance', symbol: 'BTCUSDT', side: 'short', entry: '62500', qty: '1.6', margin: '1000', date: '2025-09-01' },
  { venue: 'bybit', symbol: 'BTCUSDT', side: 'long', entry: '62500', qty: '3.2', margin: '2000' },
  { venue: 'okx', symbol: 'BTC-USDT-SWAP', side: 'long', entry: '62500', qty: '32', margin: '1000', mmr: '0.004', fee_rate: '0.0005' },
  { venue: 'bitmex', symbol: 'XBTUSD', side: 'long', entry: '62500', qty: '20000', margin: '0.016', mmr: '0.005', fee_rate: '0' },
  { venue: 'binance', symbol: 'BTCUSDT', side: 'long', mode: 'cross', entry: '62500', qty: '0.5', margin: '5000', other_mm: '100', other_upnl: '-250' },
];
for (const c of liqCases) {
  const args = ['liq', '--json'];
  for (const [k, v] of Object.entries(c)) args.push('--' + k.replace('_', '-'), v);
  const cli = JSON.parse(execFileSync(bin, args, { encoding: 'utf8' }));
  const r = await call('GET', '/api/v1/liq?' + new URLSearchParams(c));
  conforms('GET', '/api/v1/liq', r, `liq ${c.venue} ${c.side} ${c.mode ?? 'isolated'}`);
  const diff = Object.keys(cli).filter((k) => k !== 'im' && JSON.stringify(cli[k]) !== JSON.stringify(r.json?.[k]));
  t.ok(diff.length === 0, `liq ${c.venue} ${c.symbol} ${c.side}: API == \`stampede liq --json\`` +
    (diff.length ? ' differs in ' + diff.map((k) => `${k}: ${cli[k]} vs ${r.json?.[k]}`).join(', ') : ` (liq ${cli.liq_price})`));
}

// ---- every error status is JSON {error, field, detail}, documented ---------------------------------
const errs = [
  ['GET', '/api/v1/report?day=2026-13-45', 400, '/api/v1/report', 'day'],
  ['GET', '/api/v1/report?nonsense=1', 400, '/api/v1/report', 'nonsense'],
  ['GET', '/api/v1/report?day=2026-02-06&day=2026-02-07', 400, '/api/v1/report', 'day'],
  ['GET', '/api/v1/heatmap?bands=1', 400, '/api/v1/heatmap', 'bands'],
  ['GET', '/api/v1/prices?interval=7x', 400, '/api/v1/prices', 'interval'],
  ['GET', '/api/v1/prices?from=2026-02-07&to=2026-02-06', 400, '/api/v1/prices', 'to'],
  ['GET', '/api/v1/liq?venue=binance&symbol=BTCUSDT&side=long&entry=62500&qty=0.16', 400, '/api/v1/liq', 'margin'],
  ['GET', '/api/v1/liq?venue=kraken&symbol=BTCUSDT&side=long&entry=1&qty=1&margin=1', 400, '/api/v1/liq', 'venue'],
  ['GET', '/api/v1/prices?symbol=NOPEUSDT', 404, '/api/v1/prices', 'symbol'],
  ['GET', '/api/v1/report?day=1975-01-01', 404, '/api/v1/report', 'day'],
  ['POST', '/api/v1/report', 405, '/api/v1/report', null],
  ['GET', '/api/v1/simulate', 405, '/api/v1/simulate', null],
  ['POST', '/api/v1/simulate', 400, '/api/v1/simulate', null, 'not json'],
  ['POST', '/api/v1/simulate', 400, '/api/v1/simulate', 'positions', '{"positions":0}'],
  ['POST', '/api/v1/simulate', 400, '/api/v1/simulate', 'shocks_pct', '{"shocks_pct":[]}'],
  ['POST', '/api/v1/simulate', 400, '/api/v1/simulate', 'lev_mix', '{"lev_mix":"max"}'],
  ['POST', '/api/v1/simulate', 400, '/api/v1/simulate', 'surprise', '{"surprise":1}'],
  ['POST', '/api/v1/simulate', 413, '/api/v1/simulate', null, '{"x":"' + 'a'.repeat(70000) + '"}'],
];
for (const [m, path, want, route, field, body] of errs) {
  const r = await call(m, path, body, body ? { 'Content-Type': 'application/json' } : {});
  t.ok(r.status === want, `${m} ${path.slice(0, 70)}: ${want} (got ${r.status} ${r.text.slice(0, 100)})`);
  conforms(m, route, r, `${m} ${path.slice(0, 50)} error`);
  if (field !== null) t.ok(r.json?.field === field, `  names field '${field}' (got ${r.json?.field})`);
}
{
  const r = await call('GET', '/api/v1/nothing');
  t.ok(r.status === 404 && r.json?.error === 'not_found', 'unknown route: 404 JSON');
  const q = await call('GET', '/api/v1/report?day=' + 'x'.repeat(5000));
  t.ok(q.status === 414 && q.json?.error === 'query_too_long', `5 KB query: 414 JSON (got ${q.status})`);
}

// ---- the simulator: answers, grows with the shock, and its queue overflows into 429 -----------------------
{
  const r = await call('POST', '/api/v1/simulate', JSON.stringify({ positions: 20000, shocks_pct: [-4, -8, -12] }),
    { 'Content-Type': 'application/json' });
  conforms('POST', '/api/v1/simulate', r, 'simulate 3 shocks');
  const n = r.json?.scenarios?.map((s) => s.liquidated) ?? [];
  t.ok(n.length === 3 && n[0] < n[1] && n[1] < n[2], `simulate: more liquidated as the shock deepens (${n})`);
  t.ok(r.json?.scenarios?.every((s) => Number(s.amplification) >= 1), 'simulate: amplification >= 1');
  const heavy = JSON.stringify({ positions: 200000, shocks_pct: [-5, -10, -15, -20] });
  const burst = await Promise.all(Array.from({ length: 12 }, () =>
    call('POST', '/api/v1/simulate', heavy, { 'Content-Type': 'application/json' })));
  const codes = burst.map((b) => b.status);
  const n429 = codes.filter((c) => c === 429).length, n200 = codes.filter((c) => c === 200 || c === 503).length;
  t.ok(n429 >= 1 && n200 >= 1 && n429 + n200 === 12, `12 concurrent heavy simulations: some 429, the rest answered (${codes})`);
  const r429 = burst.find((b) => b.status === 429);
  if (r429) conforms('POST', '/api/v1/simulate', r429, 'simulate 429');
  const after = await call('GET', '/healthz');
  t.ok(after.status === 200, 'healthz after the burst');
}

// ---- static files -------------------------------------------------------------------------------
{
  const r = await call('GET', '/');
  t.ok(r.status === 200 && /text\/html/.test(r.type) && r.text.includes('app.js'), 'GET /: the dashboard HTML');
  const js = await call('GET', '/app.js');
  t.ok(js.status === 200 && /javascript/.test(js.type) && js.text.length > 100000, 'GET /app.js: the bundle');
  const miss = await rawGet(port, '/no-such-file.js');
  t.ok(miss.status === 404, 'missing static file: 404');
}
t.done();
