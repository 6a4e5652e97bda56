// The sales chart's forecast band and the Rules & backtests panel, in Debian's Chromium against the
// real API and the seeded test database (nothing mocked: the numbers are compared with the API's).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, launch, openDashboard, shot, axeScan, apiGet, apiSend, makeToken, sql, PHONE } from './lib.mjs';

let api;
let browser;
const admin = makeToken('admin', { userId: 1, email: 'admin@test.local' });
const SHADOW = 'web_browser_test';

async function apiRaw(p) {
  const res = await fetch(api.base + '/api/v1' + p, { headers: { Authorization: `Bearer ${admin}` } });
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

const close = (a, b, what) => assert.ok(Math.abs(Number(a) - Number(b)) < 1e-9, `${what}: page ${a} vs API ${b}`);

describe('forecast band and rules & backtests', () => {
  before(async () => {
    api = await startApi();
    browser = await launch();
    // a shadow configuration with a lower suspicious threshold, scoring the rows posted below
    sql(`DELETE FROM techmart.shadow_scores WHERE name = '${SHADOW}';
         DELETE FROM techmart.shadow_config WHERE name = '${SHADOW}';
         INSERT INTO techmart.shadow_config (name, config, note)
         VALUES ('${SHADOW}', '{"settings": {"suspicious_threshold": 20}, "rules": {"young_account": {"enabled": false}}}', 'browser test: lower threshold')`);
    const [customer, product] = sql('SELECT (SELECT id FROM customers ORDER BY id LIMIT 1), (SELECT id FROM products ORDER BY id LIMIT 1)').trim().split('|');
    const sus = sql('SELECT id FROM customers ORDER BY id DESC LIMIT 1').trim();
    const posted = [];
    for (let i = 0; i < 4; i++)
      posted.push(await apiSend(api, admin, 'POST', '/transactions', { customer_id: Number(customer), product_id: Number(product), quantity: 1, unit_price: 40 + i, status: 'completed', payment_method: 'paypal' }));
    for (let i = 0; i < 6; i++)
      posted.push(await apiSend(api, admin, 'POST', '/transactions', { customer_id: Number(sus), product_id: Number(product), quantity: 1, unit_price: 1.5, status: 'failed', payment_method: 'credit_card' }));
    // analysts' verdicts: the burst is fraud, the ordinary purchases are legitimate
    for (const [i, t] of posted.entries())
      await apiSend(api, admin, 'PATCH', `/transactions/${t.id}`, { label: i < 4 ? 'legitimate' : 'fraud' });
  });
  after(async () => {
    sql(`DELETE FROM techmart.shadow_scores WHERE name = '${SHADOW}'; DELETE FROM techmart.shadow_config WHERE name = '${SHADOW}'`);
    await browser?.close();
    await api?.stop();
  });

  it('the daily sales chart shows the forecast band the API returns, and says why not under a category filter', async () => {
    const { page, context } = await openDashboard(browser, api);
    await page.getByRole('button', { name: 'Daily' }).click();
    await page.locator('[data-widget="sales"][data-state="ready"]').waitFor();
    // the chart's daily range ends at the next midnight (UTC): the forecast continues from there
    const dayEnd = new Date(Math.ceil(Date.now() / 86400000) * 86400000).toISOString();
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

  it('shadow configuration vs live: the figures of /fraud/shadow, F1 from its precision and recall', async () => {
    const { page, context } = await openDashboard(browser, api);
    const panel = page.locator('[data-widget="rules"]');
    await page.locator('[data-widget="rules"][data-state="ready"]').waitFor({ timeout: 15000 });
    const sh = await apiGet(api, admin, '/fraud/shadow');
    const item = sh.items.find((i) => i.name === SHADOW);
    assert.ok(item && item.scored >= 10 && item.labelled >= 10, `the shadow scored the posted rows: ${JSON.stringify(item)}`);
    const card = panel.locator(`[data-shadow="${SHADOW}"]`);
    await card.waitFor();
    assert.match(await card.textContent(), /Settings: suspicious threshold 20/);
    assert.match(await card.textContent(), /Rule young account: disabled/);
    const cell = async (metric, col) => card.locator(`tr[data-metric="${metric}"] td[data-col="${col}"]`).getAttribute('data-value');
    const num = (v) => (v === '' ? null : Number(v));
    assert.equal(num(await cell('suspicious', 'live')), Number(item.live_suspicious));
    assert.equal(num(await cell('suspicious', 'shadow')), Number(item.shadow_suspicious));
    for (const [metric, live, shadow] of [['precision', item.live_precision, item.shadow_precision], ['recall', item.live_recall, item.shadow_recall]]) {
      assert.equal(num(await cell(metric, 'live')), live, `${metric} live`);
      assert.equal(num(await cell(metric, 'shadow')), shadow, `${metric} shadow`);
    }
    const f1 = (p, r) => (p === null || r === null ? null : p + r === 0 ? 0 : (2 * p * r) / (p + r));
    close(num(await cell('f1', 'shadow')) ?? NaN, f1(item.shadow_precision, item.shadow_recall) ?? NaN, 'F1 shadow');
    assert.ok(item.shadow_recall !== null, 'the labelled burst gives a recall');
    // shown to three decimals
    assert.equal(await card.locator('tr[data-metric="recall"] td[data-col="shadow"]').textContent(), Number(item.shadow_recall).toFixed(3));
    await shot(page, 'rules-desktop');
    await context.close();
  });

  it('a backtest run by keyboard shows candidate and live figures equal to /fraud/backtest', async () => {
    const { page, context } = await openDashboard(browser, api, { role: 'analyst' });
    await page.locator('[data-widget="rules"][data-state="ready"]').waitFor({ timeout: 15000 });
    const today = new Date().toISOString().slice(0, 10);
    // an invalid period is refused in the form, with the error tied to its field
    await page.locator('#bt-from').fill(today);
    await page.locator('#bt-to').fill('2020-01-01');
    await page.locator('#bt-to').press('Enter');
    assert.equal(await page.locator('#bt-to').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#bt-to-err').textContent(), /before the start/);
    assert.equal(await page.getByTestId('backtest').getAttribute('data-state'), 'idle');
    // keyboard only: the period, the candidate, top-k, Enter
    await page.locator('#bt-from').fill(today);
    await page.locator('#bt-to').fill(today);
    await page.locator('#bt-to').press('Tab');
    await page.keyboard.press('Tab'); // to the candidate select (the to field's error is gone on submit only)
    await page.locator('#bt-candidate').focus();
    await page.locator('#bt-candidate').selectOption(SHADOW);
    await page.locator('#bt-top_k').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('3');
    await page.keyboard.press('Enter');
    const bt = page.getByTestId('backtest');
    await page.locator('[data-testid="backtest"][data-state="ready"]').waitFor({ timeout: 60000 });
    const from = `${today}T00:00:00.000Z`;
    const to = new Date(Date.parse(from) + 86400000).toISOString();
    const r = await apiGet(api, admin, `/fraud/backtest?from=${from}&to=${to}&shadow=${SHADOW}&top_k=3`);
    assert.equal(r.candidate, SHADOW);
    assert.equal(await bt.locator('table').getAttribute('data-candidate'), SHADOW);
    const shown = await bt.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.dataset.metric, ...['live', 'candidate', 'stored'].map((c) => tr.querySelector(`td[data-col="${c}"]`).dataset.value)]),
    );
    assert.equal(shown.length, r.items.length);
    for (const it of r.items) {
      const row = shown.find((s) => s[0] === it.metric);
      assert.ok(row, `metric ${it.metric} shown`);
      for (const [i, col] of ['live', 'candidate', 'stored'].entries())
        assert.equal(row[i + 1] === '' ? null : Number(row[i + 1]), it[col] === null ? null : Number(it[col]), `${it.metric} ${col}`);
    }
    for (const m of ['precision', 'recall', 'f1', 'roc_auc', 'average_precision', 'top_k_share']) assert.ok(shown.some((s) => s[0] === m), `${m} in the backtest`);
    const labelled = r.items.find((i) => i.metric === 'labelled');
    assert.ok(Number(labelled.live) >= 10, 'the period has the labelled rows');
    await shot(page, 'backtest-desktop');
    assert.deepEqual(await axeScan(page), [], 'axe with the backtest result');
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  it('viewers do not see the panel; at 390x844 it fits without sideways scroll and passes axe', async () => {
    const v = await openDashboard(browser, api, { role: 'viewer' });
    await v.page.locator('[data-widget="transactions"]:not([data-state="loading"])').waitFor({ timeout: 15000 });
    assert.equal(await v.page.locator('[data-widget="rules"]').count(), 0);
    assert.equal(await v.page.getByRole('heading', { name: 'Rules & backtests' }).count(), 0);
    await v.context.close();

    const { page, context } = await openDashboard(browser, api, { role: 'analyst', viewport: PHONE });
    await page.locator('[data-widget="rules"][data-state="ready"]').waitFor({ timeout: 15000 });
    await page.getByRole('button', { name: `Backtest ${SHADOW} over its scored days` }).click();
    await page.locator('[data-testid="backtest"][data-state="ready"]').waitFor({ timeout: 60000 });
    await page.getByRole('button', { name: 'Daily' }).click();
    await page.locator('[data-widget="sales"][data-state="ready"]').waitFor();
    await page.waitForTimeout(300);
    const s = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
      // what sticks out (outside any scrolling container), for the failure message
      wide: [...document.querySelectorAll('body *')]
        .filter((e) => {
          if (e.getBoundingClientRect().right <= window.innerWidth + 1) return false;
          for (let p = e.parentElement; p; p = p.parentElement) if (['auto', 'hidden', 'scroll'].includes(getComputedStyle(p).overflowX)) return false;
          return true;
        })
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} "${(e.textContent ?? '').slice(0, 40)}"`),
    }));
    assert.ok(s.scroll <= s.width, `page is ${s.scroll}px wide at ${s.width}px: ${s.wide.join('; ')}`);
    await page.locator('[data-widget="rules"]').scrollIntoViewIfNeeded();
    await shot(page, 'rules-phone');
    assert.deepEqual(await axeScan(page), [], 'axe on the phone layout with the rules panel');
    await context.close();
  });
});
