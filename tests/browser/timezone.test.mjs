// The sales chart shows hours and days in the shop's (business) time zone, whatever the browser's:
// the API's sessions have the business zone Asia/Kolkata (+05:30, the GUC analytics.business_timezone
// as a DBA sets it, here through PGOPTIONS), Debian's Chromium runs in America/Los_Angeles (TZ). The
// hourly table, the tooltip's hour and the daily days are compared with psql's analytics.sales_series
// labels in the shop's zone (nothing mocked; the seeded test database).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, launch, openDashboard, shot, makeToken, sql } from './lib.mjs';

const SHOP = 'Asia/Kolkata';
const BROWSER = 'America/Los_Angeles';
let api;
let browser;
const admin = makeToken('admin', { userId: 1, email: 'admin@test.local' });

async function apiGet(p) {
  const res = await fetch(api.base + '/api/v1' + p, { headers: { Authorization: `Bearer ${admin}` } });
  return { status: res.status, body: await res.json() };
}
// psql in the shop's zone
const shopSql = (q) => sql(`SET analytics.business_timezone = '${SHOP}';\n${q}`);
// an hourly label (2026-12-07T10:30+05:30) as the dashboard writes it (2026-12-07 10:30 +05:30)
const shown = (label) => `${label.slice(0, 10)} ${label.slice(11, 16)} ${label.slice(16)}`;

describe('shop time zone', () => {
  before(async () => {
    api = await startApi({ PGOPTIONS: `-c analytics.business_timezone=${SHOP}` });
    browser = await launch({ env: { TZ: BROWSER } });
  });
  after(async () => {
    await browser?.close();
    await api?.stop();
  });

  it('hourly axis, tooltip and table show the shop\'s hours, daily ones its business days, in a browser in another zone', async () => {
    const { page, context } = await openDashboard(browser, api);
    // the browser really is in another zone than the shop
    assert.equal(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), BROWSER);
    assert.equal((await apiGet('/analytics/hourly-sales')).body.timezone, SHOP);

    // hourly: the 24 hours the widget loaded (read from it: an hour passing must not change the range)
    await page.waitForFunction(() => document.querySelector('[data-testid="sales-total"]')?.dataset.mode === 'hour', null, { timeout: 15000 });
    const range = await page.getByTestId('sales-total').evaluate((e) => ({ from: e.dataset.from, to: e.dataset.to }));
    const want = shopSql(`SELECT string_agg(label, '|' ORDER BY period_start) FROM analytics.sales_series('hour', '${range.from}', '${range.to}')`).split('|');
    assert.equal(want.length, 24);
    assert.ok(want.every((l) => l.endsWith(':30+05:30')), `the shop's labels of whole UTC hours: ${want[0]}`);
    const rows = await page.$$eval('[data-widget="sales"] details tbody tr:not(.forecast-row)', (trs) => trs.map((tr) => tr.cells[0].textContent));
    assert.deepEqual(rows, want.map(shown), 'the table: the shop\'s local hours');
    assert.equal(await page.locator('[data-widget="sales"] thead th').first().textContent(), `Hour (${SHOP})`);
    // the forecast rows continue in the shop's hours
    const fc = await page.$$eval('[data-widget="sales"] [data-testid="forecast-row"]', (trs) => trs.map((tr) => ({ t: tr.dataset.t, label: tr.dataset.label })));
    if (fc.length) {
      const fWant = shopSql(`SELECT string_agg(analytics.local_time_label(t, '${SHOP}'), '|' ORDER BY t)
                               FROM unnest(ARRAY[${fc.map((f) => `'${f.t}'`).join(',')}]::timestamptz[]) t`).split('|');
      assert.deepEqual(fc.map((f) => f.label), fWant.map(shown), 'forecast rows: the shop\'s local hours');
    }

    // the tooltip: hovering over the chart shows the hour under the pointer as the shop's local time
    const box = await page.locator('[data-widget="sales"] .chart').boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.55);
    await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.5);
    const tip = await page.waitForFunction(() => {
      const divs = [...document.querySelectorAll('[data-widget="sales"] .chart div')];
      const t = divs.find((d) => d.style.zIndex && /Last 24 h/.test(d.textContent ?? '') && d.style.display !== 'none');
      return t ? t.textContent : null;
    }, null, { timeout: 10000 }).then((h) => h.jsonValue());
    const hour = /(\d{4}-\d\d-\d\d \d\d:\d\d \+05:30)/.exec(tip);
    assert.ok(hour, `the tooltip names the shop's local hour: ${tip}`);
    assert.ok(want.map(shown).includes(hour[1]), `the tooltip's hour is one of the shop's hours: ${hour[1]}`);
    // the axis: ECharts' description of the chart (its aria-label) names the categories, the shop's hours
    const aria = await page.locator('[data-widget="sales"] .chart').getAttribute('aria-label');
    assert.ok(aria.includes(shown(want[0])), `the chart's categories are the shop's hours: ${aria.slice(0, 200)}`);
    await shot(page, 'sales-shop-timezone-hourly');

    // daily: the business days of the shop (the API's labels), the forecast's days too
    await page.getByRole('button', { name: 'Daily' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="sales-total"]')?.dataset.mode === 'day', null, { timeout: 15000 });
    const dr = await page.getByTestId('sales-total').evaluate((e) => ({ from: e.dataset.from, to: e.dataset.to }));
    const days = shopSql(`SELECT string_agg(label, '|' ORDER BY period_start) FROM analytics.sales_series('day', '${dr.from}', '${dr.to}')`).split('|');
    const dayRows = await page.$$eval('[data-widget="sales"] details tbody tr:not(.forecast-row)', (trs) => trs.map((tr) => tr.cells[0].textContent));
    assert.deepEqual(dayRows, days, 'the daily table: the shop\'s business days');
    const r = await apiGet(`/analytics/forecast/revenue?granularity=day&horizon=7&as_of=${dr.to}`);
    if (r.status === 200) {
      await page.locator('[data-widget="sales"] [data-testid="forecast-row"]').first().waitFor({ state: 'attached', timeout: 10000 });
      const fd = await page.$$eval('[data-widget="sales"] [data-testid="forecast-row"]', (trs) => trs.map((tr) => ({ t: tr.dataset.t, label: tr.dataset.label })));
      const dWant = shopSql(`SELECT string_agg(((t AT TIME ZONE '${SHOP}')::date)::text, '|' ORDER BY t)
                               FROM unnest(ARRAY[${fd.map((f) => `'${f.t}'`).join(',')}]::timestamptz[]) t`).split('|');
      assert.deepEqual(fd.map((f) => f.label), dWant, 'the daily forecast: the shop\'s business days (not the UTC date of their local midnight)');
    } else assert.equal(r.status, 422);
    assert.deepEqual(page.errors, []);
    await context.close();
  });
});
