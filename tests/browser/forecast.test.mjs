// The sales chart's forecast band, in Debian's Chromium against the real API and the seeded test
// database (nothing mocked: the numbers are compared with the API's).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, launch, openDashboard, shot, makeToken, sql } from './lib.mjs';

let api;
let browser;
const admin = makeToken('admin', { userId: 1, email: 'admin@test.local' });

async function apiRaw(p) {
  const res = await fetch(api.base + '/api/v1' + p, { headers: { Authorization: `Bearer ${admin}` } });
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

const close = (a, b, what) => assert.ok(Math.abs(Number(a) - Number(b)) < 1e-9, `${what}: page ${a} vs API ${b}`);

describe('forecast band', () => {
  before(async () => {
    api = await startApi();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await api?.stop();
  });

  it('the daily sales chart shows the forecast band the API returns, and says why not under a category filter', async () => {
    const { page, context } = await openDashboard(browser, api);
    await page.getByRole('button', { name: 'Daily' }).click();
    await page.locator('[data-widget="sales"][data-state="ready"]').waitFor();
    // the chart's daily range ends at the next midnight (UTC): the forecast continues from there
    // (read from the widget once it shows the daily data, not recomputed here: a midnight passing
    // in between must not compare two different days)
    await page.waitForFunction(() => document.querySelector('[data-testid="sales-total"]')?.dataset.mode === 'day', null, { timeout: 10000 });
    const dayEnd = await page.getByTestId('sales-total').getAttribute('data-to');
    assert.equal(new Date(dayEnd).getTime() % 86400000, 0, `the daily chart ends at a midnight: ${dayEnd}`);
    assert.ok(Math.abs(new Date(dayEnd) - Date.now()) < 2 * 86400000, `the daily chart ends at the coming midnight: ${dayEnd}`);
    const r = await apiRaw(`/analytics/forecast/revenue?granularity=day&horizon=7&as_of=${dayEnd}`);
    if (r.status === 200) {
      await page.locator('[data-widget="sales"] [data-testid="forecast-row"]').first().waitFor({ state: 'attached', timeout: 10000 });
      const rows = await page.$$eval('[data-widget="sales"] [data-testid="forecast-row"]', (trs) => trs.map((tr) => ({ ...tr.dataset })));
      assert.equal(rows.length, r.body.forecast.length);
      rows.forEach((row, i) => {
        assert.equal(row.t, r.body.forecast[i].t);
        close(row.point, r.body.forecast[i].revenue, 'point');
        close(row.lower, r.body.forecast[i].lower, 'lower');
        close(row.upper, r.body.forecast[i].upper, 'upper');
      });
    } else {
      assert.equal(r.status, 422);
      assert.match(await page.getByTestId('forecast-note').textContent(), /Not enough sales history/);
    }
    await shot(page, 'forecast-daily-desktop');
    // with a category filter the band is not drawn (it is the whole shop's) and the widget says so
    const cat = sql('SELECT id FROM categories ORDER BY id LIMIT 1').trim();
    await page.getByLabel('Category').selectOption(cat);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(() => /whole shop/.test(document.querySelector('[data-testid="forecast-note"]')?.textContent ?? ''), null, { timeout: 10000 });
    assert.equal(await page.locator('[data-widget="sales"] [data-testid="forecast-row"]').count(), 0);
    assert.deepEqual(page.errors, []);
    await context.close();
  });
  it('after an error and Retry the sales chart is drawn into its new <div>, and switching granularity throws nothing', async () => {
    const { page, context } = await openDashboard(browser, api);
    await page.locator('[data-widget="sales"][data-state="ready"] [data-testid="sales-total"]').waitFor();
    await page.locator('[data-widget="sales"] .chart canvas').waitFor({ state: 'attached' });
    // the next daily load fails: the widget shows its error state (the chart's <div> is unmounted)
    let fail = true;
    await page.route('**/api/v1/analytics/revenue?**', (route) => (fail ? route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":"internal","message":"injected"}' }) : route.continue()));
    await page.getByRole('button', { name: 'Daily' }).click();
    await page.locator('[data-widget="sales"][data-state="error"]').waitFor();
    fail = false;
    await page.locator('[data-widget="sales"]').getByRole('button', { name: 'Retry' }).click();
    await page.locator('[data-widget="sales"][data-state="ready"] [data-testid="sales-total"]').waitFor();
    // the chart is drawn into the <div> now in the page (not into the detached one)
    await page.locator('[data-widget="sales"] .chart canvas').waitFor({ state: 'attached', timeout: 10000 });
    await page.getByRole('button', { name: 'Hourly' }).click();
    await page.getByRole('button', { name: 'Daily' }).click();
    await page.locator('[data-widget="sales"][data-state="ready"]').waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-widget="sales"]')?.getAttribute('aria-busy')?.includes('true'));
    assert.equal(await page.locator('[data-widget="sales"] .chart canvas').count(), 1);
    assert.deepEqual(page.errors, []);
    await context.close();
  });
});
