// Tests of the query-parameter endpoints (api/src/query_routes.cpp): dashboard, analytics,
// customer analytics, fraud geo and rules. Registered by api.test.mjs before the database
// restart. Results are compared with the SQL functions called directly through psql.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { ApiServer, API_BIN, JWT_SECRET, makeToken, sql, waitFor } from './harness.mjs';

const auth = (role) => ({ Authorization: `Bearer ${makeToken(role)}` });

async function get(server, path, role = 'viewer') {
  const res = await fetch(server.base + path, { headers: auth(role) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body };
}

function sqlJson(q) {
  return JSON.parse(sql(q));
}

// the query-parameter routes as the binary declares them
export function queryRoutes() {
  const all = JSON.parse(execFileSync(API_BIN, ['routes', '--json'], { encoding: 'utf8', env: { ...process.env, TECHMART_JWT_SECRET: JWT_SECRET } }));
  return all.filter((r) => Array.isArray(r.query));
}

export function analyticsTests(getServer) {
  describe('dashboard, analytics, customers, fraud geo (query-parameter routes)', () => {
    let server;
    let asOf; // the end of the data: imported history has no "today"
    // dates inside the data (the seed is shifted to end today, so fixed dates would drift out of it):
    // a week d0..d1 five weeks before its end, the week before it (dPrev..d0), and the start of a
    // range of about two months (r0)
    let d0, d1, dPrev, r0;
    before(async () => {
      server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
      asOf = sql(`SELECT to_char(coalesce(max(transaction_time), now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM transactions;`);
      const day = (n) => sql(`SELECT to_char((coalesce(max(transaction_time), now()) AT TIME ZONE 'UTC')::date - ${n}, 'YYYY-MM-DD') FROM transactions;`);
      [d0, d1, dPrev, r0] = [day(37), day(30), day(44), day(67)];
    });

    test('every route answers 200 with a JSON object for its defaults and for an explicit range', async () => {
      const routes = queryRoutes();
      assert.ok(routes.length >= 25, `query routes: ${routes.length}`);
      for (const r of routes) {
        const role = r.role === 'public' ? 'viewer' : r.role;
        const d = await get(server, r.path, role);
        assert.equal(d.status, 200, `${r.path}: ${JSON.stringify(d.body)}`);
        assert.equal(typeof d.body, 'object');
        const names = r.query.map((p) => p.name);
        const qs = new URLSearchParams();
        if (names.includes('as_of')) qs.set('as_of', asOf);
        if (names.includes('to')) qs.set('to', asOf);
        if (names.includes('from')) qs.set('from', '2026-01-01');
        if (names.includes('dimension')) qs.set('dimension', 'all');
        const e = await get(server, `${r.path}?${qs}`, role);
        assert.equal(e.status, 200, `${r.path}?${qs}: ${JSON.stringify(e.body)}`);
      }
    });

    test('overview and summary equal the SQL functions for the same as_of', async () => {
      const o = await get(server, `/api/v1/dashboard/overview?as_of=${asOf}`);
      assert.equal(o.status, 200);
      assert.deepEqual(o.body, sqlJson(`SELECT api.dashboard_overview('${asOf}')`));
      assert.ok(o.body.revenue && 'value' in o.body.revenue && 'previous' in o.body.revenue);
      const s = await get(server, `/api/v1/dashboard/summary?as_of=${asOf}`);
      assert.deepEqual(s.body, sqlJson(`SELECT api.dashboard_summary('${asOf}')`));
      assert.equal(s.body.hourly_sales.length, 24);
    });

    test('ranges: a date is midnight (business time zone), defaults are explicit in the answer', async () => {
      const a = await get(server, `/api/v1/analytics/revenue/daily?from=${d0}&to=${d1}`);
      const b = await get(server, `/api/v1/analytics/revenue?period=day&from=${d0}T00:00:00Z&to=${d1}T00:00:00%2B00:00`);
      assert.equal(a.status, 200);
      assert.deepEqual(a.body, b.body);
      assert.equal(a.body.count, 7);
      assert.ok(a.body.items.some((x) => Number(x.revenue) > 0), `sales in the week ${d0}..${d1}`);
      assert.deepEqual(a.body, sqlJson(`SELECT api.analytics_revenue('day', '${d0}Z', '${d1}Z')`));
      // default from: 30 days before to
      const d = await get(server, `/api/v1/analytics/revenue/by-category?to=${d1}`);
      assert.equal(new Date(d.body.to) - new Date(d.body.from), 30 * 86400e3);
      const h = await get(server, `/api/v1/analytics/hourly-sales?to=${d1}T12:00:00Z`);
      assert.equal(h.body.count, 24);
      const c = await get(server, `/api/v1/analytics/revenue/compare?from=${d0}&to=${d1}`);
      assert.deepEqual(c.body.previous, { from: `${dPrev}T00:00:00+00:00`, to: `${d0}T00:00:00+00:00` });
      assert.deepEqual(c.body, sqlJson(`SELECT api.analytics_compare('${d0}Z', '${d1}Z')`));
    });

    test('breakdowns, patterns, growth, top lists and customers equal their SQL functions', async () => {
      const R = `from=${r0}T00:00:00Z&to=${asOf}`;
      const cases = [
        [`/api/v1/analytics/revenue/by-country?${R}&limit=5`, `api.analytics_breakdown('country', '${r0}Z', '${asOf}', 5)`],
        [`/api/v1/analytics/revenue/by-payment-method?${R}`, `api.analytics_breakdown('payment_method', '${r0}Z', '${asOf}', 50)`],
        [`/api/v1/analytics/revenue/by-supplier?${R}`, `api.analytics_breakdown('supplier', '${r0}Z', '${asOf}', 50)`],
        [`/api/v1/analytics/patterns/hour-of-day?${R}`, `api.analytics_patterns('hour_of_day', '${r0}Z', '${asOf}')`],
        [`/api/v1/analytics/patterns/day-of-week?${R}`, `api.analytics_patterns('day_of_week', '${r0}Z', '${asOf}')`],
        [`/api/v1/analytics/growth?period=week&${R}`, `api.analytics_growth('week', '${r0}Z', '${asOf}')`],
        [`/api/v1/analytics/top-products?${R}&by=units&limit=3`, `api.analytics_top_products('${r0}Z', '${asOf}', 3, 'units')`],
        [`/api/v1/customers/top?${R}&by=orders&limit=4`, `api.customers_top('${r0}Z', '${asOf}', 4, 'orders')`],
        [`/api/v1/customers/behavior?${R}&limit=3`, `api.customers_behavior('${r0}Z', '${asOf}', NULL, 3)`],
        [`/api/v1/customers/segments?as_of=${asOf}`, `api.customers_segments('${asOf}')`],
        [`/api/v1/customers/rfm?as_of=${asOf}&segment=champions&limit=5`, `api.customers_rfm('${asOf}', 'champions', 5)`],
        [`/api/v1/customers/lifetime-value?as_of=${asOf}&limit=3&horizon_months=6`, `api.customers_lifetime_value('${asOf}', 3, 6)`],
        [`/api/v1/analytics/low-stock?as_of=${asOf}&velocity_days=14&cover_days=7.5&limit=5`, `api.inventory_low_stock('${asOf}', 14, 7.5, 5)`],
        [`/api/v1/fraud/geo?${R}&limit=5`, `api.fraud_geo('${r0}Z', '${asOf}', 5, 'viewer')`],
      ];
      for (const [path, fn] of cases) {
        const r = await get(server, path);
        assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
        assert.deepEqual(r.body, sqlJson(`SELECT ${fn}`), path);
      }
      const geo = await get(server, `/api/v1/fraud/geo?${R}`);
      const n = Number(sql(`SELECT count(*) FROM transactions WHERE transaction_time >= '${r0}Z' AND transaction_time < '${asOf}'`));
      assert.ok(n > 0, `transactions from ${r0}`);
      assert.equal(geo.body.countries.reduce((s, c) => s + c.transactions, 0), n, 'geo: every transaction of the range in one country row');
    });

    test('revenue forecast: the history equals the revenue endpoint, the band is ordered and widens with the level', async () => {
      const f = await get(server, `/api/v1/analytics/forecast/revenue?as_of=${asOf}&horizon=7`);
      assert.equal(f.status, 200, JSON.stringify(f.body));
      assert.deepEqual(f.body, sqlJson(`SELECT api.forecast_revenue('day', 7, NULL, NULL, '${asOf}')`));
      assert.equal(f.body.granularity, 'day');
      assert.equal(f.body.season, 7);
      assert.equal(f.body.forecast.length, 7);
      assert.ok(f.body.history.length >= 14 && f.body.history.length <= 56, `history ${f.body.history.length}`);
      // the history is the daily revenue the revenue endpoint reports for the same days
      const first = f.body.history[0].t;
      const last = f.body.history[f.body.history.length - 1].t;
      const end = new Date(new Date(last).getTime() + 86400e3).toISOString();
      const rev = await get(server, `/api/v1/analytics/revenue?period=day&from=${encodeURIComponent(first)}&to=${encodeURIComponent(end)}`);
      assert.equal(rev.status, 200);
      assert.deepEqual(f.body.history.map((h) => Number(h.revenue)), rev.body.items.map((i) => Number(i.revenue)));
      // the forecast continues the grid: consecutive days after the last complete one (before as_of)
      assert.ok(new Date(end) <= new Date(asOf));
      f.body.forecast.forEach((p, i) => {
        assert.equal(new Date(p.t).getTime(), new Date(end).getTime() + i * 86400e3);
        assert.ok(p.lower <= p.revenue && p.revenue <= p.upper, JSON.stringify(p));
        assert.ok(p.lower >= 0, 'no negative revenue forecast for a history without negative days');
      });
      const narrow = await get(server, `/api/v1/analytics/forecast/revenue?as_of=${asOf}&horizon=7&level=0.8`);
      const wide = await get(server, `/api/v1/analytics/forecast/revenue?as_of=${asOf}&horizon=7&level=0.99`);
      const width = (b) => b.forecast.reduce((s, p) => s + (p.upper - p.lower), 0);
      assert.ok(width(narrow.body) < width(wide.body), 'a 99% band is wider than an 80% band');
      // hourly: a daily season, 24 consecutive hours
      const h = await get(server, `/api/v1/analytics/forecast/revenue?granularity=hour&horizon=24&as_of=${asOf}`);
      assert.equal(h.status, 200, JSON.stringify(h.body));
      assert.equal(h.body.season, 24);
      assert.equal(h.body.forecast.length, 24);
      for (let i = 1; i < 24; i++) assert.equal(new Date(h.body.forecast[i].t) - new Date(h.body.forecast[i - 1].t), 3600e3);
      // bad input and too little history: 422 naming the field
      for (const [q, field] of [['granularity=week', 'granularity'], ['horizon=0', 'horizon'], ['horizon=91', 'horizon'],
        ['history=13', 'history'], ['granularity=hour&history=30', 'history'], ['level=0.3', 'level'], ['level=1', 'level'],
        ['as_of=2001-01-01', 'history']]) {
        const x = await get(server, `/api/v1/analytics/forecast/revenue?${q}`);
        assert.equal(x.status, 422, `${q}: ${JSON.stringify(x.body)}`);
        assert.match(x.type, /^application\/problem\+json/);
        assert.ok(x.body.errors.some((e) => e.field === field), `${q}: ${JSON.stringify(x.body.errors)}`);
      }
      assert.equal((await fetch(server.base + '/api/v1/analytics/forecast/revenue')).status, 401);
    });

    test('hourly items are labelled in the shop\'s time zone as analytics.sales_series(\'hour\') labels the same hours (DST change, +05:30)', async () => {
      // the default server: every item's label is the series' label of its hour (business zone of the database)
      const tz = sql('SELECT analytics.business_timezone()');
      const h = await get(server, `/api/v1/analytics/hourly-sales?from=${d0}T00:00:00Z&to=${d0}T06:00:00Z`);
      assert.equal(h.status, 200);
      assert.equal(h.body.timezone, tz);
      const want = sql(`SELECT string_agg(label, ',' ORDER BY period_start) FROM analytics.sales_series('hour', '${d0}T00:00:00Z', '${d0}T06:00:00Z')`);
      assert.equal(h.body.items.map((i) => i.label).join(','), want);
      // a server whose sessions have another business zone (the GUC analytics.business_timezone, as a DBA
      // sets it): Europe/Berlin across its autumn change, Asia/Kolkata (+05:30)
      for (const [zone, from, to, labels] of [
        ['Europe/Berlin', '2026-10-24T22:00:00Z', '2026-10-25T03:00:00Z',
          ['2026-10-25T00:00+02:00', '2026-10-25T01:00+02:00', '2026-10-25T02:00+02:00', '2026-10-25T02:00+01:00', '2026-10-25T03:00+01:00']],
        ['Asia/Kolkata', '2026-12-07T03:10:00Z', '2026-12-07T05:50:00Z',
          ['2026-12-07T08:30+05:30', '2026-12-07T09:30+05:30', '2026-12-07T10:30+05:30']],
      ]) {
        const other = await new ApiServer({ PGOPTIONS: `-c analytics.business_timezone=${zone}` }).start();
        try {
          const r = await get(other, `/api/v1/analytics/hourly-sales?from=${from}&to=${to}`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.equal(r.body.timezone, zone);
          assert.deepEqual(r.body.items.map((i) => i.label), labels, `${zone}: labels`);
          // the same labels as psql's analytics.sales_series and as /analytics/revenue?period=hour for the same hours
          const series = sql(`SET analytics.business_timezone = '${zone}';
            SELECT string_agg(label, ',' ORDER BY period_start) FROM analytics.sales_series('hour', '${from}', '${to}')`);
          assert.equal(series, labels.join(','), `${zone}: psql's sales_series`);
          const rev = await get(other, `/api/v1/analytics/revenue?period=hour&from=${from}&to=${to}`);
          assert.deepEqual(rev.body.items.map((i) => i.label), labels, `${zone}: /analytics/revenue?period=hour`);
          assert.deepEqual(r.body.items.map((i) => i.hour), rev.body.items.map((i) => i.period_start), `${zone}: the same hours`);
          // /dashboard/summary embeds the labelled items
          const s = await get(other, `/api/v1/dashboard/summary?as_of=${to}`);
          assert.equal(s.body.hourly_sales.length, 24);
          const sumWant = sql(`SELECT string_agg(analytics.local_time_label(h, '${zone}'), ',' ORDER BY h)
              FROM (SELECT analytics.hour_floor(timestamptz '${to}' - interval '1 microsecond') AS last) x,
                   generate_series(x.last - interval '23 hours', x.last, interval '1 hour') h`);
          assert.equal(s.body.hourly_sales.map((i) => i.label).join(','), sumWant, `${zone}: /dashboard/summary`);
          // the hourly forecast's points: history and forecast labelled as local_time_label of their t
          const f = await get(other, `/api/v1/analytics/forecast/revenue?granularity=hour&horizon=6&as_of=${asOf}`);
          if (f.status === 200) {
            const pts = [...f.body.history, ...f.body.forecast];
            const labelsOf = JSON.parse(sql(`SELECT json_agg(analytics.local_time_label(t, '${zone}') ORDER BY o)
              FROM unnest(ARRAY[${pts.map((p) => `'${p.t}'`).join(',')}]::timestamptz[]) WITH ORDINALITY u(t, o)`));
            assert.deepEqual(pts.map((p) => p.label), labelsOf, `${zone}: forecast labels`);
          } else assert.equal(f.status, 422, JSON.stringify(f.body));
        } finally {
          await other.stop();
        }
      }
    });

    test('score explanation: GET /fraud/explain/{id} and the explanation of GET /transactions/{id} are techmart.explain', async () => {
      const id = sql('SELECT id FROM transactions WHERE is_suspicious ORDER BY id DESC LIMIT 1');
      assert.ok(Number(id) > 0, 'the seed has a suspicious transaction');
      const e = await get(server, `/api/v1/fraud/explain/${id}`);
      assert.equal(e.status, 200, JSON.stringify(e.body));
      const rows = JSON.parse(sql(`SELECT json_agg(json_build_object('rule', rule, 'contribution', contribution, 'detail', detail)) FROM techmart.explain(${id})`));
      assert.deepEqual(e.body.map((r) => ({ rule: r.rule, contribution: r.contribution, detail: r.detail })), rows);
      const lastRow = e.body[e.body.length - 1];
      assert.equal(lastRow.rule, '= score');
      assert.equal(lastRow.contribution, Number(sql(`SELECT fraud_score FROM transactions WHERE id = ${id}`)));
      assert.match(lastRow.detail, /^suspicious/);
      assert.ok(e.body.length >= 2, 'a suspicious transaction has at least one reason');
      const t = await get(server, `/api/v1/transactions/${id}`);
      assert.equal(t.status, 200);
      assert.deepEqual(t.body.explanation, e.body);
      const missing = await get(server, '/api/v1/fraud/explain/999999999999');
      assert.equal(missing.status, 404);
      assert.match(missing.type, /^application\/problem\+json/);
      const bad = await get(server, '/api/v1/fraud/explain/abc');
      assert.ok([400, 404, 422].includes(bad.status), `non-numeric id: ${bad.status}`);
      assert.match(bad.type, /^application\/problem\+json/);
      assert.equal((await fetch(server.base + `/api/v1/fraud/explain/${id}`)).status, 401);
    });

    test('strict query validation: 422 problem+json naming every bad field', async () => {
      const r = await get(server, '/api/v1/analytics/revenue?period=fortnight&from=yesterday&to=2026-02-30&bogus=1');
      assert.equal(r.status, 422);
      assert.match(r.type, /^application\/problem\+json/);
      assert.deepEqual(r.body.errors.map((e) => e.field).sort(), ['bogus', 'from', 'period', 'to']);
      const cases = [
        ['/api/v1/dashboard/overview?as_of=2026-11-01T10:00:00', 'as_of'], // no offset
        ['/api/v1/dashboard/overview?as_of=2026-11-01T25:00:00Z', 'as_of'],
        ['/api/v1/dashboard/overview?from=2026-11-01', 'from'], // not a parameter here
        ['/api/v1/customers/top?limit=0', 'limit'],
        ['/api/v1/customers/top?limit=1001', 'limit'],
        ['/api/v1/customers/top?limit=1e3', 'limit'],
        ['/api/v1/customers/top?by=units', 'by'],
        ['/api/v1/customers/behavior?customer_id=-3', 'customer_id'],
        ['/api/v1/customers/rfm?segment=whales', 'segment'],
        ['/api/v1/analytics/low-stock?cover_days=NaN', 'cover_days'],
        ['/api/v1/analytics/low-stock?cover_days=99999', 'cover_days'],
        ['/api/v1/analytics/hourly-sales?dimension=planet', 'dimension'],
        // checked by SQL (22023 with field errors)
        ['/api/v1/analytics/hourly-sales?dimension=country', 'key'],
        ['/api/v1/analytics/revenue/daily?from=2026-11-08&to=2026-11-01', 'to'],
        ['/api/v1/analytics/revenue/compare?from=2026-11-01&to=2026-11-08&previous_from=2026-10-01', 'previous_from'],
        ['/api/v1/analytics/hourly-sales?from=2024-01-01&to=2026-01-01', 'to'],
        ['/api/v1/customers/behavior?customer_id=999999999999', 'customer_id'],
      ];
      for (const [path, field] of cases) {
        const x = await get(server, path);
        assert.equal(x.status, 422, `${path}: ${JSON.stringify(x.body)}`);
        assert.match(x.type, /^application\/problem\+json/, path);
        assert.ok(x.body.errors.some((e) => e.field === field), `${path}: ${JSON.stringify(x.body.errors)}`);
      }
    });

    test('fuzzed query strings on every query route yield only 200 or 422', async () => {
      const qs = ['as_of=%00', 'from=%ZZ', 'to=9999-99-99', 'limit=-0', 'limit=%2B5', "by=revenue'--", 'from=2026-11-01T00:00:00%2B99:99',
        'as_of=0001-01-01', 'from=2026-11-01&from=x', '%C3%28=1', 'key=' + 'k'.repeat(500)];
      for (const r of queryRoutes()) {
        for (const q of qs) {
          const x = await get(server, `${r.path}?${q}`, r.role);
          assert.ok([200, 422].includes(x.status), `${r.path}?${q}: ${x.status} ${JSON.stringify(x.body)}`);
        }
      }
    });

    test('SSE: a debounced "metrics" event with the overview follows new transactions', async () => {
      const s = await new ApiServer({ TECHMART_SSE_METRICS_DEBOUNCE_MS: '400' }).start();
      const events = [];
      let buf = '';
      const req = http.request({ host: '127.0.0.1', port: s.port, path: '/api/v1/stream', headers: { Accept: 'text/event-stream', ...auth('viewer') } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev = {};
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) ev.id = line.slice(4);
              else if (line.startsWith('event: ')) ev.event = line.slice(7);
              else if (line.startsWith('data: ')) ev.data = (ev.data ?? '') + line.slice(6);
              else if (line.startsWith('retry: ')) ev.retry = true;
            }
            events.push(ev);
          }
        });
      });
      req.on('error', () => {});
      req.end();
      try {
        await waitFor(() => events.some((e) => e.retry), { timeoutMs: 3000, intervalMs: 20 });
        const [cust, prod] = sql('SELECT (SELECT min(id) FROM customers), (SELECT min(id) FROM products);').split('|').map(Number);
        sql(`UPDATE products SET stock_quantity = greatest(stock_quantity, 1000000) WHERE id = ${prod};`);  // sold below
        // five inserts (five transactions, five notifications) from one psql: a psql start per
        // insert takes longer than the debounce on a loaded machine
        sql(Array.from({ length: 5 }, () => `INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (${cust}, ${prod}, 1, 1.5, 'paypal');`).join('\n'));
        await waitFor(() => events.filter((e) => e.event === 'transaction').length >= 5, { timeoutMs: 3000, intervalMs: 20 });
        const m = await waitFor(() => events.find((e) => e.event === 'metrics'), { timeoutMs: 3000, intervalMs: 20 });
        assert.equal(m.id, undefined, 'metrics events carry no id (Last-Event-ID stays the entity cursor)');
        const o = JSON.parse(m.data);
        for (const k of ['as_of', 'revenue', 'orders', 'transactions', 'suspicious_rate', 'open_alerts']) assert.ok(k in o, k);
        assert.ok(o.transactions.value >= 5, 'today counts the new transactions');
        await new Promise((r) => setTimeout(r, 900));
        const n = events.filter((e) => e.event === 'metrics').length;
        assert.ok(n >= 1 && n <= 2, `debounced: ${n} metrics events for 5 inserts`);
        assert.match(await (await s.fetch('/metrics')).text(), /techmart_sse_metrics_events_total [1-9]/);
      } finally {
        req.destroy();
        await s.stop();
      }
    });

    test('fraud rules: analysts read and update, viewers may not, unknown rules are 404', async () => {
      assert.equal((await get(server, '/api/v1/fraud/rules', 'viewer')).status, 403);
      const list = await get(server, '/api/v1/fraud/rules', 'analyst');
      assert.equal(list.status, 200);
      assert.equal(list.body.count, Number(sql('SELECT count(*) FROM techmart.rule_config')));
      const rule = list.body.items[0];
      assert.ok(rule && typeof rule.name === 'string');
      const put = (name, body, role = 'analyst') =>
        fetch(`${server.base}/api/v1/fraud/rules/${name}`, { method: 'PUT', headers: { ...auth(role), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      try {
        const u = await put(rule.name, { weight: rule.weight + 0.5 });
        assert.equal(u.status, 200);
        assert.equal((await u.json()).weight, rule.weight + 0.5);
        assert.equal(Number(sql(`SELECT weight FROM techmart.rule_config WHERE rule = '${rule.name}'`)), rule.weight + 0.5);
        const bad = await put(rule.name, { weight: -1, colour: 'red' });
        assert.equal(bad.status, 422);
        assert.deepEqual((await bad.json()).errors.map((e) => e.field).sort(), ['colour', 'weight']);
        assert.equal((await put('no_such_rule', { weight: 1 })).status, 404);
        assert.equal((await put('Bad-Name', { weight: 1 })).status, 404);
        assert.equal((await put(rule.name, { weight: 1 }, 'viewer')).status, 403);
      } finally {
        assert.equal((await put(rule.name, { weight: rule.weight })).status, 200);
      }
    });
  });
}
