// GET /transactions at any table size (migration list_transactions_totals): the total says whether it is
// exact, and `cursor` (next_cursor of the previous page) pages by key instead of offset. Registered by
// api.test.mjs before the database-restart test.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeToken, waitFor } from './harness.mjs';

const auth = (role) => ({ Authorization: `Bearer ${makeToken(role)}` });
const get = (server, path, role = 'viewer') => fetch(server.base + path, { headers: auth(role) });
async function ok(res) {
  assert.equal(res.status, 200, `expected 200, got ${res.status}: ${await res.clone().text()}`);
  return res.json();
}
async function problem(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  return res.json();
}

export function pagingTests(getServer) {
  let server;
  before(async () => {
    server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
  });

  describe('transaction pages by cursor', () => {
    test('a page says whether its total is exact and carries next_cursor when full', async () => {
      const page = await ok(await get(server, '/api/v1/transactions?limit=2'));
      assert.equal(typeof page.total, 'number');
      assert.equal(page.total_exact, true, 'no filter: exact from the rollups');
      assert.ok(page.total >= 2, 'the database has transactions');
      assert.equal(typeof page.next_cursor, 'string');
      const all = await ok(await get(server, `/api/v1/transactions?limit=${Math.min(page.total + 1, 1000)}&sort=-id`));
      if (page.total < 1000) assert.equal(all.next_cursor, null, 'a page that is not full is the last');
    });

    test('walking by cursor returns the rows offset paging returns, in order', async () => {
      for (const sort of ['-transaction_time', 'amount', '-id']) {
        const byOffset = (await ok(await get(server, `/api/v1/transactions?limit=12&sort=${sort}`))).items.map((t) => t.id);
        const walked = [];
        let cursor = null;
        for (let i = 0; i < 4; i++) {
          const q = `limit=3&sort=${sort}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const page = await ok(await get(server, `/api/v1/transactions?${q}`));
          walked.push(...page.items.map((t) => t.id));
          if (cursor) assert.equal(page.offset, null, 'a cursor page has no offset');
          cursor = page.next_cursor;
          if (!cursor) break;
        }
        assert.deepEqual(walked, byOffset, sort);
      }
    });

    test('a bad cursor, a cursor of another sort, or a cursor with an offset is 422 naming the field', async () => {
      let body = await problem(await get(server, '/api/v1/transactions?cursor=nonsense'), 422);
      assert.deepEqual(body.errors.map((e) => e.field), ['cursor']);
      const first = await ok(await get(server, '/api/v1/transactions?limit=1'));
      body = await problem(await get(server, `/api/v1/transactions?sort=amount&cursor=${first.next_cursor}`), 422);
      assert.deepEqual(body.errors.map((e) => e.field), ['cursor']);
      assert.match(body.errors[0].message, /sort -transaction_time/);
      body = await problem(await get(server, `/api/v1/transactions?offset=5&cursor=${first.next_cursor}`), 422);
      assert.deepEqual(body.errors.map((e) => e.field), ['offset']);
    });
  });
}
