// Hostile input against the real techmart-api (suite `security` of ./techmart test): forged and
// misused JWTs, SQL-looking strings in every kind of parameter, path traversal on static files,
// headers and bodies over the limits, malformed requests — all refused cleanly (4xx, problem+json
// where we answer, never a 500, the server stays up, the database unchanged). Plus valgrind
// memcheck of the API under a short load (no definite leak).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync, spawnSync } from 'node:child_process';
import { requireEnv, ApiServer, makeToken, sql, JWT_SECRET } from '../api/lib/harness.mjs';

requireEnv();

let server;
let staticDir;
const SECRET_TEXT = 'SECRET-OUTSIDE-STATIC-ROOT';

before(async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'techmart-sec-'));
  staticDir = path.join(base, 'www');
  fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<html>dashboard</html>');
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(staticDir, '.env'), SECRET_TEXT);
  fs.writeFileSync(path.join(base, 'secret.txt'), SECRET_TEXT);
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(staticDir, 'link.txt'));
  // the valid POSTs below sell product 1: enough stock for them (sales take their units, change stock_sales)
  sql('UPDATE products SET stock_quantity = greatest(stock_quantity, 1000000) WHERE id = 1;');
  server = await new ApiServer({ TECHMART_STATIC_DIR: staticDir, TECHMART_MAX_BODY_BYTES: '65536' }).start();
});
after(async () => {
  await server?.stop();
});

const bearer = (t) => ({ Authorization: `Bearer ${t}` });

async function isProblem(res, statuses) {
  const body = await res.text();
  assert.ok(statuses.includes(res.status), `status ${res.status} not in ${statuses}: ${body.slice(0, 300)}`);
  if (res.status >= 400) {
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    // (a 2xx may echo stored data that looks like SQL; an error never shows SQL or internals)
    assert.doesNotMatch(body, /syntax error|pqxx|PL\/pgSQL|api\.\w+\(|SQLSTATE/i, 'no SQL or internals in the answer');
  }
  return body;
}

// A raw exchange on one socket; resolves with what the server sent before closing (or 2 s).
function rawExchange(payload, { waitMs = 2000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(server.port, '127.0.0.1');
    let data = '';
    const done = () => {
      sock.destroy();
      resolve(data);
    };
    sock.on('data', (c) => (data += c.toString('latin1')));
    sock.on('error', done);
    sock.on('close', done);
    sock.on('connect', () => sock.write(payload));
    setTimeout(done, waitMs);
  });
}

async function stillUp() {
  assert.equal((await fetch(`${server.base}/health`)).status, 200, 'the API is still up');
  assert.equal(server.exit, null);
}

describe('JWT', () => {
  const route = '/api/v1/transactions/recent?limit=1';
  test('alg none, wrong signature, expired, not yet valid, unknown role, foreign issuer: 401', async () => {
    const unsigned = (t) => t.split('.').slice(0, 2).join('.') + '.';
    const cases = {
      'alg none': unsigned(makeToken('admin', { header: { alg: 'none' } })),
      'alg none with signature': makeToken('admin', { header: { alg: 'none' } }),
      'alg HS512': makeToken('admin', { header: { alg: 'HS512' } }),
      'wrong secret': makeToken('admin', { secret: `${JWT_SECRET}-not` }),
      'payload swapped': (() => {
        const a = makeToken('viewer').split('.');
        const b = makeToken('admin').split('.');
        return `${a[0]}.${b[1]}.${a[2]}`;
      })(),
      expired: makeToken('admin', { ttl: -60 }),
      'not yet valid': makeToken('admin', { claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }),
      'unknown role': makeToken('superuser'),
      'foreign issuer': makeToken('admin', { claims: { iss: 'evil' } }),
      'no exp': makeToken('admin', { claims: { exp: undefined } }),
      'sql in sub': makeToken('admin', { claims: { sub: "1' OR '1'='1" } }),
      garbage: 'a.b.c',
      empty: '',
      huge: 'x'.repeat(5000),
    };
    for (const [name, tok] of Object.entries(cases)) {
      const res = await fetch(server.base + route, { headers: bearer(tok) });
      await isProblem(res, [401]);
      assert.ok(res.status === 401, name);
    }
  });

  test("another role's claims: a viewer cannot act as analyst or admin (403)", async () => {
    const v = makeToken('viewer');
    await isProblem(await fetch(`${server.base}/api/v1/transactions`, { method: 'POST', headers: { ...bearer(v), 'Content-Type': 'application/json' }, body: '{}' }), [403]);
    await isProblem(await fetch(`${server.base}/api/v1/users`, { headers: bearer(v) }), [403]);
    await isProblem(await fetch(`${server.base}/api/v1/alerts/1`, { method: 'PATCH', headers: { ...bearer(v), 'Content-Type': 'application/json' }, body: '{"status":"resolved"}' }), [403]);
    const a = makeToken('analyst');
    await isProblem(await fetch(`${server.base}/api/v1/users`, { headers: bearer(a) }), [403]);
  });
});

describe('SQL-looking strings in every parameter', () => {
  const evil = ["' OR '1'='1", "1; DROP TABLE transactions; --", "1' UNION SELECT password_hash FROM users --",
    '$$; SELECT pg_sleep(5); $$', "\\'; COPY transactions TO '/tmp/x'; --", '%27%20OR%201%3D1', '\u0000', '😀\'"'];
  let before;
  test('query strings, path ids, JSON fields and headers: 2xx/4xx, never 500; nothing changed', async () => {
    before = sql('SELECT count(*) FROM transactions;') + '/' + sql('SELECT count(*) FROM users;');
    const admin = makeToken('admin');
    const lists = ['/api/v1/transactions', '/api/v1/transactions/suspicious', '/api/v1/alerts', '/api/v1/inventory',
      '/api/v1/customers', '/api/v1/products', '/api/v1/transactions/recent'];
    const params = ['limit', 'offset', 'status', 'customer_id', 'from', 'to', 'q', 'sort', 'country', 'min_amount'];
    for (const e of evil) {
      const enc = encodeURIComponent(e);
      for (const l of lists) {
        for (const p of params) {
          const res = await fetch(`${server.base}${l}?${p}=${enc}`, { headers: bearer(admin) });
          await isProblem(res, [200, 400, 404, 422]);
        }
        await isProblem(await fetch(`${server.base}${l}/${enc}`, { headers: bearer(admin) }), [400, 404, 405, 422]);
      }
      for (const field of ['customer_id', 'product_id', 'quantity', 'payment_method', 'order_number', 'country', 'ip_address', 'transaction_time']) {
        const body = { customer_id: 1, product_id: 1, quantity: 1, payment_method: 'paypal', [field]: e };
        const res = await fetch(`${server.base}/api/v1/transactions`, { method: 'POST', headers: { ...bearer(admin), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        await isProblem(res, [201, 400, 422]);
      }
      for (const h of ['Idempotency-Key', 'X-Request-Id', 'Last-Event-ID', 'Origin']) {
        const v = e.replace(/[^\x20-\x7e]/g, '?');
        const res = await fetch(`${server.base}/api/v1/transactions/recent?limit=1`, { headers: { ...bearer(admin), [h]: v } });
        await isProblem(res, [200, 400, 422]);
      }
      await isProblem(await fetch(`${server.base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: e, password: e }) }), [400, 401, 422, 429]);
    }
    assert.equal(sql('SELECT to_regclass(\'public.transactions\') IS NOT NULL;'), 't');
    // only rows stored as data by the POSTs above may have been added; none removed
    const [t0, u0] = before.split('/').map(Number);
    assert.ok(Number(sql('SELECT count(*) FROM transactions;')) >= t0);
    assert.equal(Number(sql('SELECT count(*) FROM users;')), u0);
    await stillUp();
  });
});

describe('static files', () => {
  test('path traversal, encoded dots, symlinks out, hidden files: 404 and never the secret', async () => {
    assert.equal(await (await fetch(`${server.base}/assets/app.js`)).text(), 'console.log(1)');
    const paths = ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/assets/../../secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt', '/.env', '/%2eenv', '/link.txt', '//etc/passwd', '/..\\secret.txt', '/%00/index.html',
      '/assets/app.js%00.html', `/${'a/'.repeat(2000)}x`, '/%c0%ae%c0%ae/secret.txt'];
    for (const p of paths) {
      const raw = await rawExchange(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const status = Number(raw.slice(9, 12));
      assert.ok([400, 404].includes(status), `${p}: ${raw.slice(0, 80)}`);
      assert.ok(!raw.includes(SECRET_TEXT), `${p} leaked the secret`);
      assert.ok(!raw.includes('root:x:0'), `${p} leaked /etc/passwd`);
    }
    await stillUp();
  });
});

describe('limits and malformed requests', () => {
  test('bodies over TECHMART_MAX_BODY_BYTES: 413 problem; far over: refused, server up', async () => {
    const admin = makeToken('admin');
    const big = JSON.stringify({ customer_id: 1, product_id: 1, quantity: 1, payment_method: 'paypal', order_number: 'x'.repeat(70000) });
    await isProblem(await fetch(`${server.base}/api/v1/transactions`, { method: 'POST', headers: { ...bearer(admin), 'Content-Type': 'application/json' }, body: big }), [413]);
    const huge = 'x'.repeat(2 * 1024 * 1024);
    const raw = await rawExchange(`POST /api/v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${huge.length}\r\n\r\n${huge}`);
    assert.match(raw, /^HTTP\/1\.1 413/);
    // answered by ApiHandler::onInput (beyond Pistache's parser buffer): problem+json too
    assert.match(raw, /\r\nContent-Type: application\/problem\+json\r\n/);
    await stillUp();
  });

  test('headers over the limits, many headers, malformed request lines and headers: 4xx or closed, never 500', async () => {
    const cases = {
      'header 64 KiB': `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      'header 1 MiB': `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1024 * 1024)}\r\n\r\n`,
      '5000 headers': `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
      'auth header 100 KiB': `GET /api/v1/transactions/recent HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(100 * 1024)}\r\n\r\n`,
      'bad method': 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n',
      'bad version': 'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
      'no version': 'GET /\r\n\r\n',
      'bad content-type': 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: ;;;/\r\nContent-Length: 2\r\n\r\n{}',
      'url 100 KiB': `GET /api/v1/transactions?q=${'a'.repeat(100 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'binary junk': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1'),
    };
    const seen = {};
    for (const [name, payload] of Object.entries(cases)) {
      const raw = await rawExchange(payload, { waitMs: 1500 });
      const status = raw.startsWith('HTTP/1.') ? Number(raw.slice(9, 12)) : 'closed';
      seen[name] = status;
      await stillUp();
      assert.ok(status === 'closed' || (status >= 200 && status < 500), `${name}: ${raw.slice(0, 120)}`);
    }
    test.diagnostic?.(JSON.stringify(seen));
  });
});

describe('requests Pistache 0.0.5\'s parser cannot read (answered by ApiHandler::onInput)', () => {
  const cases = {
    'Host with a bad port': 'GET /health HTTP/1.1\r\nHost:: x\r\n\r\n',
    'negative Content-Length': 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
    'Content-Length overflow': 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n',
  };
  // Pistache reserves Content-Length bytes up front: 400 GB -> bad_alloc -> its own 500. Under
  // ASan (tests/security/asan-api.sh) operator new aborts instead of throwing: not run there.
  if (!process.env.TECHMART_SANITIZED) {
    cases['Content-Length of 400 GB'] = 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 453333333333\r\n\r\n{}';
  }
  const statuses = {};
  const bodies = {};
  test('the server survives them', async () => {
    for (const [name, payload] of Object.entries(cases)) {
      const raw = await rawExchange(payload, { waitMs: 1500 });
      statuses[name] = raw.slice(0, 80);
      bodies[name] = raw;
      await stillUp();
    }
  });
  test('they get a 4xx problem+json, never a 500', () => {
    for (const [name, first] of Object.entries(statuses)) {
      const status = Number(first.slice(9, 12));
      assert.ok(status >= 400 && status < 500, `${name}: ${first}`);
      assert.match(bodies[name], /application\/problem\+json/i, `${name}: problem+json`);
    }
  });
});

describe('memory', () => {
  const valgrind = process.env.TECHMART_SKIP_VALGRIND ? '' : spawnSync('sh', ['-c', 'command -v valgrind'], { encoding: 'utf8' }).stdout.trim();
  test('valgrind memcheck: no definite leak in the API after a short load', { skip: valgrind ? false : 'valgrind not installed', timeout: 240000 }, async (t) => {
    const logFile = path.join(os.tmpdir(), `techmart-valgrind-${process.pid}.log`);
    // the harness spawns TECHMART_API_BIN; run it under valgrind instead
    const bin = process.env.TECHMART_API_BIN;
    const wrapper = path.join(os.tmpdir(), `techmart-vg-${process.pid}.sh`);
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${valgrind} --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=${logFile} ${bin} "$@"\n`, { mode: 0o755 });
    process.env.TECHMART_API_BIN = wrapper;
    const { ApiServer: Fresh } = await import(`../api/lib/harness.mjs?vg=${Date.now()}`);
    process.env.TECHMART_API_BIN = bin;
    const vs = await new Fresh({ TECHMART_API_THREADS: '2', TECHMART_STATIC_DIR: staticDir }).start(120000);
    try {
      const admin = makeToken('admin');
      // Under valgrind (tens of times slower) Pistache 0.0.5 now and then stops reading an accepted
      // connection while its threads idle (seen in 1 of 2 loaded runs with main's binary too): each
      // request gets 30 s, a lost one is counted, and at most a few may be lost — the subject here
      // is memory (no definite leak, clean exit), the request paths are tested in tests/api.
      let done = 0;
      let lost = 0;
      const go = (url, o = {}) =>
        fetch(url, { ...o, signal: AbortSignal.timeout(30000) })
          .then((r) => r.text())
          .then(() => { done++; }, () => { lost++; });
      const reqs = [];
      for (let i = 0; i < 150; i++) {
        const kind = i % 6;
        if (kind === 0) reqs.push(go(`${vs.base}/health`));
        if (kind === 1) reqs.push(go(`${vs.base}/api/v1/transactions/recent?limit=20`, { headers: bearer(admin) }));
        if (kind === 2) reqs.push(go(`${vs.base}/api/v1/transactions`, { method: 'POST', headers: { ...bearer(admin), 'Content-Type': 'application/json', 'Idempotency-Key': `vg-${process.pid}-${i}` }, body: JSON.stringify({ customer_id: 1, product_id: 1, quantity: 1, payment_method: 'paypal' }) }));
        if (kind === 3) reqs.push(go(`${vs.base}/api/v1/transactions/recent`, { headers: bearer('forged.token.x') }));
        if (kind === 4) reqs.push(go(`${vs.base}/assets/app.js`));
        if (kind === 5) reqs.push(go(`${vs.base}/api/v1/transactions`, { method: 'POST', headers: { ...bearer(admin), 'Content-Type': 'application/json' }, body: '{bad json' }));
        if (reqs.length >= 6) await Promise.all(reqs.splice(0));
      }
      await Promise.all(reqs);
      t.diagnostic(`requests answered ${done}, lost ${lost} of 150`);
      assert.ok(done >= 144, `at least 144 of 150 requests answered under valgrind (answered ${done}, lost ${lost})`);
    } finally {
      const { code } = await vs.stop('SIGINT', 60000);
      assert.equal(code, 0, 'clean exit under valgrind');
    }
    const log = fs.readFileSync(logFile, 'utf8');
    const m = log.match(/definitely lost: ([\d,]+) bytes in ([\d,]+) blocks/);
    const errors = log.match(/ERROR SUMMARY: (\d+) errors/);
    t.diagnostic(`valgrind: ${m ? m[0] : 'no leaks possible'}; ${errors ? errors[0] : ''}`);
    if (m) assert.equal(m[1], '0', `definite leak:\n${log.slice(-3000)}`);
    assert.ok(errors, 'valgrind ran');
    assert.match(log, /Command: .*techmart-api/, 'valgrind ran the API');
    fs.rmSync(logFile, { force: true });
    fs.rmSync(wrapper, { force: true });
  });
});
