// Feature tests of issue 5, registered by api.test.mjs before the database-restart test (test
// files run in parallel; the restart must not hit these). `getServer()` is the suite's main
// server (production mode, rate limiting off, admin token by default).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { ApiServer, API_BIN, JWT_SECRET, makeToken, postJson, sql, uniqueSuffix, waitFor } from './harness.mjs';

async function problem(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = await res.json();
  assert.equal(body.status, status);
  assert.equal(typeof body.type, 'string');
  assert.equal(typeof body.title, 'string');
  return body;
}

const auth = (role, opts) => ({ Authorization: `Bearer ${makeToken(role, opts)}` });

function send(server, method, path, { body, role = 'admin', headers = {} } = {}) {
  const h = { ...(role ? auth(role) : { Authorization: '' }), ...headers };
  if (!role) delete h.Authorization;
  const init = { method, headers: h };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    h['Content-Type'] ??= 'application/json';
  }
  return fetch(server.base + path, init);
}

// A minimal SSE client: collects events; resolves `opened` with the response headers.
export function sse(server, path, headers = {}) {
  const events = [];
  let buf = '';
  let resolveOpen;
  let resolveEnded;
  const opened = new Promise((r) => (resolveOpen = r));
  // the response's end: complete (the last chunk arrived) or cut off
  const ended = new Promise((r) => (resolveEnded = r));
  const req = http.request({ host: '127.0.0.1', port: server.port, path, headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
    resolveOpen(res);
    res.on('end', () => resolveEnded({ complete: true, at: Date.now() }));
    res.on('aborted', () => resolveEnded({ complete: false, at: Date.now() }));
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = { at: Date.now(), comment: false };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) ev.comment = true;
          else if (line.startsWith('id: ')) ev.id = line.slice(4);
          else if (line.startsWith('event: ')) ev.event = line.slice(7);
          else if (line.startsWith('data: ')) ev.data = (ev.data ?? '') + line.slice(6);
          else if (line.startsWith('retry: ')) ev.retry = Number(line.slice(7));
        }
        if (ev.data) ev.json = JSON.parse(ev.data);
        events.push(ev);
      }
    });
  });
  req.on('error', () => {});
  req.end();
  return { events, opened, ended, close: () => req.destroy() };
}

export function featureTests(getServer) {
  let server;
  let customerId;
  let productId;
  before(async () => {
    server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
    const sfx = uniqueSuffix();
    // rows inserted with explicit ids (seed, the suite's own fixtures) leave the identity
    // sequences behind: move them past, so that rows created through the API get fresh ids
    for (const t of ['customers', 'products', 'categories', 'suppliers', 'transactions', 'alerts', 'users']) {
      sql(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM ${t}), false);`);
    }
    customerId = Number(sql(`INSERT INTO customers (email, name, country) VALUES ('f-${sfx}@example.com', 'F ${sfx}', 'DE') RETURNING id;`));
    productId = Number(sql(`INSERT INTO products (sku, name, price, stock_quantity) VALUES ('F-${sfx}', 'feature product', 9.5, 100) RETURNING id;`));
  });
  const tx = (extra = {}) => ({ customer_id: customerId, product_id: productId, quantity: 1, payment_method: 'paypal', ...extra });

  describe('auth', () => {
    test('no token: 401 problem with WWW-Authenticate; bad tokens: 401', async () => {
      const res = await send(server, 'GET', '/api/v1/transactions/recent', { role: null });
      await problem(res, 401);
      assert.match(res.headers.get('www-authenticate'), /^Bearer/);
      const now = Math.floor(Date.now() / 1000);
      const bad = {
        expired: makeToken('admin', { claims: { exp: now - 10 } }),
        'not yet valid': makeToken('admin', { claims: { nbf: now + 3600 } }),
        'wrong secret': makeToken('admin', { secret: 'another-secret-another-secret-123456' }),
        'alg none': makeToken('admin').split('.').slice(0, 2).join('.').replace(/^[^.]+/, Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')) + '.',
        'alg HS512 header': makeToken('admin', { header: { alg: 'HS512' } }),
        'unknown role': makeToken('root'),
        'other issuer': makeToken('admin', { claims: { iss: 'someone' } }),
        garbage: 'not.a.token',
      };
      for (const [name, token] of Object.entries(bad)) {
        const r = await fetch(server.base + '/api/v1/transactions/recent', { headers: { Authorization: `Bearer ${token}` } });
        assert.equal(r.status, 401, name);
      }
      const r = await fetch(server.base + '/api/v1/transactions/recent', { headers: { Authorization: 'Basic YTpi' } });
      assert.equal(r.status, 401);
    });

    test('every route declares its role: 401 without a token, 403 one role below', async () => {
      const routes = execFileSync(API_BIN, ['routes'], { encoding: 'utf8', env: { ...process.env, TECHMART_JWT_SECRET: JWT_SECRET } })
        .trim().split('\n').map((l) => l.split(' '));
      assert.ok(routes.length > 40, 'route list');
      const below = { viewer: null, analyst: 'viewer', admin: 'analyst' };
      let checked = 0;
      for (const [method, pattern, role] of routes) {
        if (role === 'public' || pattern === '/api/v1/stream') continue;
        const path = pattern.replace(/\{[^}]+\}/g, '1');
        const body = ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined;
        const r1 = await send(server, method, path, { role: null, body });
        assert.equal(r1.status, 401, `${method} ${pattern} without token`);
        if (below[role]) {
          const r2 = await send(server, method, path, { role: below[role], body });
          assert.equal(r2.status, 403, `${method} ${pattern} as ${below[role]}`);
        }
        checked++;
      }
      assert.ok(checked > 30, `checked ${checked}`);
    });

    test('register, verification token logged in development, verify, login, /users/me', async () => {
      const dev = await new ApiServer({ TECHMART_ENV: 'development', TECHMART_JWT_SECRET: 'dev' }).start();
      try {
        const sfx = uniqueSuffix();
        const email = `u-${sfx}@example.com`;
        const reg = await send(dev, 'POST', '/api/v1/auth/register', { role: null, body: { email, username: `u_${sfx}`, password: 'correct horse battery' } });
        assert.equal(reg.status, 201);
        const user = await reg.json();
        assert.equal(user.role, 'viewer');
        assert.equal(user.verified, false);
        assert.equal(reg.headers.get('location'), `/api/v1/users/${user.id}`);
        assert.equal(user.verification_token, undefined, 'never sent over HTTP');
        assert.ok(!dev.stderr.includes('correct horse battery'), 'password never logged');
        const dup = await send(dev, 'POST', '/api/v1/auth/register', { role: null, body: { email: email.toUpperCase(), username: `v_${sfx}`, password: 'correct horse battery' } });
        await problem(dup, 409);
        const weak = await send(dev, 'POST', '/api/v1/auth/register', { role: null, body: { email: 'x', username: 'a', password: 'short' } });
        const wb = await problem(weak, 422);
        assert.deepEqual(wb.errors.map((e) => e.field).sort(), ['email', 'password', 'username']);
        // unverified: the right password is still refused with 403
        const early = await send(dev, 'POST', '/api/v1/auth/login', { role: null, body: { email, password: 'correct horse battery' } });
        await problem(early, 403);
        const line = await waitFor(() => dev.logs.find((l) => l.msg?.startsWith('verification token') && l.email === email));
        assert.match(line.verification_token, /^[0-9a-f]{48}$/);
        await problem(await send(dev, 'POST', '/api/v1/auth/verify-email', { role: null, body: { token: '0'.repeat(48) } }), 404);
        const ver = await send(dev, 'POST', '/api/v1/auth/verify-email', { role: null, body: { token: line.verification_token } });
        assert.equal(ver.status, 200);
        assert.equal((await ver.json()).verified, true);
        await problem(await send(dev, 'POST', '/api/v1/auth/login', { role: null, body: { email, password: 'wrong password!!' } }), 401);
        const login = await send(dev, 'POST', '/api/v1/auth/login', { role: null, body: { email, password: 'correct horse battery' } });
        assert.equal(login.status, 200);
        const lb = await login.json();
        assert.equal(lb.token_type, 'Bearer');
        assert.ok(lb.expires_in > 0);
        const me = await fetch(dev.base + '/api/v1/users/me', { headers: { Authorization: `Bearer ${lb.access_token}` } });
        assert.equal(me.status, 200);
        const mb = await me.json();
        assert.equal(mb.email, email);
        assert.equal(mb.token_role, 'viewer');
        // the token of a viewer cannot create a transaction
        const post = await fetch(dev.base + '/api/v1/transactions', { method: 'POST', headers: { Authorization: `Bearer ${lb.access_token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(tx()) });
        await problem(post, 403);
      } finally {
        await dev.stop();
      }
    });

    test('a weak or missing JWT secret is refused outside development (exit 2)', async () => {
      for (const secret of ['', 'secret', 'short-but-not-default']) {
        const s = new ApiServer({ TECHMART_JWT_SECRET: secret });
        await assert.rejects(s.start(5000), /exited with 2/);
      }
    });

    test('login is rate-limited per client: 429 with Retry-After', async () => {
      const s = await new ApiServer({ TECHMART_LOGIN_PER_MINUTE: '1', TECHMART_LOGIN_BURST: '3' }).start();
      try {
        const statuses = [];
        for (let i = 0; i < 5; i++) {
          const r = await send(s, 'POST', '/api/v1/auth/login', { role: null, body: { email: 'nobody@example.com', password: 'whatever-it-is' } });
          statuses.push(r.status);
          if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) >= 1);
        }
        assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      } finally {
        await s.stop();
      }
    });

    test('the API role can only execute api functions', () => {
      assert.equal(sql("SELECT has_table_privilege('techmart_api', 'transactions', 'SELECT')"), 'f');
      assert.equal(sql("SELECT has_table_privilege('techmart_api', 'users', 'SELECT')"), 'f');
      assert.equal(sql("SELECT has_function_privilege('techmart_api', 'api.list_transactions(jsonb, text)', 'EXECUTE')"), 't');
      assert.equal(sql("SELECT has_function_privilege('techmart_api', 'api.bootstrap_admin(text,text)', 'EXECUTE')"), 'f');
    });
  });

  describe('idempotency', () => {
    test('same key + same body: same response, one booking; other body: 422', async () => {
      const key = `key-${uniqueSuffix()}`;
      const order = `ORD-${uniqueSuffix()}`;
      const body = tx({ order_number: order });
      const r1 = await send(server, 'POST', '/api/v1/transactions', { body, headers: { 'Idempotency-Key': key } });
      assert.equal(r1.status, 201);
      assert.equal(r1.headers.get('idempotent-replayed'), 'false');
      const b1 = await r1.json();
      // the same JSON with other key order and spacing is the same request
      const reordered = JSON.stringify(Object.fromEntries(Object.entries(body).reverse()), null, 2);
      const r2 = await send(server, 'POST', '/api/v1/transactions', { body: reordered, headers: { 'Idempotency-Key': key } });
      assert.equal(r2.status, 201);
      assert.equal(r2.headers.get('idempotent-replayed'), 'true');
      assert.equal(r2.headers.get('location'), r1.headers.get('location'));
      assert.deepEqual(await r2.json(), b1);
      assert.equal(sql(`SELECT count(*) FROM transactions WHERE order_number = '${order}'`), '1');
      const r3 = await send(server, 'POST', '/api/v1/transactions', { body: tx({ order_number: order, quantity: 2 }), headers: { 'Idempotency-Key': key } });
      const p3 = await problem(r3, 422);
      assert.equal(p3.errors[0].field, 'Idempotency-Key');
      assert.equal(sql(`SELECT count(*) FROM transactions WHERE order_number = '${order}'`), '1');
      // keys are per caller: another user may use the same key
      const r4 = await send(server, 'POST', '/api/v1/transactions', { body, headers: { 'Idempotency-Key': key, ...auth('admin', { userId: 999 }) } });
      assert.equal(r4.status, 201);
      assert.equal(r4.headers.get('idempotent-replayed'), 'false');
      assert.equal(sql(`SELECT count(*) FROM idempotency_keys WHERE key = '${key}' AND created_at > now() - interval '1 minute'`), '2');
    });

    test('a request still in flight with the same key gets 409; a bad key 422', async () => {
      const key = `busy-${uniqueSuffix()}`;
      // hold the key's lock as the first request would
      const holder = spawn('sh', ['-c', `${process.env.PSQL ?? `psql "${process.env.TECHMART_DATABASE_URL}"`} -X -q -c "SELECT pg_advisory_lock(hashtextextended('techmart.idempotency:1:${key}', 0)), pg_sleep(3)"`], { stdio: 'ignore' });
      await waitFor(() => sql(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted`) !== '0', { timeoutMs: 5000, intervalMs: 50 });
      const r = await send(server, 'POST', '/api/v1/transactions', { body: tx(), headers: { 'Idempotency-Key': key } });
      await problem(r, 409);
      holder.kill();
      await problem(await send(server, 'POST', '/api/v1/transactions', { body: tx(), headers: { 'Idempotency-Key': 'x'.repeat(300) } }), 422);
    });
  });

  describe('rate limiting, CORS, metrics, docs', () => {
    test('token bucket per client: 429 with Retry-After and X-RateLimit-*', async () => {
      const s = await new ApiServer({ TECHMART_RATE_LIMIT_RPS: '1', TECHMART_RATE_LIMIT_BURST: '3' }).start();
      try {
        const res = [];
        for (let i = 0; i < 4; i++) res.push(await send(s, 'GET', '/api/v1/transactions/recent?limit=1', { role: 'viewer' }));
        assert.deepEqual(res.map((r) => r.status), [200, 200, 200, 429]);
        assert.equal(res[0].headers.get('x-ratelimit-limit'), '3');
        assert.equal(res[0].headers.get('x-ratelimit-remaining'), '2');
        assert.equal(res[2].headers.get('x-ratelimit-remaining'), '0');
        assert.ok(Number(res[3].headers.get('retry-after')) >= 1);
        await problem(res[3], 429);
        // another client (user) has its own bucket
        assert.equal((await send(s, 'GET', '/api/v1/transactions/recent?limit=1', { role: 'viewer', headers: auth('viewer', { userId: 77 }) })).status, 200);
        // health is not limited
        assert.equal((await s.fetch('/health')).status, 200);
        const m = await (await s.fetch('/metrics')).text();
        assert.match(m, /techmart_rate_limited_total [1-9]/);
      } finally {
        await s.stop();
      }
    });

    test('CORS: allowed origin gets headers and preflight; others do not', async () => {
      const s = await new ApiServer({ TECHMART_CORS_ORIGINS: 'http://dash.example, http://other.example' }).start();
      try {
        const pre = await fetch(s.base + '/api/v1/transactions', { method: 'OPTIONS', headers: { Origin: 'http://dash.example', 'Access-Control-Request-Method': 'POST' } });
        assert.equal(pre.status, 204);
        assert.equal(pre.headers.get('access-control-allow-origin'), 'http://dash.example');
        assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
        assert.match(pre.headers.get('access-control-allow-headers'), /Idempotency-Key/);
        const get = await send(s, 'GET', '/api/v1/transactions/recent?limit=1', { role: 'viewer', headers: { Origin: 'http://dash.example' } });
        assert.equal(get.headers.get('access-control-allow-origin'), 'http://dash.example');
        assert.match(get.headers.get('vary'), /Origin/);
        const evil = await send(s, 'GET', '/api/v1/transactions/recent?limit=1', { role: 'viewer', headers: { Origin: 'http://evil.example' } });
        assert.equal(evil.headers.get('access-control-allow-origin'), null);
      } finally {
        await s.stop();
      }
    });

    test('GET /metrics: Prometheus text with requests, latency, pool, SSE, db up', async () => {
      await send(server, 'GET', '/api/v1/transactions/recent?limit=1');
      const res = await server.fetch('/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
      const m = await res.text();
      assert.match(m, /techmart_http_requests_total\{route="\/api\/v1\/transactions\/recent",method="GET",status="200"\} \d+/);
      assert.match(m, /techmart_http_request_duration_seconds_bucket\{route="\/api\/v1\/transactions\/recent",method="GET",le="\+Inf"\} \d+/);
      assert.match(m, /techmart_db_pool_size \d+/);
      assert.match(m, /techmart_db_pool_in_use \d+/);
      assert.match(m, /techmart_sse_clients \d+/);
      assert.match(m, /techmart_db_up 1/);
    });
  });

  describe('live stream (SSE)', () => {
    test('an alert inserted from psql reaches a connected client in under a second', async () => {
      const c = sse(server, '/api/v1/stream', auth('viewer'));
      const res = await c.opened;
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'], /^text\/event-stream/);
      await waitFor(() => c.events.some((e) => e.retry), { timeoutMs: 3000, intervalMs: 20 });
      const msg = `sse-${uniqueSuffix()}`;
      const t0 = Date.now();
      const id = Number(sql(`INSERT INTO alerts (type, severity, message) VALUES ('manual', 'high', '${msg}') RETURNING id;`));
      const ev = await waitFor(() => c.events.find((e) => e.event === 'alert' && e.json?.message === msg), { timeoutMs: 3000, intervalMs: 10 });
      assert.ok(ev.at - t0 < 1000, `alert took ${ev.at - t0} ms`);
      assert.equal(ev.json.id, id);
      assert.match(ev.id, /^\d+-\d+$/);
      assert.equal(Number(ev.id.split('-')[1]), id);
      // a transaction posted through the API arrives as well
      const post = await send(server, 'POST', '/api/v1/transactions', { body: tx() });
      const row = await post.json();
      const tev = await waitFor(() => c.events.find((e) => e.event === 'transaction' && e.json?.id === row.id), { timeoutMs: 3000, intervalMs: 10 });
      for (const k of ['id', 'amount', 'fraud_score', 'is_suspicious', 'customer_id', 'time']) assert.ok(k in tev.json, k);
      const m = await (await server.fetch('/metrics')).text();
      assert.match(m, /techmart_sse_clients [1-9]/);
      c.close();
    });

    test('reconnecting with Last-Event-ID misses nothing', async () => {
      const c1 = sse(server, '/api/v1/stream', auth('viewer'));
      await c1.opened;
      const m1 = `before-${uniqueSuffix()}`;
      sql(`INSERT INTO alerts (type, severity, message) VALUES ('manual', 'low', '${m1}');`);
      const last = await waitFor(() => c1.events.find((e) => e.json?.message === m1), { timeoutMs: 3000, intervalMs: 10 });
      c1.close();
      // while disconnected: two alerts and a transaction
      const m2 = `gone-a-${uniqueSuffix()}`;
      const m3 = `gone-b-${uniqueSuffix()}`;
      sql(`INSERT INTO alerts (type, severity, message) VALUES ('manual', 'low', '${m2}'), ('manual', 'critical', '${m3}');`);
      const txId = Number(sql(`INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (${customerId}, ${productId}, 1, 3, 'paypal') RETURNING id;`));
      const c2 = sse(server, '/api/v1/stream', { ...auth('viewer'), 'Last-Event-ID': last.id });
      await c2.opened;
      const got = await waitFor(() => {
        const msgs = c2.events.filter((e) => e.event === 'alert').map((e) => e.json.message);
        const txs = c2.events.filter((e) => e.event === 'transaction').map((e) => e.json.id);
        return msgs.includes(m2) && msgs.includes(m3) && txs.includes(txId) ? { msgs, txs } : null;
      }, { timeoutMs: 3000, intervalMs: 20 });
      assert.ok(!got.msgs.includes(m1), 'the event of Last-Event-ID itself is not repeated');
      // ids only grow
      const ids = c2.events.filter((e) => e.id).map((e) => e.id.split('-').map(Number));
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i][0] >= ids[i - 1][0] && ids[i][1] >= ids[i - 1][1]);
      c2.close();
      await problem(await send(server, 'GET', '/api/v1/stream', { role: 'viewer', headers: { 'Last-Event-ID': 'garbage' } }), 422);
    });

    test('heartbeats, ?access_token= for EventSource, and a bound on clients', async () => {
      const s = await new ApiServer({ TECHMART_SSE_HEARTBEAT_S: '1', TECHMART_SSE_MAX_CLIENTS: '2' }).start();
      try {
        const a = sse(s, `/api/v1/stream?access_token=${makeToken('viewer')}`);
        const b = sse(s, '/api/v1/stream', auth('viewer'));
        assert.equal((await a.opened).statusCode, 200);
        assert.equal((await b.opened).statusCode, 200);
        await problem(await send(s, 'GET', '/api/v1/stream', { role: 'viewer' }), 503);
        await waitFor(() => a.events.some((e) => e.comment), { timeoutMs: 4000, intervalMs: 50 });
        a.close();
        b.close();
        // the closed clients free their slots
        await waitFor(async () => {
          const c = sse(s, '/api/v1/stream', auth('viewer'));
          const ok = (await c.opened).statusCode === 200;
          c.close();
          return ok;
        }, { timeoutMs: 5000, intervalMs: 300 });
      } finally {
        await s.stop();
      }
    });

    test('a stream ends when its token expires (the last chunk, then the socket closes); the token then opens none', async () => {
      const s = await new ApiServer({ TECHMART_SSE_HEARTBEAT_S: '1' }).start();
      try {
        const ttl = 3;
        const token = makeToken('viewer', { ttl });
        const exp = (Math.floor(Date.now() / 1000) + ttl) * 1000;
        const a = sse(s, `/api/v1/stream?access_token=${token}`);
        assert.equal((await a.opened).statusCode, 200);
        // before: heartbeats kept it open with the expired token for as long as the client stayed
        const end = await Promise.race([a.ended, new Promise((r) => setTimeout(() => r(null), (ttl + 6) * 1000))]);
        a.close();
        assert.ok(end, 'the stream is still open 6 s after its token expired');
        assert.equal(end.complete, true, 'the stream ends with the last chunk');
        assert.ok(end.at >= exp - 1000, `ended ${exp - end.at} ms before the token expired`);
        const b = sse(s, `/api/v1/stream?access_token=${token}`);
        assert.equal((await b.opened).statusCode, 401);
        b.close();
        // a token with time left keeps its stream
        const c = sse(s, '/api/v1/stream', auth('viewer'));
        assert.equal((await c.opened).statusCode, 200);
        const still = await Promise.race([c.ended, new Promise((r) => setTimeout(() => r(null), 1500))]);
        c.close();
        assert.equal(still, null, 'the stream of a valid token stays open');
      } finally {
        await s.stop();
      }
    });
  });

  describe('transactions', () => {
    test('list: filters, sort, pagination with total', async () => {
      const all = await (await send(server, 'GET', `/api/v1/transactions?customer_id=${customerId}&limit=1000`, { role: 'viewer' })).json();
      assert.equal(all.total, Number(sql(`SELECT count(*) FROM transactions WHERE customer_id = ${customerId}`)));
      assert.ok(all.items.every((t) => t.customer_id === customerId));
      const page = await (await send(server, 'GET', `/api/v1/transactions?limit=3&offset=2&sort=-amount&min_score=0&max_score=100`, { role: 'viewer' })).json();
      assert.equal(page.limit, 3);
      assert.equal(page.offset, 2);
      assert.equal(page.items.length, 3);
      const top = sql(`SELECT string_agg(id::text, ',' ORDER BY amount DESC, id DESC) FROM (SELECT id, amount FROM transactions ORDER BY amount DESC, id DESC LIMIT 3 OFFSET 2) s`);
      assert.equal(page.items.map((t) => t.id).join(','), top);
      const from = '2026-01-01T00:00:00Z';
      const f = await (await send(server, 'GET', `/api/v1/transactions?from=${encodeURIComponent(from)}&suspicious=true&status=completed&limit=5`, { role: 'viewer' })).json();
      assert.equal(f.total, Number(sql(`SELECT count(*) FROM transactions WHERE transaction_time >= '${from}' AND is_suspicious AND status = 'completed'`)));
      assert.ok(f.items.every((t) => t.is_suspicious && t.status === 'completed'));
      const bad = await problem(await send(server, 'GET', '/api/v1/transactions?limit=0&sort=password&from=yesterday&nope=1', { role: 'viewer' }), 422);
      assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['from', 'limit', 'nope', 'sort']);
    });

    test('suspicious list and PATCH status/label (recorded in transaction_labels)', async () => {
      const s = await (await send(server, 'GET', '/api/v1/transactions/suspicious?limit=5', { role: 'viewer' })).json();
      assert.equal(s.total, Number(sql('SELECT count(*) FROM transactions WHERE is_suspicious')));
      assert.ok(s.items.every((t) => t.is_suspicious));
      const row = await (await send(server, 'POST', '/api/v1/transactions', { body: tx() })).json();
      await problem(await send(server, 'PATCH', `/api/v1/transactions/${row.id}`, { role: 'viewer', body: { label: 'fraud' } }), 403);
      const r = await send(server, 'PATCH', `/api/v1/transactions/${row.id}`, { role: 'analyst', body: { label: 'fraud', status: 'blocked', note: 'card reported stolen' } });
      assert.equal(r.status, 200);
      const b = await r.json();
      assert.equal(b.label, 'fraud');
      assert.equal(b.status, 'blocked');
      assert.ok(b.labelled_at);
      assert.equal(sql(`SELECT label || ' ' || (labelled_at IS NOT NULL) || ' ' || labelled_by FROM transaction_labels WHERE transaction_id = ${row.id}`), 'fraud true user:1:test@example.com');
      await problem(await send(server, 'PATCH', `/api/v1/transactions/${row.id}`, { role: 'analyst', body: { label: 'maybe' } }), 422);
      await problem(await send(server, 'PATCH', '/api/v1/transactions/999999999', { role: 'analyst', body: { label: 'fraud' } }), 404);
    });

    test('CSV export streams the filtered rows', async () => {
      sql(`INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
           VALUES (${customerId}, ${productId}, 1, 5, 'paypal')`);
      const res = await send(server, 'GET', `/api/v1/transactions/export?customer_id=${customerId}&sort=id`, { role: 'viewer' });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/csv/);
      const lines = (await res.text()).trim().split('\n');
      assert.equal(lines[0], 'id,transaction_time,customer_id,product_id,quantity,unit_price,amount,status,payment_method,platform,order_number,country,fraud_score,is_suspicious,label');
      assert.equal(lines.length - 1, Number(sql(`SELECT count(*) FROM transactions WHERE customer_id = ${customerId}`)));
      assert.equal(lines.slice(1).map((l) => l.split(',')[0]).join(','), sql(`SELECT string_agg(id::text, ',' ORDER BY id) FROM transactions WHERE customer_id = ${customerId}`));
      // times and flags as the JSON of the same rows: ISO 8601 with the offset, true/false (before:
      // '2026-11-01 09:59:07+00' and t/f, which spreadsheets read as text)
      const header = lines[0].split(',');
      const json = await (await send(server, 'GET', `/api/v1/transactions?customer_id=${customerId}&sort=id&limit=1000`, { role: 'viewer' })).json();
      assert.ok(json.items.length > 0);
      assert.deepEqual(lines.slice(1).map((l) => { const c = l.split(','); return [Number(c[0]), c[header.indexOf('transaction_time')], c[header.indexOf('is_suspicious')]]; }),
        json.items.map((t) => [t.id, t.transaction_time, String(t.is_suspicious)]));
      for (const l of lines.slice(1)) assert.match(l.split(',')[1], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$/);
      const big = await send(server, 'GET', '/api/v1/transactions/export', { role: 'viewer' });
      const text = await big.text();
      assert.equal(text.trim().split('\n').length - 1, Number(sql('SELECT count(*) FROM transactions')));
      await problem(await send(server, 'GET', '/api/v1/transactions/export?min_score=abc', { role: 'viewer' }), 422);
    });
  });

  describe('alerts and inventory', () => {
    test('alerts: create, list with filters, acknowledge, resolve, status', async () => {
      const c = await send(server, 'POST', '/api/v1/alerts', { role: 'analyst', body: { type: 'manual_review', severity: 'critical', message: 'look', customer_id: customerId } });
      assert.equal(c.status, 201);
      const a = await c.json();
      assert.equal(c.headers.get('location'), `/api/v1/alerts/${a.id}`);
      const bad = await problem(await send(server, 'POST', '/api/v1/alerts', { role: 'analyst', body: { type: 'X', severity: 'huge', customer_id: 0 } }), 422);
      assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['customer_id', 'message', 'severity', 'type']);
      const list = await (await send(server, 'GET', `/api/v1/alerts?customer_id=${customerId}&severity=critical&status=open`, { role: 'viewer' })).json();
      assert.ok(list.items.some((x) => x.id === a.id));
      assert.ok(list.items.every((x) => x.severity === 'critical' && x.status === 'open'));
      const ack = await (await send(server, 'PATCH', `/api/v1/alerts/${a.id}`, { role: 'analyst', body: { status: 'acknowledged' } })).json();
      assert.equal(ack.status, 'acknowledged');
      assert.ok(ack.acknowledged_at);
      const res = await (await send(server, 'PATCH', `/api/v1/alerts/${a.id}`, { role: 'analyst', body: { status: 'resolved' } })).json();
      assert.equal(res.status, 'resolved');
      assert.ok(res.resolved_at);
      const st = await (await send(server, 'GET', '/api/v1/alerts/status', { role: 'viewer' })).json();
      assert.equal(st.by_status.resolved, Number(sql("SELECT count(*) FROM alerts WHERE status = 'resolved'")));
      assert.equal(st.total, Number(sql('SELECT count(*) FROM alerts')));
    });

    test('inventory: PUT records the reason; history; list; low stock by days of cover', async () => {
      const put = await send(server, 'PUT', `/api/v1/inventory/${productId}`, { body: { quantity: 2, reason: 'adjustment', note: 'stock take' } });
      assert.equal(put.status, 200);
      const h = await (await send(server, 'GET', `/api/v1/inventory/${productId}/history`, { role: 'viewer' })).json();
      assert.equal(h.items[0].new_quantity, 2);
      assert.equal(h.items[0].reason, 'adjustment');
      assert.equal(h.items[0].note, 'stock take');
      await problem(await send(server, 'PUT', `/api/v1/inventory/${productId}`, { body: { quantity: -1, reason: 'theft' } }), 422);
      await problem(await send(server, 'PUT', '/api/v1/inventory/999999999', { body: { quantity: 1, reason: 'restock' } }), 404);
      const low = await (await send(server, 'GET', '/api/v1/inventory/low-stock?limit=1000', { role: 'viewer' })).json();
      assert.ok(low.items.some((p) => p.product_id === productId), 'stock 2 <= threshold 10');
      assert.ok(low.items.every((p) => p.below_threshold || p.days_of_cover <= 7));
      const inv = await (await send(server, 'GET', '/api/v1/inventory?limit=5&sort=-units_sold', { role: 'viewer' })).json();
      assert.equal(inv.total, Number(sql('SELECT count(*) FROM products')));
      for (let i = 1; i < inv.items.length; i++) assert.ok(inv.items[i - 1].units_sold >= inv.items[i].units_sold);
    });
  });

  describe('catalogue and customers', () => {
    for (const [plural, make, change] of [
      ['categories', (s) => ({ name: `Cat ${s}`, description: 'd' }), { description: 'changed' }],
      ['suppliers', (s) => ({ name: `Sup ${s}`, country: 'DE', contact_email: `s${s}@example.com` }), { reliability_score: 0.5 }],
      ['products', (s) => ({ sku: `SKU-${s}`, name: `Prod ${s}`, price: 12.5 }), { price: 13 }],
    ]) {
      test(`${plural}: create 201+Location, get, update, duplicate 409, delete 204, then 404`, async () => {
        const sfx = uniqueSuffix();
        const body = make(sfx);
        const c = await send(server, 'POST', `/api/v1/${plural}`, { body });
        assert.equal(c.status, 201);
        const row = await c.json();
        assert.equal(c.headers.get('location'), `/api/v1/${plural}/${row.id}`);
        await problem(await send(server, 'POST', `/api/v1/${plural}`, { body, role: 'analyst' }), 403);
        // the conflict in words, naming the value, never the database's constraint (before, for
        // categories and suppliers: 'duplicate key value violates unique constraint "categories_name_key"')
        const key = plural === 'products' ? 'sku' : 'name';
        const dup = await problem(await send(server, 'POST', `/api/v1/${plural}`, { body }), 409);
        assert.match(dup.detail, new RegExp(`${body[key]}.*already exists`));
        assert.doesNotMatch(dup.detail, /constraint|_key/);
        const other = await (await send(server, 'POST', `/api/v1/${plural}`, { body: make(`${sfx}b`) })).json();
        const clash = await problem(await send(server, 'PUT', `/api/v1/${plural}/${other.id}`, { body: { [key]: body[key] } }), 409);
        assert.match(clash.detail, new RegExp(`${body[key]}.*already exists`));
        assert.doesNotMatch(clash.detail, /constraint|_key/);
        assert.equal((await send(server, 'DELETE', `/api/v1/${plural}/${other.id}`)).status, 204);
        assert.equal((await send(server, 'GET', `/api/v1/${plural}/${row.id}`, { role: 'viewer' })).status, 200);
        const u = await send(server, 'PUT', `/api/v1/${plural}/${row.id}`, { body: change });
        assert.equal(u.status, 200);
        const ub = await u.json();
        for (const [k, v] of Object.entries(change)) assert.equal(Number.isFinite(v) ? Number(ub[k]) : ub[k], v);
        await problem(await send(server, 'PUT', `/api/v1/${plural}/${row.id}`, { body: { bogus: 1 } }), 422);
        const list = await (await send(server, 'GET', `/api/v1/${plural}?limit=2&offset=0`, { role: 'viewer' })).json();
        assert.equal(list.total, Number(sql(`SELECT count(*) FROM ${plural}`)));
        assert.ok(list.items.length <= 2);
        const d = await send(server, 'DELETE', `/api/v1/${plural}/${row.id}`);
        assert.equal(d.status, 204);
        await problem(await send(server, 'GET', `/api/v1/${plural}/${row.id}`, { role: 'viewer' }), 404);
        await problem(await send(server, 'DELETE', `/api/v1/${plural}/${row.id}`), 404);
      });
    }

    test('a delete refused by a reference is 409; unknown references are 422', async () => {
      const used = sql('SELECT category_id FROM products WHERE category_id IS NOT NULL LIMIT 1');
      await problem(await send(server, 'DELETE', `/api/v1/categories/${used}`), 409);
      await problem(await send(server, 'DELETE', `/api/v1/products/${productId}`), 409);
      const p = await problem(await send(server, 'POST', '/api/v1/products', { body: { sku: `S-${uniqueSuffix()}`, name: 'x', price: 1, category_id: 999999999 } }), 422);
      assert.equal(p.errors[0].field, 'category_id');
    });

    test('customers: list, detail with stats, create, duplicate e-mail 409, update', async () => {
      const list = await (await send(server, 'GET', '/api/v1/customers?country=DE&limit=5&sort=-risk_score', { role: 'viewer' })).json();
      assert.equal(list.total, Number(sql("SELECT count(*) FROM customers WHERE country = 'DE'")));
      assert.ok(list.items.every((c) => c.country === 'DE'));
      const d = await (await send(server, 'GET', `/api/v1/customers/${customerId}`, { role: 'viewer' })).json();
      assert.equal(d.stats.transactions, Number(sql(`SELECT count(*) FROM transactions WHERE customer_id = ${customerId}`)));
      const email = `c-${uniqueSuffix()}@example.com`;
      const c = await send(server, 'POST', '/api/v1/customers', { body: { email, name: 'New Customer', country: 'FR', city: 'Lyon' } });
      assert.equal(c.status, 201);
      const row = await c.json();
      await problem(await send(server, 'POST', '/api/v1/customers', { body: { email: email.toUpperCase(), name: 'Dup', country: 'FR' } }), 409);
      const u = await (await send(server, 'PUT', `/api/v1/customers/${row.id}`, { body: { city: 'Paris' } })).json();
      assert.equal(u.city, 'Paris');
      assert.equal(u.email, email);
      // ?q= is a case-insensitive substring taken literally: % and _ are no wildcards (before: q=%
      // and q=_ matched every customer and product, q=a_b matched axb)
      for (const [plural, cols] of [['customers', ['name', 'email']], ['products', ['name', 'sku']]]) {
        for (const q of ['%', '_', 'e_', 'E-0']) {
          const got = await (await send(server, 'GET', `/api/v1/${plural}?q=${encodeURIComponent(q)}&limit=1`, { role: 'viewer' })).json();
          const lit = q.replace(/'/g, "''");
          const want = Number(sql(`SELECT count(*) FROM ${plural} WHERE ${cols.map((c) => `strpos(lower(${c}), lower('${lit}')) > 0`).join(' OR ')}`));
          assert.equal(got.total, want, `${plural}?q=${q}`);
        }
      }
      const bad = await problem(await send(server, 'POST', '/api/v1/customers', { body: { email: 'nope', country: 'France', home_lat: 91 } }), 422);
      assert.deepEqual([...new Set(bad.errors.map((e) => e.field))].sort(), ['country', 'email', 'home_lat', 'name']);
    });
  });

  describe('fuzz', () => {
    test('malformed input yields only 4xx: no 5xx, no crash', async () => {
      const bodies = ['{', '[]', 'null', '"x"', '{"a":', '{"quantity":1e400}', '{"customer_id":99999999999999999999999}',
        '{"customer_id":"1 OR 1=1"}', '{"name":"\'; DROP TABLE products; --"}', '{"email":"\u0000@x.y"}', '{"x":"\ud800"}',
        JSON.stringify({ name: 'ü'.repeat(5000), price: -1 }), '{"price":1.23456789,"sku":"é"}', '\xff\xfe', '{"quantity":[1],"payment_method":{}}',
        JSON.stringify({ customer_id: 1.5, product_id: true, quantity: '2', payment_method: 'paypal', latitude: 1e308, longitude: 'x', transaction_time: '9999-99-99T99:99:99Z' })];
      const queries = ['limit=-1', 'limit=99999999999999999999', 'offset=abc', 'sort=-', 'sort=id;DROP', 'from=2026-13-45', "country=G'B",
        'min_score=NaN', 'min_score=1e999', 'suspicious=maybe', 'customer_id=0x10', 'q=%00', 'q=%ZZ', 'status[]=x', 'limit=1&limit=2', 'category_id=1%20OR%201=1'];
      const targets = [
        ['POST', '/api/v1/transactions'], ['PATCH', '/api/v1/transactions/1'], ['POST', '/api/v1/alerts'], ['PATCH', '/api/v1/alerts/1'],
        ['PUT', '/api/v1/inventory/1'], ['POST', '/api/v1/products'], ['PUT', '/api/v1/products/1'], ['POST', '/api/v1/categories'],
        ['POST', '/api/v1/suppliers'], ['POST', '/api/v1/customers'], ['PUT', '/api/v1/customers/1'], ['POST', '/api/v1/auth/login'],
        ['POST', '/api/v1/auth/register'], ['POST', '/api/v1/auth/verify-email'],
      ];
      const lists = ['/api/v1/transactions', '/api/v1/transactions/suspicious', '/api/v1/alerts', '/api/v1/inventory', '/api/v1/inventory/low-stock',
        '/api/v1/products', '/api/v1/categories', '/api/v1/suppliers', '/api/v1/customers', '/api/v1/transactions/export', '/api/v1/inventory/1/history'];
      const seen = [];
      for (const [method, path] of targets) {
        for (const b of bodies) {
          const r = await send(server, method, path, { body: b });
          seen.push([r.status, method, path, b]);
          await r.arrayBuffer();
        }
      }
      for (const l of lists) {
        for (const q of queries) {
          const r = await send(server, 'GET', `${l}?${q}`, { role: 'viewer' });
          seen.push([r.status, 'GET', l, q]);
          await r.arrayBuffer();
        }
      }
      for (const p of ['/api/v1/transactions/%27', '/api/v1/products/-1', '/api/v1/customers/99999999999999999999', '/api/v1/alerts/1e3', '/api/v1/transactions/%00']) {
        const r = await send(server, 'GET', p, { role: 'viewer' });
        seen.push([r.status, 'GET', p, '']);
        await r.arrayBuffer();
      }
      // oversized header
      const big = await server.raw('/api/v1/transactions/recent', { headers: { 'X-Big': 'a'.repeat(20000) } }).catch((e) => ({ status: 431, error: e }));
      seen.push([big.status, 'GET', 'big header', '']);
      const bad = seen.filter(([s]) => s >= 500 || s < 400 && s !== 200 && s !== 201 && s !== 204);
      assert.deepEqual(bad, [], 'only 2xx/4xx');
      assert.ok(seen.filter(([s]) => s >= 400).length > seen.length / 2, 'most are refused');
      assert.equal((await server.fetch('/health')).status, 200, 'still alive');
    });
  });
}
