// Dashboard budgets (issue 6): bundle size, time to data, streaming load on the main thread.
//   TECHMART_API_BIN=build/api/techmart-api TECHMART_DATABASE_URL="host=... port=... dbname=... user=postgres" \
//   PSQL="psql -h ... -p ... -U postgres -d ..." node bench/web/run.mjs [--seconds 10] [--rate 60]
// Needs web/dist (cd web && npm ci && npm run build) and tests/browser/node_modules (npm ci there).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startApi, launch, openDashboard, makeToken, sql, DIST, DESKTOP } from '../../tests/browser/lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 10);
const RATE = arg('rate', 60);
const RUNS = arg('runs', 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. bundle: gzipped JavaScript, all chunks and the ones index.html loads up front
const assets = path.join(DIST, 'assets');
const js = fs.readdirSync(assets).filter((f) => f.endsWith('.js'));
const gz = (f) => zlib.gzipSync(fs.readFileSync(path.join(assets, f)), { level: 9 }).length;
const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
const initial = js.filter((f) => html.includes(f));
const total = js.reduce((s, f) => s + gz(f), 0);
const initialGz = initial.reduce((s, f) => s + gz(f), 0);
const raw = js.reduce((s, f) => s + fs.statSync(path.join(assets, f)).size, 0);
console.log(`bundle: ${js.length} JS files, ${(raw / 1024).toFixed(1)} KB raw, ${(total / 1024).toFixed(1)} KB gzipped (initial ${(initialGz / 1024).toFixed(1)} KB); budget 400 KB: ${total < 400 * 1024 ? 'met' : 'MISSED'}`);

const api = await startApi({ TECHMART_SSE_METRICS_DEBOUNCE_MS: '1000' });
const browser = await launch();
const admin = makeToken('admin', { userId: 1, email: 'bench@test.local' });
try {
  // 2. time from navigation start to the first data on screen (performance mark of the app), cold context each run
  const shown = [];
  const dcl = [];
  for (let i = 0; i < RUNS; i++) {
    const { page, context } = await openDashboard(browser, api, { viewport: DESKTOP });
    await page.waitForFunction(() => performance.getEntriesByName('techmart:data-shown').length > 0);
    const t = await page.evaluate(() => ({
      shown: performance.getEntriesByName('techmart:data-shown')[0].startTime,
      dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    }));
    shown.push(t.shown);
    dcl.push(t.dcl);
    await context.close();
  }
  console.log(`time to data: median ${median(shown).toFixed(0)} ms (runs ${shown.map((x) => x.toFixed(0)).join(', ')}), DOMContentLoaded median ${median(dcl).toFixed(0)} ms; budget 1500 ms: ${median(shown) < 1500 ? 'met' : 'MISSED'}`);

  // 3. streaming: RATE transactions a second for SECONDS, main-thread busy time from CDP (TaskDuration)
  const { page, context } = await openDashboard(browser, api, { viewport: DESKTOP });
  await page.locator('[data-testid="connection"][data-state="open"]').waitFor({ timeout: 10000 });
  await page.waitForTimeout(1000);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskTime = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  // idle baseline over the same time
  let t0 = await taskTime();
  let w0 = Date.now();
  await page.waitForTimeout(SECONDS * 1000);
  const idle = (await taskTime() - t0) / ((Date.now() - w0) / 1000);

  const customers = sql('SELECT id FROM customers ORDER BY id LIMIT 200').split('\n').map(Number);
  const products = sql('SELECT id FROM products ORDER BY id LIMIT 200').split('\n').map(Number);
  t0 = await taskTime();
  w0 = Date.now();
  let sent = 0;
  let lastId = 0;
  const inflight = [];
  while (sent < RATE * SECONDS) {
    const due = w0 + (sent * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const body = { customer_id: customers[sent % customers.length], product_id: products[(sent * 7) % products.length], quantity: 1, unit_price: 10 + (sent % 50), status: 'completed', payment_method: 'credit_card' };
    inflight.push(
      fetch(api.base + '/api/v1/transactions', { method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
        .then((r) => r.json())
        .then((j) => { lastId = Math.max(lastId, j.id ?? 0); }),
    );
    sent++;
  }
  await Promise.all(inflight);
  const sendWall = (Date.now() - w0) / 1000;
  await page.locator(`.feed-row[data-tx-id="${lastId}"]`).waitFor({ timeout: 5000 });
  const wall = (Date.now() - w0) / 1000;
  const busy = (await taskTime() - t0) / wall;
  console.log(`streaming: ${sent} transactions in ${sendWall.toFixed(1)} s (${(sent / sendWall).toFixed(1)}/s), last one in the feed after ${wall.toFixed(1)} s; main thread busy ${(busy * 100).toFixed(1)} % (idle page ${(idle * 100).toFixed(1)} %); budget 50 %: ${busy < 0.5 ? 'met' : 'MISSED'}`);
  await context.close();
} finally {
  await browser.close();
  await api.stop();
}
