// Operations tests of issues 5 and 7, registered by api.test.mjs before the database-restart test:
// the CSV export's statement timeout (the stream is cut, never a complete-looking file), the read
// pool (TECHMART_READ_DATABASE_URL), writes refused by a read-only server (25006 -> 503), and the
// database-side figures in /metrics (techmart_ops.prometheus(), cached).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { ApiServer, apiDatabaseUrl, makeToken, postJson, psqlCommand, sql, uniqueSuffix, waitFor } from './harness.mjs';

const auth = (role) => ({ Authorization: `Bearer ${makeToken(role)}` });

async function problem(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = await res.json();
  assert.equal(body.status, status);
  assert.equal(typeof body.detail, 'string');
  return body;
}

// GET through node:http, reporting whether the (chunked) body ended properly.
function download(server, path, headers = {}) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
      let bytes = 0;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        bytes += c.length;
        if (text.length < 4096) text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, text, complete: res.complete, error: null }));
      res.on('error', (e) => resolve({ status: res.statusCode, headers: res.headers, bytes, text, complete: false, error: e }));
      res.on('aborted', () => {});
    });
    req.on('error', (e) => resolve({ status: null, complete: false, error: e }));
  });
}

// A key=value connection string with extra server options (read-only sessions).
function withOptions(url, options) {
  return `${url} options='${options}'`;
}
const keyValueUrl = !/^postgres(ql)?:\/\//.test(apiDatabaseUrl() ?? '');
const skipUri = keyValueUrl ? false : 'TECHMART_DATABASE_URL is a URI (key=value needed to add options)';

function validTransaction(customerId, productId) {
  return { customer_id: customerId, product_id: productId, quantity: 1, unit_price: 5, payment_method: 'paypal' };
}

// Sends raw bytes on a new connection; resolves with everything the server sent until it closed.
function rawExchange(port, bytes, timeoutMs = 5000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    sock.write(bytes);
  });
}

function parseRaw(text) {
  const [head, ...rest] = text.split('\r\n\r\n');
  const lines = head.split('\r\n');
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(lines[0].split(' ')[1]), headers, body: rest.join('\r\n\r\n'), responses: (text.match(/HTTP\/1\.1 \d{3} /g) ?? []).length };
}

export function opsTests(getServer) {
  let customerId;
  let productId;

  describe('operations: export timeout, read pool, read-only, database metrics', () => {
    test('fixtures', () => {
      customerId = Number(sql('SELECT min(id) FROM customers'));
      productId = Number(sql('SELECT min(id) FROM products'));
      assert.ok(customerId > 0 && productId > 0);
      // the tests below sell it: enough stock for them (change stock_sales)
      sql(`UPDATE products SET stock_quantity = greatest(stock_quantity, 1000000) WHERE id = ${productId};`);
    });

    test('requests Pistache cannot parse get problem+json, once, and the connection closes', async () => {
      const server = getServer();
      const limit = 65536 + 16 * 1024; // TECHMART_MAX_BODY_BYTES of the suite's server + headers
      const cases = [
        // beyond the parser buffer: 413 (our wrapper answers smaller oversized bodies)
        [413, `POST /api/v1/transactions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${4 * limit}\r\n\r\n${'x'.repeat(4 * limit)}`],
        [413, `GET /health HTTP/1.1\r\nHost: t\r\nX-Huge: ${'h'.repeat(2 * limit)}\r\n\r\n`],
        [400, 'BREW /health HTTP/1.1\r\nHost: t\r\n\r\n'],
        [400, 'GET /health HTTP/7.0\r\nHost: t\r\n\r\n'],
        [400, 'POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}'],
        [400, 'POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n{}'],
      ];
      for (const [status, req] of cases) {
        const r = parseRaw(await rawExchange(server.port, req));
        const what = req.slice(0, 60);
        assert.equal(r.status, status, what);
        assert.match(r.headers['content-type'] ?? '', /^application\/problem\+json/, what);
        assert.equal(r.headers.connection, 'close', what);
        assert.equal(r.responses, 1, `one answer, not one per chunk of the rest: ${what}`);
        const body = JSON.parse(r.body);
        assert.equal(body.status, status);
        assert.equal(body.request_id, r.headers['x-request-id']);
        assert.equal(typeof body.detail, 'string');
        if (status === 413) assert.match(body.detail, new RegExp(String(limit)));
      }
      // the server is fine afterwards
      assert.equal((await server.fetch('/health')).status, 200);
    });

    test('CSV export: a statement timeout mid-COPY cuts the stream (incomplete transfer), the API stays up', async () => {
      const rows = Number(sql('SELECT count(*) FROM transactions'));
      assert.ok(rows >= 1000, `needs a large export (seed data), have ${rows} rows`);
      const s = await new ApiServer({ TECHMART_EXPORT_STATEMENT_TIMEOUT_MS: '1' }).start();
      try {
        const r = await download(s, '/api/v1/transactions/export', auth('viewer'));
        // the 200 and the CSV header may have gone out; the body must not look complete
        assert.equal(r.complete, false, `the export looked complete (${r.status}, ${r.bytes} bytes)`);
        if (r.status !== null) assert.equal(r.status, 200);
        const entry = await waitFor(() => s.logs.find((l) => l.msg === 'export failed'));
        assert.equal(entry.sqlstate, '57014'); // query_canceled: the statement timeout
        // the service is fine
        assert.equal((await s.fetch('/health')).status, 200);
        assert.equal(s.exit, null);
      } finally {
        await s.stop();
      }
    });

    test('CSV export: the default timeout lets a full export complete', async () => {
      const s = await new ApiServer().start();
      try {
        const r = await download(s, '/api/v1/transactions/export', auth('viewer'));
        assert.equal(r.status, 200);
        assert.equal(r.complete, true);
        assert.ok(!s.logs.some((l) => l.msg === 'export failed'));
      } finally {
        await s.stop();
      }
    });

    test('a write against a read-only server is 503 problem+json (25006), reads still work', { skip: skipUri }, async () => {
      const s = await new ApiServer({
        TECHMART_DATABASE_URL: withOptions(apiDatabaseUrl(), '-c default_transaction_read_only=on'),
      }).start();
      try {
        const before = sql('SELECT count(*) FROM transactions');
        const res = await postJson(s, '/api/v1/transactions', validTransaction(customerId, productId), auth('admin'));
        const body = await problem(res, 503);
        assert.match(body.detail, /read-only/);
        assert.ok(res.headers.get('retry-after'));
        assert.equal(sql('SELECT count(*) FROM transactions'), before);
        assert.ok(s.logs.some((l) => l.sqlstate === '25006'));
        const get = await s.fetch('/api/v1/transactions/recent?limit=1', { headers: auth('viewer') });
        assert.equal(get.status, 200);
      } finally {
        await s.stop();
      }
    });

    test('TECHMART_READ_DATABASE_URL: reads on the read pool (read-only sessions), writes on the primary', { skip: skipUri }, async () => {
      const s = await new ApiServer({
        TECHMART_READ_DATABASE_URL: withOptions(apiDatabaseUrl(), '-c default_transaction_read_only=on'),
      }).start();
      try {
        const marker = uniqueSuffix();
        // reads: lists, analytics, dashboard — all on read-only sessions, all succeed
        for (const p of [
          '/api/v1/transactions/recent?limit=3',
          `/api/v1/transactions?limit=3&customer_id=${customerId}`,
          '/api/v1/dashboard/overview',
          '/api/v1/analytics/forecast/revenue',
          '/api/v1/alerts?limit=2',
        ]) {
          const r = await s.fetch(p, { headers: { ...auth('viewer'), 'X-Request-Id': `read-${marker}` } });
          assert.equal(r.status, 200, `${p}: ${r.status}`);
        }
        // the read pool's sessions are named techmart-api-read and ran the reads
        const q = sql(`SELECT string_agg(query, ' | ') FROM pg_stat_activity WHERE application_name = 'techmart-api-read'`);
        assert.match(q, /api\./, `read pool sessions: ${q}`);
        assert.ok(Number(sql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'techmart-api-read'`)) >= 1);
        // a write goes to the primary and succeeds
        const w = await postJson(s, '/api/v1/transactions', validTransaction(customerId, productId), auth('admin'));
        assert.equal(w.status, 201);
        const row = await w.json();
        // the CSV export reads through the read database too
        const csv = await download(s, `/api/v1/transactions/export?customer_id=${customerId}`, auth('viewer'));
        assert.equal(csv.status, 200);
        assert.equal(csv.complete, true);
        // metrics show both pools
        const m = await (await s.fetch('/metrics')).text();
        assert.match(m, /techmart_db_read_pool_size \d+/);
        assert.match(m, /techmart_db_pool_size \d+/);
        assert.ok(row.id > 0);
      } finally {
        await s.stop();
      }
    });

    test('TECHMART_READ_DATABASE_URL unreachable: reads fall back to the primary (200), logged once, counted in /metrics', async () => {
      // a port nobody listens on: every connect to the read database is refused
      const dead = await new Promise((resolve) => {
        const srv = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = srv.address();
          srv.close(() => resolve(port));
        });
      });
      const s = await new ApiServer({
        TECHMART_READ_DATABASE_URL: `host=127.0.0.1 port=${dead} dbname=techmart user=techmart_api connect_timeout=2`,
        TECHMART_READ_RETRY_MS: '60000',
      }).start();
      try {
        const paths = ['/api/v1/transactions/recent?limit=3', '/api/v1/dashboard/overview', '/api/v1/alerts?limit=2',
                       `/api/v1/transactions?limit=3&customer_id=${customerId}`];
        for (const p of paths) {
          const r = await s.fetch(p, { headers: auth('viewer') });
          assert.equal(r.status, 200, `${p}: ${r.status}`);
        }
        const csv = await download(s, `/api/v1/transactions/export?customer_id=${customerId}`, auth('viewer'));
        assert.equal(csv.status, 200);
        assert.equal(csv.complete, true);
        const m = await (await s.fetch('/metrics')).text();
        assert.match(m, /^techmart_db_read_database_up 0$/m);
        const fallbacks = Number(m.match(/^techmart_db_read_fallback_total (\d+)$/m)?.[1]);
        assert.ok(fallbacks >= paths.length + 1, `fallbacks ${fallbacks}`);
        assert.equal(s.logs.filter((l) => l.msg === 'read database unavailable; reads fall back to the primary').length, 1,
                     'one log line for the transition, not one per read');
      } finally {
        await s.stop();
      }
    });

    test('/metrics appends techmart_ops.prometheus(), cached per TECHMART_DB_METRICS_CACHE_MS', async () => {
      const letters = () => Array.from({ length: 10 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
      const cached = await new ApiServer({ TECHMART_DB_METRICS_CACHE_MS: '3600000' }).start();
      const fresh = await new ApiServer({ TECHMART_DB_METRICS_CACHE_MS: '0' }).start();
      try {
        const type = `metrics_test_${letters()}`;
        const series = new RegExp(`techmart_alerts\\{severity="low",status="open",type="${type}"\\} 1\\n`);
        const m1 = await (await cached.fetch('/metrics')).text();
        assert.match(m1, /# TYPE techmart_alerts gauge/);
        assert.match(m1, /techmart_database_bytes \d+/);
        assert.match(m1, /techmart_table_rows\{table="public\.transactions"\} \d+/);
        assert.match(m1, /techmart_db_metrics_ok 1/);
        assert.match(m1, /techmart_http_requests_total/); // the API's own figures are still there
        assert.doesNotMatch(m1, series);
        sql(`INSERT INTO alerts (type, severity, message) VALUES ('${type}', 'low', 'metrics test');`);
        // the cached server does not query again within its cache time; the uncached one does
        assert.doesNotMatch(await (await cached.fetch('/metrics')).text(), series);
        assert.match(await (await fresh.fetch('/metrics')).text(), series);
        sql(`DELETE FROM alerts WHERE type = '${type}';`);
      } finally {
        await cached.stop();
        await fresh.stop();
      }
    });

    test('/metrics carries the scoring latency histogram (techmart_scoring_latency_seconds) and it counts the API\'s inserts', async () => {
      const s = await new ApiServer({ TECHMART_DB_METRICS_CACHE_MS: '0' }).start();
      const histogram = (text) => {
        const buckets = [...text.matchAll(/^techmart_scoring_latency_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
        const one = (name) => {
          const m = text.match(new RegExp(`^${name} ([0-9.]+)$`, 'm'));
          assert.ok(m, `${name} in /metrics`);
          return Number(m[1]);
        };
        return { buckets, count: one('techmart_scoring_latency_seconds_count'), sum: one('techmart_scoring_latency_seconds_sum'),
                 clusterWide: one('techmart_scoring_latency_cluster_wide') };
      };
      try {
        const before = histogram(await (await s.fetch('/metrics')).text());
        const text0 = await (await s.fetch('/metrics')).text();
        assert.match(text0, /^# TYPE techmart_scoring_latency_seconds histogram$/m);
        assert.equal(text0.match(/^# TYPE techmart_scoring_latency_seconds /gm).length, 1, 'one TYPE line for the family');
        assert.equal(before.buckets.length, 20);
        assert.equal(before.buckets.at(-1)[0], '+Inf');
        for (let i = 1; i < before.buckets.length; i++) {
          if (i < before.buckets.length - 1) assert.ok(Number(before.buckets[i][0]) > Number(before.buckets[i - 1][0]), 'le ascending');
          assert.ok(before.buckets[i][1] >= before.buckets[i - 1][1], 'cumulative counts never decrease');
        }
        assert.equal(before.buckets.at(-1)[1], before.count, '+Inf bucket equals _count');
        const n = 5;
        for (let i = 0; i < n; i++) {
          const r = await postJson(s, '/api/v1/transactions', validTransaction(customerId, productId), auth('admin'));
          assert.equal(r.status, 201);
        }
        const after = histogram(await (await s.fetch('/metrics')).text());
        assert.equal(after.buckets.at(-1)[1], after.count);
        if (after.clusterWide === 1) {
          // shared memory: the scrape sees the rows the API's other connections scored
          assert.ok(after.count - before.count >= n, `_count grew by ${after.count - before.count}, want >= ${n}`);
          assert.ok(after.sum > before.sum, '_sum grew');
        } else {
          assert.equal(after.clusterWide, 0); // techmart not preloaded: the answering backend's figures only
        }
      } finally {
        await s.stop();
      }
    });
  });

  describe('GET /fraud/backtest: its own statement timeout, one at a time', () => {
    // Another session holds transaction_labels, which every replay reads, for `ms`: a backtest
    // started meanwhile waits for it. Resolves once the lock is held; `.done` when it is released.
    async function holdLabels(ms) {
      const p = spawn('bash', ['-c', `${psqlCommand()} -X -q -v ON_ERROR_STOP=1 -c BEGIN `
        + `-c "LOCK TABLE transaction_labels IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(${ms / 1000})" -c COMMIT`], { stdio: 'ignore' });
      const done = new Promise((resolve) => p.on('exit', resolve));
      await waitFor(() => sql(`SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                                WHERE c.relname = 'transaction_labels' AND l.mode = 'AccessExclusiveLock' AND l.granted;`) === '1',
                    { intervalMs: 20, timeoutMs: 10000 });
      return { done };
    }
    const backtest = (s) => fetch(`${s.base}/api/v1/fraud/backtest?top_k=3`, { headers: auth('analyst') });

    test('runs under TECHMART_BACKTEST_STATEMENT_TIMEOUT_MS, not the pool\'s statement timeout', async () => {
      const s = await new ApiServer({ TECHMART_DB_STATEMENT_TIMEOUT_MS: '300', TECHMART_BACKTEST_STATEMENT_TIMEOUT_MS: '60000' }).start();
      try {
        const hold = await holdLabels(1500);
        const t0 = Date.now();
        const r = await backtest(s);
        const waited = Date.now() - t0;
        assert.equal(r.status, 200, `a backtest longer than the pool's 300 ms timeout: ${r.status} ${await r.clone().text()}`);
        assert.ok(waited >= 700, `it waited for the lock (${waited} ms)`);
        const body = await r.json();
        assert.equal(body.candidate, 'live');
        assert.ok(body.items.some((i) => i.metric === 'transactions' && i.live >= 0));
        await hold.done;
      } finally {
        await s.stop();
      }
    });

    test('its own timeout ends it with 503 and leaves the pooled connection as it was', async () => {
      const s = await new ApiServer({ TECHMART_DB_POOL_SIZE: '1', TECHMART_BACKTEST_STATEMENT_TIMEOUT_MS: '200' }).start();
      try {
        const hold = await holdLabels(1500);
        const r = await backtest(s);
        const body = await problem(r, 503);
        assert.match(body.detail, /busy/);
        // the pool's only connection: its next statements run under the pool's timeout again
        const rules = await fetch(`${s.base}/api/v1/fraud/rules`, { headers: auth('analyst') });
        assert.equal(rules.status, 200);
        await hold.done;
      } finally {
        await s.stop();
      }
    });

    test('a second backtest while one runs: 503 with Retry-After (TECHMART_BACKTEST_MAX_CONCURRENT=1)', async () => {
      const s = await new ApiServer({ TECHMART_DB_POOL_SIZE: '3', TECHMART_API_THREADS: '4' }).start();
      try {
        const hold = await holdLabels(2000);
        const first = backtest(s);
        await waitFor(() => sql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                                   AND query LIKE '%fraud_backtest%';`) === '1', { intervalMs: 20, timeoutMs: 10000 });
        const second = await backtest(s);
        const body = await problem(second, 503);
        assert.match(body.detail, /backtest is already running/);
        assert.equal(second.headers.get('retry-after'), '5');
        assert.equal((await first).status, 200, 'the first one ends normally');
        await hold.done;
        assert.equal((await backtest(s)).status, 200, 'and the next one runs');
      } finally {
        await s.stop();
      }
    });
  });

  describe('GET /metrics access (TECHMART_METRICS_TOKEN)', () => {
    test('unset (the default): /metrics answers without a token, as Prometheus scrapes it', async () => {
      const s = await new ApiServer().start();
      try {
        const r = await fetch(`${s.base}/metrics`);
        assert.equal(r.status, 200);
        assert.match(await r.text(), /^# TYPE techmart_http_requests_total counter$/m);
        assert.equal(s.logs.find((l) => l.msg === 'listening')?.metrics_public, true);
      } finally {
        await s.stop();
      }
    });

    test('set: the scrape token or an admin token, else 401 (no token, another token) or 403 (a lesser role)', async () => {
      const scrape = `scrape-${uniqueSuffix()}-${uniqueSuffix()}`;
      const s = await new ApiServer({ TECHMART_METRICS_TOKEN: scrape }).start();
      try {
        assert.equal(s.logs.find((l) => l.msg === 'listening')?.metrics_public, false);
        const get = (headers = {}) => fetch(`${s.base}/metrics`, { headers });
        const ok = await get({ Authorization: `Bearer ${scrape}` });
        assert.equal(ok.status, 200);
        assert.match(await ok.text(), /^# TYPE techmart_http_requests_total counter$/m);
        const head = await fetch(`${s.base}/metrics`, { method: 'HEAD' });
        assert.equal(head.status, 401, 'HEAD as GET');
        const none = await problem(await get(), 401);
        assert.match(none.detail, /scrape token/);
        assert.match((await get()).headers.get('www-authenticate') ?? '', /^Bearer/);
        await problem(await get({ Authorization: `Bearer ${scrape}x` }), 401);
        await problem(await get({ Authorization: `Bearer ${scrape.slice(0, -1)}` }), 401);
        await problem(await get({ Authorization: `Basic ${Buffer.from(`x:${scrape}`).toString('base64')}` }), 401);
        const viewer = await problem(await get(auth('viewer')), 403);
        assert.match(viewer.detail, /admin/);
        await problem(await get(auth('analyst')), 403);
        assert.equal((await get(auth('admin'))).status, 200, 'an admin (operator) token');
        // the other routes are as before: the scrape token is no API token
        assert.equal((await fetch(`${s.base}/health`)).status, 200);
        await problem(await fetch(`${s.base}/api/v1/transactions?limit=1`, { headers: { Authorization: `Bearer ${scrape}` } }), 401);
      } finally {
        await s.stop();
      }
    });

    test('a scrape token shorter than 16 characters is refused at start (exit 2)', async () => {
      for (const token of ['short', 'fifteen-chars!!', 'has a space in it ok']) {
        const s = new ApiServer({ TECHMART_METRICS_TOKEN: token });
        await assert.rejects(s.start(5000), /exited with 2/, token);
      }
    });
  });
}
