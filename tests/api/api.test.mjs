// API tests for techmart-api: they start the real binary against a real database.
//
//   TECHMART_API_BIN=build/api/techmart-api TECHMART_DATABASE_URL=... node --test tests/api/
//
// Optional: PSQL (psql command line for the same database), TECHMART_TEST_PG_STOP and
// TECHMART_TEST_PG_START (shell commands that stop/start the cluster; the restart test is skipped
// without them). Everything runs in this one file, in order, because the last test stops and
// restarts the database.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiServer, makeToken, postJson, requireEnv, sql, uniqueSuffix, waitFor } from './lib/harness.mjs';
import { featureTests } from './lib/features.mjs';
import { analyticsTests } from './lib/analytics.mjs';
import { docsTests } from './lib/docs.mjs';
import { opsTests } from './lib/ops.mjs';
import { privacyTests } from './lib/privacy.mjs';
import { exportTests } from './lib/export.mjs';
import { clientEdgeTests } from './lib/client_edges.mjs';
import { consistencyTests } from './lib/consistency.mjs';
import { pagingTests } from './lib/paging.mjs';
import { sessionTests } from './lib/sessions.mjs';
import { stockTests } from './lib/stock.mjs';

requireEnv();

const MAX_BODY = 65536;
let server;
let customerId;
let productId;

async function assertProblem(res, status) {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = await res.json();
  assert.equal(body.status, status);
  for (const k of ['type', 'title', 'detail', 'instance', 'request_id']) {
    assert.equal(typeof body[k], 'string', `problem field ${k}`);
  }
  assert.equal(body.request_id, res.headers.get('x-request-id'));
  return body;
}

function validTransaction(extra = {}) {
  return {
    customer_id: customerId,
    product_id: productId,
    quantity: 2,
    unit_price: 12.345,
    payment_method: 'credit_card',
    country: 'GB',
    latitude: 51.5,
    longitude: -0.12,
    ...extra,
  };
}

before(async () => {
  // Our own customer and product, so the tests do not depend on seed data.
  const sfx = uniqueSuffix();
  // ids from the sequences, moved past any id set explicitly before (an explicit id behind the sequence makes a
  // later INSERT of another suite collide with it)
  for (const t of ['customers', 'products']) {
    sql(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM ${t}), false);`);
  }
  customerId = Number(
    sql(`INSERT INTO customers (email, name, country)
         VALUES ('api-test-${sfx}@example.com', 'API Test ${sfx}', 'GB') RETURNING id;`),
  );
  productId = Number(
    sql(`INSERT INTO products (sku, name, price, stock_quantity)
         VALUES ('API-TEST-${sfx}', 'API test product', 12.345, 1000) RETURNING id;`),
  );
  assert.ok(customerId > 0 && productId > 0);
  server = await new ApiServer({ TECHMART_MAX_BODY_BYTES: String(MAX_BODY) }).start();
  server.authToken = makeToken('admin');
});

after(async () => {
  if (server) await server.stop('SIGKILL');
});

describe('health', () => {
  test('GET /health is 200 with the database status', async () => {
    const res = await server.fetch('/health');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const body = await res.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.database.database, 'up');
    assert.equal(typeof body.database.server_version, 'string');
  });
});

describe('transactions', () => {
  let created;
  let location;

  test('POST a valid transaction: 201, Location and the scored row', async () => {
    const res = await postJson(server, '/api/v1/transactions', validTransaction());
    assert.equal(res.status, 201);
    location = res.headers.get('location');
    created = await res.json();
    assert.equal(location, `/api/v1/transactions/${created.id}`);
    assert.ok(Number.isInteger(created.id) && created.id > 0);
    assert.equal(created.customer_id, customerId);
    assert.equal(created.product_id, productId);
    assert.equal(created.quantity, 2);
    assert.equal(Number(created.amount), 24.69); // quantity * unit_price, kept exact
    assert.equal(typeof created.fraud_score, 'number');
    assert.ok(created.fraud_score >= 0 && created.fraud_score <= 100);
    assert.ok(Array.isArray(created.fraud_reasons));
    assert.equal(typeof created.is_suspicious, 'boolean');
  });

  test('GET the Location returns the same row', async () => {
    const res = await server.fetch(location);
    assert.equal(res.status, 200);
    const { explanation, ...row } = await res.json();
    assert.deepEqual(row, created);
    // the detail adds how the score was built: the reasons, then "= score"
    assert.ok(Array.isArray(explanation));
    assert.equal(explanation.length, created.fraud_reasons.length + 1);
    assert.deepEqual(explanation.slice(0, -1).map((e) => e.rule), created.fraud_reasons.map((r) => r.rule));
    assert.equal(explanation.at(-1).rule, '= score');
    assert.equal(explanation.at(-1).contribution, Number(created.fraud_score));
  });

  test('recent lists the new transaction first', async () => {
    const res = await server.fetch('/api/v1/transactions/recent?limit=5');
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.limit, 5);
    assert.ok(body.count >= 1 && body.count <= 5);
    assert.equal(body.items.length, body.count);
    assert.equal(body.items[0].id, created.id);
  });

  test('recent with an invalid limit is 422 with a field error', async () => {
    for (const limit of ['0', '501', 'abc', '-1', '1.5', '']) {
      const res = await server.fetch(`/api/v1/transactions/recent?limit=${limit}`);
      const body = await assertProblem(res, 422);
      assert.deepEqual(
        body.errors.map((e) => e.field),
        ['limit'],
        `limit=${limit}`,
      );
    }
  });

  test('an unknown or non-numeric id is 404 problem+json', async () => {
    await assertProblem(await server.fetch('/api/v1/transactions/9223372036854775807'), 404);
    await assertProblem(await server.fetch('/api/v1/transactions/abc'), 404);
    await assertProblem(await server.fetch('/api/v1/transactions/99999999999999999999'), 404);
  });

  test('malformed JSON is 400 problem+json', async () => {
    const body = await assertProblem(
      await postJson(server, '/api/v1/transactions', '{"customer_id": 1,'),
      400,
    );
    assert.match(body.detail, /JSON/);
    await assertProblem(await postJson(server, '/api/v1/transactions', ''), 400);
  });

  test('a JSON body that is not an object is 422', async () => {
    const body = await assertProblem(await postJson(server, '/api/v1/transactions', '[1,2]'), 422);
    assert.ok(Array.isArray(body.errors) && body.errors.length === 1);
  });

  test('valid JSON that PostgreSQL cannot take (deep nesting, \\u0000) is 422 with a field error, never 500; a byte order mark is ignored', async () => {
    // nesting deep enough to exhaust the database's max_stack_depth: was a 500, on a public route too
    const deep = `{"email":${'['.repeat(30000)}${']'.repeat(30000)}}`;
    for (const path of ['/api/v1/auth/login', '/api/v1/transactions']) {
      const body = await assertProblem(await postJson(server, path, deep), 422);
      assert.deepEqual(body.errors.map((e) => e.field), [''], path);
      assert.match(body.errors[0].message, /nest/);
    }
    // jsonb stores no NUL character: was a 422 with PostgreSQL's message and no field error
    const nul = await assertProblem(await postJson(server, '/api/v1/transactions', '{"order_number":"a\\u0000b"}'), 422);
    assert.deepEqual(nul.errors.map((e) => e.field), ['']);
    assert.match(nul.errors[0].message, /u0000/);
    // an escaped backslash before u0000 is ordinary text: the request gets its usual field errors
    const text = await assertProblem(await postJson(server, '/api/v1/transactions', '{"order_number":"a\\\\u0000b"}'), 422);
    assert.ok(text.errors.some((e) => e.field === 'customer_id'), JSON.stringify(text.errors));
    // RFC 8259 lets a parser ignore a UTF-8 byte order mark (some Windows tools write one): was a 422
    const res = await postJson(server, '/api/v1/transactions', `\uFEFF${JSON.stringify(validTransaction())}`);
    assert.equal(res.status, 201, await res.text());
  });

  test('wrong types and missing fields are 422 with every field error', async () => {
    const res = await postJson(server, '/api/v1/transactions', {
      customer_id: 'seven',
      quantity: -1,
      unit_price: 'free',
      surprise: true,
    });
    const body = await assertProblem(res, 422);
    const fields = body.errors.map((e) => e.field).sort();
    for (const f of ['customer_id', 'payment_method', 'product_id', 'quantity', 'surprise', 'unit_price']) {
      assert.ok(fields.includes(f), `expected a field error for ${f}, got ${fields}`);
    }
    for (const e of body.errors) assert.equal(typeof e.message, 'string');
  });

  test('an unknown customer is 422 naming customer_id', async () => {
    const res = await postJson(
      server,
      '/api/v1/transactions',
      validTransaction({ customer_id: 9007199254740991 }),
    );
    const body = await assertProblem(res, 422);
    assert.deepEqual(
      body.errors.map((e) => e.field),
      ['customer_id'],
    );
  });

  test('a wrong or missing Content-Type is 415', async () => {
    const payload = JSON.stringify(validTransaction());
    await assertProblem(
      await server.fetch('/api/v1/transactions', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: payload,
      }),
      415,
    );
    const res = await server.raw('/api/v1/transactions', { method: 'POST', body: payload });
    assert.equal(res.status, 415);
    assert.match(res.headers['content-type'], /^application\/problem\+json/);
    // application/json with a charset parameter is fine
    const ok = await server.fetch('/api/v1/transactions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: payload,
    });
    assert.equal(ok.status, 201);
  });

  test('parallel inserts all succeed (more requests than pooled connections)', async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, () => postJson(server, '/api/v1/transactions', validTransaction())),
    );
    const ids = [];
    for (const res of results) {
      assert.equal(res.status, 201);
      ids.push((await res.json()).id);
    }
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('HTTP conventions', () => {
  test('unknown path is 404 problem+json', async () => {
    const body = await assertProblem(await server.fetch('/api/v1/nope'), 404);
    assert.equal(body.instance, '/api/v1/nope');
  });

  test('known path with a wrong method is 405 with Allow', async () => {
    let res = await server.fetch('/api/v1/transactions', { method: 'DELETE' });
    assert.equal(res.headers.get('allow'), 'GET, HEAD, POST');
    await assertProblem(res, 405);
    res = await server.fetch('/api/v1/transactions/recent', { method: 'DELETE' });
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    await assertProblem(res, 405);
    res = await server.fetch('/health', { method: 'POST' });
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    await assertProblem(res, 405);
    // the streamed responses (CSV export, live stream) have no HEAD
    res = await server.fetch('/api/v1/transactions/export', { method: 'HEAD' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
  });

  test('a body over the limit is 413 problem+json', async () => {
    const big = JSON.stringify({ ...validTransaction(), device_id: 'x'.repeat(MAX_BODY) });
    assert.ok(big.length > MAX_BODY);
    const body = await assertProblem(await postJson(server, '/api/v1/transactions', big), 413);
    assert.match(body.detail, new RegExp(String(MAX_BODY)));
    // and the server is fine afterwards
    assert.equal((await server.fetch('/health')).status, 200);
  });

  test('a body far over the limit is refused with 413 and nothing is stored', async () => {
    const before = sql('SELECT count(*) FROM transactions');
    const huge = JSON.stringify({ ...validTransaction(), device_id: 'y'.repeat(4 * MAX_BODY) });
    const res = await server.raw('/api/v1/transactions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Connection: 'close' },
      body: huge,
    }).catch((e) => ({ error: e }));
    // beyond the parser buffer (max body + 16 KiB) the 413 comes from our onInput (problem+json,
    // Connection: close); the rest of the body is read and dropped
    assert.equal(res.error, undefined);
    assert.equal(res.status, 413);
    assert.match(res.headers['content-type'], /^application\/problem\+json/);
    assert.equal(res.headers.connection, 'close');
    assert.equal(sql('SELECT count(*) FROM transactions'), before);
    assert.equal((await server.fetch('/health')).status, 200);
  });

  test('X-Request-Id: a sane incoming id is echoed, otherwise one is generated', async () => {
    let res = await server.fetch('/health', { headers: { 'X-Request-Id': 'test-req-42.a_b:c' } });
    assert.equal(res.headers.get('x-request-id'), 'test-req-42.a_b:c');
    res = await server.fetch('/health', { headers: { 'X-Request-Id': 'bad id <script>' } });
    const generated = res.headers.get('x-request-id');
    assert.match(generated, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    res = await server.fetch('/api/v1/nope');
    const id = res.headers.get('x-request-id');
    assert.ok(id && id !== generated);
    assert.equal((await res.json()).request_id, id);
  });

  test('every request is logged as one JSON line with its request id', async () => {
    const id = `log-check-${uniqueSuffix()}`;
    await server.fetch('/api/v1/transactions/recent?limit=1', { headers: { 'X-Request-Id': id } });
    const entry = await waitFor(() => server.logs.find((l) => l.request_id === id && l.msg === 'request'));
    assert.equal(entry.method, 'GET');
    assert.equal(entry.path, '/api/v1/transactions/recent');
    assert.equal(entry.status, 200);
    assert.equal(typeof entry.duration_ms, 'number');
    assert.equal(typeof entry.ts, 'string');
    assert.ok(!server.logs.some((l) => l.unparsable), 'every stderr line is JSON');
  });

  test('HTTP/1.1 keep-alive: the header says keep-alive and the socket is reused', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await server.raw('/health', { agent });
      const b = await server.raw('/api/v1/nope', { agent });
      assert.equal(a.headers.connection, 'keep-alive');
      assert.equal(b.headers.connection, 'keep-alive');
      assert.equal(a.socket, b.socket);
      // a client that asks to close gets "close" and an EOF
      const c = await server.raw('/health', { headers: { Connection: 'close' } });
      assert.equal(c.headers.connection, 'close');
    } finally {
      agent.destroy();
    }
  });
});

describe('static files', () => {
  let staticServer;
  let dir;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'techmart-static-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>TechMart</title>');
    fs.mkdirSync(path.join(dir, 'js'));
    fs.writeFileSync(path.join(dir, 'js', 'app.js'), 'console.log(1);');
    fs.writeFileSync(path.join(os.tmpdir(), 'techmart-secret.txt'), 'TOP-SECRET-CONTENT');
    staticServer = await new ApiServer({ TECHMART_STATIC_DIR: dir }).start();
  });
  after(async () => {
    if (staticServer) await staticServer.stop('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('serves index.html at / and files with their MIME type', async () => {
    let res = await staticServer.fetch('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    assert.match(await res.text(), /TechMart/);
    res = await staticServer.fetch('/js/app.js');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/javascript/);
  });

  test('HEAD is GET without the body: static files and API routes, and the connection stays in step', async () => {
    // two requests, one after the other, on one connection: before, HEAD / sent index.html after its
    // headers, which the client then read as the start of the next response; API routes and /health
    // answered 405
    const text = await new Promise((resolve, reject) => {
      const sock = net.connect(staticServer.port, '127.0.0.1');
      let data = '';
      let second = false;
      sock.setEncoding('latin1');
      sock.on('data', (d) => {
        data += d;
        // the next request once the HEAD response's headers are in, after time for a stray body
        if (!second && data.includes('\r\n\r\n')) {
          second = true;
          setTimeout(() => sock.write('GET /js/app.js HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'), 300);
        }
      });
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
      sock.setTimeout(5000, () => { sock.destroy(); resolve(data); });
      sock.write('HEAD / HTTP/1.1\r\nHost: t\r\n\r\n');
    });
    const first = text.indexOf('\r\n\r\n');
    assert.match(text.slice(0, first), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text.slice(0, first), /\r\nContent-Type: text\/html/i);
    const len = fs.statSync(path.join(dir, 'index.html')).size;
    assert.match(text.slice(0, first), new RegExp(`\\r\\nContent-Length: ${len}(\\r|$)`, 'i'));
    assert.equal((text.slice(0, first).match(/content-length/gi) ?? []).length, 1, 'one Content-Length');
    const rest = text.slice(first + 4);
    assert.match(rest, /^HTTP\/1\.1 200 OK\r\n/, `after the HEAD response: ${JSON.stringify(rest.slice(0, 60))}`);
    assert.match(rest, /console\.log\(1\);$/);
    // API routes: the GET's status and headers, no body
    let res = await staticServer.fetch('/health', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
    const auth = { Authorization: `Bearer ${makeToken('viewer')}` };
    res = await staticServer.fetch('/api/v1/transactions?limit=1', { method: 'HEAD', headers: auth });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const get = await staticServer.fetch('/api/v1/categories?limit=1', { headers: auth });
    res = await staticServer.fetch('/api/v1/categories?limit=1', { method: 'HEAD', headers: auth });
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(await get.text()));
    // errors too: 401 without a token, 422 for a bad query, with the problem's headers
    res = await staticServer.fetch('/api/v1/transactions', { method: 'HEAD' });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('content-type'), /^application\/problem\+json/);
    res = await staticServer.fetch('/api/v1/transactions?limit=0', { method: 'HEAD', headers: auth });
    assert.equal(res.status, 422);
  });

  test('rejects .. and missing files with 404 problem+json; the API still works', async () => {
    for (const p of ['/../techmart-secret.txt', '/js/../../techmart-secret.txt', '/missing.css']) {
      const res = await staticServer.raw(p);
      assert.equal(res.status, 404, p);
      assert.match(res.headers['content-type'], /^application\/problem\+json/);
      assert.doesNotMatch(res.body, /TOP-SECRET-CONTENT/);
    }
    assert.equal((await staticServer.fetch('/health')).status, 200);
  });
});

// Last: stops and restarts PostgreSQL under the running API, which must recover by itself.
// auth, roles, idempotency, limits, CORS, metrics, docs, SSE, endpoints, fuzz (lib/features.mjs);
// here, before the database restart, because test files run in parallel
featureTests(() => server);
analyticsTests(() => server);
docsTests(() => server);
opsTests(() => server);
privacyTests(() => server);
exportTests(() => server);
clientEdgeTests(() => server);
consistencyTests(() => server);
pagingTests(() => server);
sessionTests(() => server);
stockTests(() => server);

describe('database restart', () => {
  const stop = process.env.TECHMART_TEST_PG_STOP;
  const start = process.env.TECHMART_TEST_PG_START;
  const skip = !stop || !start ? 'TECHMART_TEST_PG_STOP/START not set' : false;
  let stopped = false;

  after(() => {
    // Whatever happened, leave the database running.
    if (stopped) execSync(start, { stdio: 'ignore' });
  });

  test('503 while the database is down, back to normal after it returns, same process', { skip }, async () => {
    assert.equal((await server.fetch('/health')).status, 200);
    const pid = server.proc.pid;

    execSync(stop, { stdio: 'ignore' });
    stopped = true;

    const t0 = Date.now();
    const health = await server.fetch('/health');
    assert.equal(health.status, 503);
    assert.match(health.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await health.json(), { status: 'degraded', database: 'down' });
    const post = await postJson(server, '/api/v1/transactions', validTransaction());
    const problem = await assertProblem(post, 503);
    assert.ok(post.headers.get('retry-after'));
    assert.doesNotMatch(problem.detail, /socket|SELECT|api\./);
    await assertProblem(await server.fetch('/api/v1/transactions/recent'), 503);
    assert.ok(Date.now() - t0 < 10000, 'answers come quickly while the database is down');

    execSync(start, { stdio: 'ignore' });
    stopped = false;

    await waitFor(async () => (await server.fetch('/health')).status === 200);
    const res = await postJson(server, '/api/v1/transactions', validTransaction());
    assert.equal(res.status, 201);
    const row = await res.json();
    assert.equal((await server.fetch(`/api/v1/transactions/${row.id}`)).status, 200);
    assert.equal(server.proc.pid, pid);
    assert.equal(server.exit, null, 'the API process kept running');
  });
});

describe('shutdown', () => {
  test('SIGINT stops the server cleanly with exit code 0', async () => {
    const s = await new ApiServer().start();
    assert.equal((await s.fetch('/health')).status, 200);
    const { code, signal } = await s.stop('SIGINT');
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.ok(s.logs.some((l) => l.msg === 'stopped'));
  });

  test('SIGTERM stops the main server cleanly with exit code 0', async () => {
    const { code } = await server.stop('SIGTERM');
    assert.equal(code, 0);
  });
});
