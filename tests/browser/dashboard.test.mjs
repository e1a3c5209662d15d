// dashboard.test.mjs URL OUTDIR -- the dashboard in a real browser.
//
// Debian's chromium (headless) driven by playwright-core loads the page that
// `stampede serve` serves at URL, and fails (exit 1) when
//   - any console error or uncaught page error happens, or a request fails;
//   - the page does not report every panel loaded (body[data-ready=ok]);
//   - any chart has no series with data (ECharts getOption() via the page);
//   - the calculator does not answer the article's case (1,000 USDT at 20x
//     long BTC from 62,500 on Binance: liquidation 59,687.50... checked
//     against the API's own answer) or shows an error for a bad input;
//   - the simulator panel does not answer a new shock with waves.
// Screenshots (full page, calculator, simulator) go to OUTDIR as artefacts.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [url, outdir] = process.argv.slice(2);
if (!url || !outdir) {
  console.error('usage: dashboard.test.mjs URL OUTDIR');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });
const failures = [];
const fail = (m) => { failures.push(m); console.log('FAIL ' + m); };
const ok = (m) => console.log('ok   ' + m);
// page.waitForFunction evaluates a string, which the page's CSP (no
// unsafe-eval) refuses; poll with page.evaluate(fn) instead.
async function waitFor(page, fn, timeout) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(fn)) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + fn.toString());
    await new Promise((r) => setTimeout(r, 100));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') fail('console error: ' + m.text()); });
  page.on('pageerror', (e) => fail('page error: ' + e.message));
  page.on('requestfailed', (r) => fail('request failed: ' + r.url() + ' ' + (r.failure()?.errorText ?? '')));
  await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  await waitFor(page, () => document.body.dataset.ready, 30000);
  const ready = await page.evaluate(() => document.body.dataset.ready);
  const status = await page.textContent('#status');
  if (ready !== 'ok') fail('panels: ' + status); else ok('every panel loaded: ' + status);

  // each chart has at least one series with data
  const charts = await page.evaluate(() => Object.entries(window.__stampede.charts).map(([id, c]) => {
    const o = c.getOption();
    return { id, series: o.series.map((s) => ({ name: s.name, type: s.type, n: (s.data || []).length })) };
  }));
  const want = ['c-prices', 'c-intraday', 'c-heatmap', 'c-funding', 'c-corr', 'c-etf', 'c-fg', 'c-calc', 'c-sim'];
  for (const id of want) {
    const c = charts.find((x) => x.id === id);
    if (!c) { fail(`chart ${id} missing`); continue; }
    const withData = c.series.filter((s) => s.n > 0);
    if (withData.length === 0) fail(`chart ${id} has no data: ${JSON.stringify(c.series)}`);
    else ok(`chart ${id}: ` + withData.map((s) => `${s.name} (${s.type}) ${s.n}`).join(', '));
  }
  const figs = await page.$$eval('#figures tbody tr', (r) => r.length);
  if (figs < 10) fail(`headline table has ${figs} rows`); else ok(`headline table: ${figs} figures`);
  await page.screenshot({ path: `${outdir}/dashboard.png`, fullPage: true });

  // calculator: the article's 20x case; the page's text must carry the API's answer
  await page.fill('#calc input[name=leverage]', '20');
  await page.fill('#calc input[name=entry]', '62500');
  await page.fill('#calc input[name=margin]', '1000');
  await page.selectOption('#calc select[name=venue]', 'binance');
  await page.click('#calc button');
  await waitFor(page, () => /20x: liquidated at/.test(document.querySelector('#calc-out').textContent), 10000);
  const calcText = await page.textContent('#calc-out');
  const apiLiq = await page.evaluate(async () => (await (await fetch('api/v1/liq?venue=binance&symbol=BTCUSDT&side=long&entry=62500&qty=0.32&margin=1000&leverage=20')).json()));
  if (!calcText.includes(`liquidated at ${apiLiq.liq_price}`) || !calcText.includes(`naive 1/L says ${apiLiq.naive_price}`))
    fail(`calculator text "${calcText}" does not show ${apiLiq.liq_price} / ${apiLiq.naive_price}`);
  else ok('calculator: ' + calcText);
  if (!(Number(apiLiq.liq_price) > Number(apiLiq.naive_price))) fail('a long is liquidated before the naive price');
  await page.locator('#p-calc').screenshot({ path: `${outdir}/calculator.png` });
  await page.fill('#calc input[name=entry]', '-5');
  await page.click('#calc button');
  await waitFor(page, () => document.querySelector('#calc-out').classList.contains('err'), 10000);
  ok('calculator refuses a negative entry: ' + await page.textContent('#calc-out'));
  await page.fill('#calc input[name=entry]', '62500');

  // simulator: a bigger shock liquidates more
  const before = await page.evaluate(() => window.__stampede.charts['c-sim'].getOption().series[0].data.reduce((a, b) => a + b, 0));
  await page.fill('#sim input[name=shock]', '-15');
  await page.dispatchEvent('#sim input[name=shock]', 'input');
  await page.click('#sim button');
  await waitFor(page, () => /A -15% shock/.test(document.querySelector('#sim-out').textContent), 20000);
  const simText = await page.textContent('#sim-out');
  const after = await page.evaluate(() => window.__stampede.charts['c-sim'].getOption().series[0].data.reduce((a, b) => a + b, 0));
  if (!(after > before)) fail(`simulator: -15% liquidated ${after} US$ m, not more than -8% (${before})`);
  else ok(`simulator: ${simText}`);
  await page.locator('#p-sim').screenshot({ path: `${outdir}/simulator.png` });
} catch (e) {
  fail('exception: ' + (e.stack || e.message));
} finally {
  await browser.close();
}
console.log(failures.length ? `${failures.length} failure(s)` : 'browser test passed');
process.exit(failures.length ? 1 : 0);
