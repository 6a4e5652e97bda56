// Helpers of the browser tests: the real API serving web/dist, Debian's Chromium via playwright-core.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { ApiServer, makeToken, sql, requireEnv } from '../api/lib/harness.mjs';

export { makeToken, sql };
const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const DIST = process.env.TECHMART_STATIC_DIR ?? path.join(ROOT, 'web/dist');
export const ARTIFACTS = process.env.TECHMART_TEST_ARTIFACTS ?? path.join(ROOT, 'build/test-artifacts/browser');
export const CHROMIUM = process.env.TECHMART_CHROMIUM ?? '/usr/bin/chromium';
export const DESKTOP = { width: 1440, height: 1000 };
export const PHONE = { width: 390, height: 844 };

const require = createRequire(import.meta.url);
export const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export async function startApi(env = {}) {
  requireEnv();
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error(`${DIST}/index.html missing: cd web && npm ci && npm run build`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return new ApiServer({ TECHMART_STATIC_DIR: DIST, TECHMART_SSE_METRICS_DEBOUNCE_MS: '500', ...env }).start();
}

// env: extra environment of the Chromium process (TZ: the browser's time zone, which Chromium takes from it)
export async function launch({ env } = {}) {
  // playwright-core's launch() gives Chromium a new empty --user-data-dir (a temporary profile) itself
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    ...(env ? { env: { ...process.env, ...env } } : {}),
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  return browser;
}

/** A page of the dashboard signed in with a token of `role` (stored as the app stores it). */
export async function openDashboard(browser, api, { role = 'admin', viewport = DESKTOP, token } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const tok = token ?? makeToken(role, { userId: 1, email: `${role}@test.local` });
  await context.addInitScript((t) => sessionStorage.setItem('techmart.token', t), tok);
  const page = await context.newPage();
  page.errors = [];
  // the message and where it was thrown (the failing assertion then shows the bundle's frames)
  page.on('pageerror', (e) => page.errors.push(`${e.message}${e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}`));
  await page.goto(api.base + '/');
  await page.locator('[data-widget="metrics"][data-state="ready"]').waitFor({ timeout: 15000 });
  return { context, page, token: tok };
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** axe-core in the page; returns the serious and critical violations. */
export async function axeScan(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function apiGet(api, token, p) {
  const res = await fetch(api.base + '/api/v1' + p, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function apiSend(api, token, method, p, body) {
  const res = await fetch(api.base + '/api/v1' + p, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

const money = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR', minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const fmtMoney = (v) => money.format(Number(v));
export const fmtInt = (v) => new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 }).format(Number(v));
