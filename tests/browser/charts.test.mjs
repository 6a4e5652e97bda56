// The dashboard's ECharts charts follow their containers' size without throwing, in Debian's
// Chromium against the real API and the seeded test database.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, launch, openDashboard } from './lib.mjs';

let api;
let browser;

describe('chart resizing', () => {
  before(async () => {
    api = await startApi();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await api?.stop();
  });

  it('a chart container squeezed to zero width or height throws nothing, and the charts are redrawn when it is back', async () => {
    const { page, context } = await openDashboard(browser, api);
    const charts = ['world-map', 'segments', 'sales'];
    for (const w of charts) await page.locator(`[data-widget="${w}"] .chart canvas`).waitFor({ state: 'attached', timeout: 15000 });
    // ECharts' map threw "Cannot read properties of null (reading '0')" from its ResizeObserver
    // callback on a zero-width container (a collapsing layout): an uncaught page error
    for (const prop of ['width', 'height']) {
      await page.evaluate(([ws, p]) => ws.forEach((w) => { document.querySelector(`[data-widget="${w}"] .chart`).style[p] = '0px'; }), [charts, prop]);
      await page.waitForTimeout(300);
      await page.evaluate(([ws, p]) => ws.forEach((w) => { document.querySelector(`[data-widget="${w}"] .chart`).style[p] = ''; }), [charts, prop]);
      await page.waitForTimeout(300);
    }
    for (const w of charts) {
      const { box, canvas } = await page.evaluate((w) => {
        const el = document.querySelector(`[data-widget="${w}"] .chart`);
        const c = el.querySelector('canvas');
        return { box: el.clientWidth, canvas: c ? c.clientWidth : 0 };
      }, w);
      assert.ok(box > 0 && Math.abs(canvas - box) <= 1, `${w}: canvas ${canvas}px in a ${box}px container`);
    }
    assert.deepEqual(page.errors, []);
    await context.close();
  });
});
