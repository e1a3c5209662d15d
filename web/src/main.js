// main.js -- the stampede dashboard.  Every number comes from the JSON API
// served by the same `stampede serve` (docs/api.md); this file only fetches
// and draws.  Charts: Apache ECharts, bundled by esbuild into dist/app.js
// (build.mjs), no CDN.  window.__stampede exposes the chart instances and a
// `ready` promise for the browser test (tests/browser/dashboard.test.mjs).
import * as echarts from 'echarts/core';
import { LineChart, BarChart, HeatmapChart, GaugeChart } from 'echarts/charts';
import {
  GridComponent, TooltipComponent, LegendComponent, VisualMapComponent,
  DataZoomComponent, TitleComponent, MarkLineComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { qtyFor } from './decimal.js';

echarts.use([LineChart, BarChart, HeatmapChart, GaugeChart, GridComponent, TooltipComponent,
  LegendComponent, VisualMapComponent, DataZoomComponent, TitleComponent, MarkLineComponent,
  CanvasRenderer]);

const charts = {};
const $ = (id) => document.getElementById(id);
const base = { backgroundColor: 'transparent', animation: false, textStyle: { fontSize: 11 } };
const grid = { left: 60, right: 60, top: 30, bottom: 40 };

function chart(id) {
  const c = echarts.init($(id), 'dark', { renderer: 'canvas' });
  charts[id] = c;
  return c;
}

async function api(path, init) {
  const r = await fetch('api/v1/' + path, init);
  const body = await r.json();
  if (!r.ok) {
    const e = new Error(`${path}: ${r.status} ${body.error}${body.field ? ' (' + body.field + ')' : ''}: ${body.detail}`);
    e.status = r.status;
    e.body = body;
    throw e;
  }
  return body;
}

const pct = (x, d = 2) => (x * 100).toFixed(d) + '%';

// ---- headline table --------------------------------------------------------------------
async function headline() {
  const r = await api('report?day=2026-02-06');
  const tb = document.querySelector('#figures tbody');
  tb.textContent = '';
  for (const f of r.figures) {
    const tr = document.createElement('tr');
    for (const [v, cls] of [[f.label + (f.unit && f.unit !== '%' ? ' [' + f.unit + ']' : ''), ''],
      [f.article ?? '-', ''], [f.data, f.differs ? 'diff' : '']]) {
      const td = document.createElement('td');
      td.textContent = v;
      if (cls) { td.className = cls; td.title = f.differs; }
      tr.appendChild(td);
    }
    tb.appendChild(tr);
  }
  return r;
}

// ---- prices of every coin with modelled liquidation bars ----------------------------------
async function prices() {
  const coins = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT', 'BNBUSDT'];
  const q = 'venue=binance_spot&interval=4h&from=2026-01-25&to=2026-02-09';
  const got = await Promise.allSettled(coins.map((s) => api(`prices?symbol=${s}&${q}`)));
  const heat = await api('heatmap?from=2026-01-25&to=2026-02-09');
  const series = [];
  got.forEach((g, i) => {
    if (g.status !== 'fulfilled' || g.value.bars.length === 0) return;
    const b = g.value.bars, c0 = b[0][4];
    series.push({ name: coins[i].replace('USDT', ''), type: 'line', showSymbol: false,
      data: b.map((x) => [x[0], +(((x[4] / c0) - 1) * 100).toFixed(3)]) });
  });
  series.push({ name: 'modelled liquidations (US$ m)', type: 'bar', yAxisIndex: 1,
    itemStyle: { color: '#f85149' },
    data: heat.ts.map((t, i) => [t, +(heat.hit[i] / 1e6).toFixed(3)]) });
  chart('c-prices').setOption({ ...base, grid, tooltip: { trigger: 'axis' }, legend: { top: 0 },
    xAxis: { type: 'time' },
    yAxis: [{ type: 'value', name: '% from first bar' }, { type: 'value', name: 'US$ m', splitLine: { show: false } }],
    series });
  const liq = await api('liquidations?from=2026-02-06&to=2026-02-07');
  $('n-liq').textContent = liq.count > 0
    ? `Recorded liquidation orders on 6 Feb: ${liq.count}, US$ ${Number(liq.notional).toLocaleString()}.`
    : 'The shipped data has no exchange liquidation feed for 6 Feb 2026: the red bars are the heatmap model\'s liquidations (positions opened from traded volume, docs/metrics.md §8), not recorded orders.';
}

async function intraday() {
  const p = await api('prices?symbol=BTCUSDT&venue=binance&interval=1m&from=2026-02-06&to=2026-02-07');
  chart('c-intraday').setOption({ ...base, grid, tooltip: { trigger: 'axis' },
    xAxis: { type: 'time' }, yAxis: { type: 'value', scale: true, name: 'USDT' },
    dataZoom: [{ type: 'inside' }],
    series: [{ name: 'BTCUSDT close', type: 'line', showSymbol: false, data: p.bars.map((b) => [b[0], b[4]]) },
      { name: 'low', type: 'line', showSymbol: false, lineStyle: { width: 0.5, opacity: 0.5 }, data: p.bars.map((b) => [b[0], b[3]]) }] });
}

async function heatmap() {
  const h = await api('heatmap?from=2026-01-25&to=2026-02-09&bands=40');
  const data = [];
  let max = 1;
  for (let t = 0; t < h.steps; t++)
    for (let k = 0; k < h.bands; k++) {
      const v = h.longs[t][k] + h.shorts[t][k];
      if (v > 0) { data.push([t, k, +(v / 1e6).toFixed(2)]); if (v / 1e6 > max) max = v / 1e6; }
    }
  const xs = h.ts.map((t) => new Date(t).toISOString().slice(5, 13).replace('T', ' '));
  const ys = Array.from({ length: h.bands }, (_, k) => Math.round(h.band_lo + h.band_width * (k + 0.5)).toString());
  chart('c-heatmap').setOption({ ...base, grid: { ...grid, right: 20, bottom: 60 }, tooltip: {},
    xAxis: { type: 'category', data: xs }, yAxis: { type: 'category', data: ys, name: 'price' },
    visualMap: { min: 0, max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120,
      inRange: { color: ['#0d1b2a', '#1b4965', '#5fa8d3', '#f9c74f', '#f94144'] } },
    series: [{ name: 'resting liquidation notional (US$ m)', type: 'heatmap', data }] });
}

async function funding() {
  const f = await api('funding?from=2026-01-07&to=2026-02-09');
  chart('c-funding').setOption({ ...base, grid, tooltip: { trigger: 'axis' }, legend: { top: 0 },
    xAxis: { type: 'time' },
    yAxis: [{ type: 'value', name: '% per 8h' }, { type: 'value', name: 'OI (BTC)', splitLine: { show: false } }],
    series: [
      { name: 'daily mean funding', type: 'bar', data: f.daily.map((d) => [d.ms, +(d.mean * 100).toFixed(5)]) },
      { name: 'settlements', type: 'line', showSymbol: false, data: f.settlements.map((s) => [s[0], +(s[1] * 100).toFixed(5)]) },
      { name: 'open interest', type: 'line', yAxisIndex: 1, showSymbol: false, data: f.open_interest.map((o) => [o[0], o[1]]) }] });
}

async function correlation() {
  const c = await api('correlation?from=2025-06-01&to=2026-02-07');
  chart('c-corr').setOption({ ...base, grid, tooltip: { trigger: 'axis' },
    title: { text: `r = ${c.r.toFixed(2)} on the day (${c.n} returns)`, textStyle: { fontSize: 12 }, right: 10, top: 0 },
    xAxis: { type: 'time' }, yAxis: { type: 'value', min: -1, max: 1 },
    series: [{ name: 'corr(BTC, ^NDX)', type: 'line', showSymbol: false, data: c.rolling }] });
}

async function etf() {
  const e = await api('etf-flows?from=2025-11-01&to=2026-02-09');
  chart('c-etf').setOption({ ...base, grid, tooltip: { trigger: 'axis' },
    xAxis: { type: 'time' }, yAxis: { type: 'value', name: 'US$ m' },
    series: [{ name: 'net flow', type: 'bar', data: e.daily.map((d) => ({ value: d,
      itemStyle: { color: d[1] < 0 ? '#f85149' : '#3fb950' } })) }] });
}

async function fearGreed() {
  const g = await api('fear-greed?from=2025-11-01&to=2026-02-07');
  chart('c-fg').setOption({ ...base, tooltip: {},
    series: [{ name: 'published', type: 'gauge', min: 0, max: 100, center: ['30%', '60%'], radius: '80%',
      axisLine: { lineStyle: { width: 12, color: [[0.25, '#f85149'], [0.45, '#f0883e'], [0.55, '#d29922'], [0.75, '#3fb950'], [1, '#2ea043']] } },
      detail: { formatter: `{value}\n${g.label}`, fontSize: 14 }, data: [{ value: g.published, name: g.last_day }] },
    { name: 'ours', type: 'line', showSymbol: false, xAxisIndex: 0, yAxisIndex: 0, data: g.series_ours },
    { name: 'published', type: 'line', showSymbol: false, xAxisIndex: 0, yAxisIndex: 0, data: g.series_published }],
    grid: { left: '60%', right: 10, top: 20, bottom: 30 },
    xAxis: { type: 'time', axisLabel: { fontSize: 9 } }, yAxis: { type: 'value', min: 0, max: 100 } });
}

// ---- calculator -----------------------------------------------------------------------------
const LEVS = [5, 10, 20, 25, 50, 75, 100, 125];

async function liqAt(venue, side, entry, margin, lev) {
  const qty = qtyFor(margin, lev, entry);
  const q = new URLSearchParams({ venue, symbol: 'BTCUSDT', side, entry, qty, margin, leverage: String(lev) });
  return api('liq?' + q.toString());
}

async function calc(ev) {
  if (ev) ev.preventDefault();
  const f = new FormData($('calc'));
  const venue = f.get('venue'), side = f.get('side'), entry = String(f.get('entry')).trim(),
    margin = String(f.get('margin')).trim(), lev = parseInt(String(f.get('leverage')), 10);
  const out = $('calc-out');
  try {
    if (!(lev >= 1 && lev <= 125)) throw new Error('leverage: want 1..125');
    const r = await liqAt(venue, side, entry, margin, lev);
    out.className = 'out';
    out.textContent = `${venue} ${side} ${lev}x: liquidated at ${r.liq_price ?? 'never'} (a ${r.liq_move_pct ?? '-'}% move), ` +
      `naive 1/L says ${r.naive_price} (${r.naive_move_pct}%); bankruptcy ${r.bankruptcy_price}; tier ${r.tier} of ${r.tier_table}, MMR ${r.mmr}.`;
    const rows = await Promise.allSettled(LEVS.map((L) => liqAt(venue, side, entry, margin, L)));
    const ex = [], nv = [];
    rows.forEach((x, i) => {
      if (x.status !== 'fulfilled' || x.value.liq_move_pct === undefined) return;
      ex.push([String(LEVS[i]) + 'x', Number(x.value.liq_move_pct)]);
      nv.push([String(LEVS[i]) + 'x', Number(x.value.naive_move_pct)]);
    });
    chart('c-calc').setOption({ ...base, grid, tooltip: { trigger: 'axis' }, legend: { top: 0 },
      xAxis: { type: 'category', data: ex.map((x) => x[0]) }, yAxis: { type: 'log', name: 'adverse move %' },
      series: [{ name: `${venue} liquidation`, type: 'bar', data: ex.map((x) => x[1]) },
        { name: 'naive 1/L', type: 'line', data: nv.map((x) => x[1]) }] });
  } catch (e) {
    out.className = 'out err';
    out.textContent = e.message;
  }
}

// ---- simulator ---------------------------------------------------------------------------------
async function simulate(ev) {
  if (ev) ev.preventDefault();
  const f = new FormData($('sim'));
  const shock = Number(f.get('shock')), positions = Number(f.get('positions'));
  const out = $('sim-out');
  out.className = 'out';
  out.textContent = 'running…';
  try {
    const r = await api('simulate', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ positions, shocks_pct: [shock] }) });
    const s = r.scenarios[0];
    out.textContent = `A ${shock}% shock from ${r.start_px}: ${s.liquidated.toLocaleString()} of ${r.positions.toLocaleString()} positions liquidated ` +
      `in ${s.waves_total} waves (US$ ${(s.notional / 1e6).toFixed(1)} m); the price fell ${(s.move_total_bp / 100).toFixed(2)}% ` +
      `instead of ${(s.move_exo_bp / 100).toFixed(2)}%: amplification ${s.amplification}x (${r.elapsed_ms} ms).`;
    chart('c-sim').setOption({ ...base, grid, tooltip: { trigger: 'axis' }, legend: { top: 0 },
      xAxis: { type: 'category', data: s.waves.map((_, i) => 'wave ' + (i + 1)) },
      yAxis: [{ type: 'value', name: 'US$ m' }, { type: 'value', name: 'price', scale: true, splitLine: { show: false } }],
      series: [{ name: 'liquidated notional', type: 'bar', data: s.waves.map((w) => +(w.notional / 1e6).toFixed(2)) },
        { name: 'price after the wave', type: 'line', yAxisIndex: 1, data: s.waves.map((w) => w.px_after) }] }, true);
  } catch (e) {
    out.className = 'out err';
    out.textContent = e.message;
  }
}

// ---- start ---------------------------------------------------------------------------------------
$('calc').addEventListener('submit', calc);
$('sim').addEventListener('submit', simulate);
const slider = document.querySelector('#sim input[name=shock]');
slider.addEventListener('input', () => { $('shock-val').textContent = slider.value + '%'; });
window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));

const ready = Promise.allSettled([headline(), prices(), intraday(), heatmap(), funding(), correlation(),
  etf(), fearGreed(), calc(), simulate()]).then((rs) => {
  const bad = rs.filter((r) => r.status === 'rejected');
  $('status').textContent = bad.length ? `${bad.length} panel(s) failed: ` + bad.map((b) => b.reason.message).join('; ')
    : 'all panels loaded from the API';
  document.body.dataset.ready = bad.length ? 'partial' : 'ok';
  return rs;
});
window.__stampede = { charts, ready, calc, simulate };
