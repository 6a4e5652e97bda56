// When is every dashboard widget ready? Headless Chromium opens the dashboard (admin token, a cold
// browser context each run) against the API and records, per widget, the time from navigation
// until its data-state is "ready" (or "error"), and the slowest API calls of the load.
// Meaningful on a large database (bench/api/scale_db.sh: 5,000,000 transactions).
//
//   TECHMART_API_BIN=build/api/techmart-api TECHMART_DATABASE_URL="host=... dbname=... user=postgres" \
//   PSQL="psql -h ... -d ..." node bench/web/ready.mjs [RUNS=3]
//
// The API runs with the environment's TECHMART_* settings (e.g. TECHMART_API_THREADS). Needs web/dist
// and tests/browser/node_modules (bench/web/run.sh builds both).
import { startApi, launch, makeToken, DESKTOP } from '../../tests/browser/lib.mjs';

const RUNS = Number(process.argv[2] ?? 3);
const TIMEOUT_MS = 60000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const api = await startApi({});
const browser = await launch();
const token = makeToken('admin', { userId: 1, email: 'bench@test.local' });
const perWidget = new Map();
const totals = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: DESKTOP });
    await context.addInitScript((t) => sessionStorage.setItem('techmart.token', t), token);
    const page = await context.newPage();
    const started = new Map();
    const calls = [];
    page.on('request', (r) => started.set(r, Date.now()));
    page.on('requestfinished', async (r) => {
      if (!r.url().includes('/api/')) return;
      const status = (await r.response())?.status();
      calls.push({ ms: Date.now() - started.get(r), status, url: r.url().replace(api.base, '').replace(/\?.*/, '') });
    });
    const t0 = Date.now();
    await page.goto(api.base + '/');
    await page.locator('[data-widget]').first().waitFor();
    const widgets = await page.locator('[data-widget]').evaluateAll((els) => els.map((e) => e.getAttribute('data-widget')));
    const times = await Promise.all(
      widgets.map(async (w) => {
        const el = page.locator(`[data-widget="${w}"]`).first();
        try {
          await page.locator(`[data-widget="${w}"]:is([data-state="ready"], [data-state="error"], [data-state="empty"])`).first().waitFor({ timeout: TIMEOUT_MS });
          return [w, Date.now() - t0, await el.getAttribute('data-state')];
        } catch {
          return [w, NaN, await el.getAttribute('data-state')];
        }
      }),
    );
    for (const [w, ms, state] of times) {
      if (!perWidget.has(w)) perWidget.set(w, []);
      perWidget.get(w).push({ ms, state });
    }
    const total = Math.max(...times.map(([, ms]) => ms));
    totals.push(total);
    calls.sort((a, b) => b.ms - a.ms);
    console.log(`run ${run + 1}: every widget settled after ${total} ms; slowest calls: ${calls.slice(0, 4).map((c) => `${c.url} ${c.ms} ms (${c.status})`).join(', ')}`);
    await context.close();
  }
  console.log(`\n| widget | settled after, median of ${RUNS} runs (ms) | states |`);
  console.log('|---|---:|---|');
  for (const [w, xs] of perWidget) {
    console.log(`| ${w} | ${median(xs.map((x) => x.ms))} | ${[...new Set(xs.map((x) => x.state))].join(', ')} |`);
  }
  console.log(`| **all** | **${median(totals)}** | |`);
} finally {
  await browser.close();
  await api.stop();
}
