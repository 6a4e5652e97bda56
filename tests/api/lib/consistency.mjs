// The lists answer bad input as the rest of the API does (migration api_list_consistency and
// api/src): a reversed range and a malformed sort are 422 with the field named, GET /users is
// paged like every list, CORS exposes only headers the API sends, and Last-Event-ID is read
// without the whitespace around a header value. Registered by api.test.mjs before the
// database-restart test.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { ApiServer, makeToken, sql, uniqueSuffix, waitFor } from './harness.mjs';
import { sse } from './features.mjs';

const auth = (role) => ({ Authorization: `Bearer ${makeToken(role)}` });
const get = (server, path, role = 'viewer', headers = {}) => fetch(server.base + path, { headers: { ...auth(role), ...headers } });

async function problem(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = await res.json();
  assert.equal(body.status, status);
  assert.ok(Array.isArray(body.errors), 'field errors');
  return body;
}

export function consistencyTests(getServer) {
  let server;
  before(async () => {
    server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
  });

  describe('list consistency', () => {
    test('a list with to before from is 422 naming to, as the analytics endpoints answer', async () => {
      const from = '2026-11-02T00:00:00Z';
      const to = '2026-11-01T00:00:00Z';
      const range = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
      const analytics = await problem(await get(server, `/api/v1/analytics/revenue?period=day&${range}`), 422);
      const want = analytics.errors.find((e) => e.field === 'to');
      assert.ok(want, 'the analytics endpoint names to');
      for (const path of ['/api/v1/transactions', '/api/v1/transactions/suspicious', '/api/v1/alerts', '/api/v1/transactions/export']) {
        const body = await problem(await get(server, `${path}?${range}`), 422);
        assert.deepEqual(body.errors, [want], path);
      }
      // a '+' offset that arrived as a space, and dates: the same instants are compared
      const bad = await problem(await get(server, '/api/v1/alerts?from=2026-11-01T10:00:00%2B02:00&to=2026-11-01T07:59:59Z'), 422);
      assert.deepEqual(bad.errors.map((e) => e.field), ['to']);
      // an empty range (from = to) and a right one stay 200; a reversed range with an invalid
      // time reports the time only
      for (const q of [`from=${encodeURIComponent(to)}&to=${encodeURIComponent(to)}`, 'from=2026-11-01&to=2026-11-02T00:00:00%2B14:00']) {
        const r = await get(server, `/api/v1/transactions?${q}`);
        assert.equal(r.status, 200, q);
        await r.arrayBuffer();
      }
      const inval = await problem(await get(server, '/api/v1/transactions?from=2026-11-02&to=2026-13-01'), 422);
      assert.deepEqual(inval.errors.map((e) => e.field), ['to']);
      assert.doesNotMatch(inval.errors[0].message, /before/);
    });

    test('a malformed sort (--amount, -, amount-) is 422 naming sort and the allowed keys', async () => {
      const lists = {
        '/api/v1/transactions': 'amount',
        '/api/v1/alerts': 'created_at',
        '/api/v1/products': 'price',
        '/api/v1/customers': 'name',
        '/api/v1/inventory': 'units_sold',
        '/api/v1/users': 'email',
      };
      for (const [path, key] of Object.entries(lists)) {
        const role = path.endsWith('/users') ? 'admin' : 'viewer';
        const ok = await get(server, `${path}?sort=-${key}&limit=2`, role);
        assert.equal(ok.status, 200, `${path} sort=-${key}`);
        await ok.arrayBuffer();
        for (const s of [`--${key}`, `---${key}`, '-', '--', `${key}-`, `-${key}-`]) {
          const body = await problem(await get(server, `${path}?sort=${encodeURIComponent(s)}`, role), 422);
          assert.deepEqual(body.errors.map((e) => e.field), ['sort'], `${path} sort=${s}`);
          assert.match(body.errors[0].message, new RegExp(`must be one of .*\\b${key}\\b`), `${path} sort=${s}`);
        }
      }
    });

    test('GET /users: limit/offset/sort paging with the lists\' defaults and bounds', async () => {
      const sfx = uniqueSuffix();
      for (let i = 0; i < 3; i++) {
        sql(`INSERT INTO users (email, username, password_hash) VALUES ('page-${i}-${sfx}@example.com', 'page${i}_${sfx}', '$2a$04$abcdefghijklmnopqrstuu0123456789012345678901234567890');`);
      }
      const total = Number(sql('SELECT count(*) FROM users'));
      assert.ok(total >= 3);
      const all = await (await get(server, '/api/v1/users', 'admin')).json();
      assert.equal(all.total, total);
      assert.equal(all.limit, 50);
      assert.equal(all.offset, 0);
      assert.equal(all.items.length, Math.min(total, 50));
      const ids = sql('SELECT string_agg(id::text, \',\' ORDER BY id) FROM (SELECT id FROM users ORDER BY id LIMIT 2 OFFSET 1) s');
      const page = await (await get(server, '/api/v1/users?limit=2&offset=1', 'admin')).json();
      assert.deepEqual([page.total, page.limit, page.offset], [total, 2, 1]);
      assert.equal(page.items.map((u) => u.id).join(','), ids);
      assert.ok(page.items.every((u) => !('password_hash' in u) && !('verification_token' in u)));
      const byEmail = await (await get(server, '/api/v1/users?sort=-email&limit=1', 'admin')).json();
      assert.equal(byEmail.items[0].id, Number(sql('SELECT id FROM users ORDER BY email DESC, id DESC LIMIT 1')));
      const bad = await problem(await get(server, '/api/v1/users?limit=0&offset=-1&sort=password_hash&role=admin', 'admin'), 422);
      assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['limit', 'offset', 'role', 'sort']);
      await problem(await get(server, '/api/v1/users?limit=1001', 'admin'), 422);
      const max = await get(server, '/api/v1/users?limit=1000', 'admin');
      assert.equal(max.status, 200);
      assert.equal((await max.json()).limit, 1000);
      assert.equal((await get(server, '/api/v1/users', 'analyst')).status, 403);
    });

    test('CORS exposes only headers the API sends: no X-Total-Count (the total is in the body)', async () => {
      const s = await new ApiServer({ TECHMART_CORS_ORIGINS: 'http://dash.example' }).start();
      try {
        const res = await get(s, '/api/v1/transactions?limit=1', 'viewer', { Origin: 'http://dash.example' });
        assert.equal(res.status, 200);
        const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
        assert.ok(exposed.includes('x-request-id'), 'the header is there');
        assert.ok(!exposed.includes('x-total-count'), `exposed: ${exposed.join(', ')}`);
        assert.equal(res.headers.get('x-total-count'), null);
        assert.equal(typeof (await res.json()).total, 'number');
      } finally {
        await s.stop();
      }
    });

    test('Last-Event-ID: whitespace around the value is ignored; a value still invalid is 422', async () => {
      const m = `ows-${uniqueSuffix()}`;
      const txId = Number(sql('SELECT coalesce(max(id), 0) FROM transactions'));
      const alertId = Number(sql('SELECT coalesce(max(id), 0) FROM alerts'));
      for (const id of [`${txId}-${alertId} `, `${txId}-${alertId}\t`, ` \t${txId}-${alertId}  `]) {
        const c = sse(server, '/api/v1/stream', { ...auth('viewer'), 'Last-Event-ID': id });
        const res = await c.opened;
        assert.equal(res.statusCode, 200, JSON.stringify(id));
        c.close();
      }
      // the replay starts after the trimmed id: an alert inserted after it arrives, none before
      const c = sse(server, '/api/v1/stream', { ...auth('viewer'), 'Last-Event-ID': `${txId}-${alertId}  ` });
      await c.opened;
      sql(`INSERT INTO alerts (type, severity, message) VALUES ('manual', 'low', '${m}');`);
      await waitFor(() => c.events.find((e) => e.json?.message === m), { timeoutMs: 3000, intervalMs: 10 });
      assert.ok(c.events.filter((e) => e.event === 'alert').every((e) => e.json.id > alertId));
      c.close();
      for (const id of [`${txId}- ${alertId}`, ` ${txId} -${alertId}`, 'garbage  ', `${txId}-${alertId} x`]) {
        const r = await get(server, '/api/v1/stream', 'viewer', { 'Last-Event-ID': id });
        const body = await problem(r, 422);
        assert.deepEqual(body.errors.map((e) => e.field), ['Last-Event-ID'], JSON.stringify(id));
      }
    });
  });
}
