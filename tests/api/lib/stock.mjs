// Sales move the stock (sqitch change stock_sales), through the API: POST /transactions takes the
// units (409 problem+json when the product has too few, nothing booked, the Idempotency-Key not
// spent), PATCH to refunded gives them back with the API's user in the history. Registered by
// api.test.mjs before the database-restart test.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeToken, sql, uniqueSuffix, waitFor } from './harness.mjs';

const auth = (role) => ({ Authorization: `Bearer ${makeToken(role)}` });

function send(server, method, path, { body, role = 'admin', headers = {} } = {}) {
  const init = { method, headers: { ...auth(role), ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  return fetch(server.base + path, init);
}

export function stockTests(getServer) {
  describe('stock moves with sales (change stock_sales)', () => {
    let server;
    let customerId;
    let productId;
    let tag;
    before(async () => {
      server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
      tag = `stock-${uniqueSuffix()}`;
      // ids from the sequences, moved past any id another suite set explicitly (an explicit id left behind the
      // sequence made the next suite's INSERT collide with it: the fault suite's customers, 23505)
      for (const t of ['customers', 'products']) {
        sql(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM ${t}), false);`);
      }
      customerId = Number(sql(`INSERT INTO customers (email, name, country)
                                VALUES ('${tag}@example.com', 'Stock API', 'GB') RETURNING id;`));
      productId = Number(sql(`INSERT INTO products (sku, name, price, stock_quantity, low_stock_threshold)
                               VALUES ('${tag}', 'stock api product', 4.5, 3, 1) RETURNING id;`));
    });
    const stock = async () => (await (await send(server, 'GET', `/api/v1/products/${productId}`, { role: 'viewer' })).json()).stock_quantity;
    const history = async () => (await (await send(server, 'GET', `/api/v1/inventory/${productId}/history`, { role: 'viewer' })).json()).items;
    const booked = () => Number(sql(`SELECT count(*) FROM transactions WHERE device_id LIKE '${tag}%';`));
    const body = (quantity, i) => ({ customer_id: customerId, product_id: productId, quantity, payment_method: 'paypal', device_id: `${tag}-${i}` });

    let saleId;
    test('a sale takes its units: stock 3 -> 1, one history row "sale"', async () => {
      const res = await send(server, 'POST', '/api/v1/transactions', { body: body(2, 1) });
      assert.equal(res.status, 201);
      saleId = (await res.json()).id;
      assert.equal(await stock(), 1);
      const [h] = await history();
      assert.equal(h.reason, 'sale');
      assert.equal(h.previous_quantity, 3);
      assert.equal(h.new_quantity, 1);
      assert.equal(h.note, `transaction ${saleId} (insert)`);
    });

    test('a sale of more than the stock: 409 problem+json naming the product; nothing booked', async () => {
      for (const headers of [{}, { 'Idempotency-Key': `${tag}-key` }]) {
        const res = await send(server, 'POST', '/api/v1/transactions', { body: body(2, 2), headers });
        assert.equal(res.status, 409, JSON.stringify(headers));
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        const p = await res.json();
        assert.equal(p.status, 409);
        assert.equal(p.detail, `insufficient stock for product ${productId} (${tag}): 1 in stock, 2 wanted`);
      }
      assert.equal(booked(), 1, 'only the first sale is in transactions');
      assert.equal(await stock(), 1);
      assert.equal((await history()).length, 1, 'no history row for the refused sales');
    });

    test('after a restock the same Idempotency-Key books the sale (a refusal is not stored)', async () => {
      const put = await send(server, 'PUT', `/api/v1/inventory/${productId}`, { body: { quantity: 10, reason: 'restock' } });
      assert.equal(put.status, 200);
      const res = await send(server, 'POST', '/api/v1/transactions', { body: body(2, 2), headers: { 'Idempotency-Key': `${tag}-key` } });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('idempotent-replayed'), 'false');
      assert.equal(await stock(), 8);
    });

    test('the writes that move stock name the API user in changed_by (change api_transaction_actor)', async () => {
      // an operator token of its own user id and e-mail: changed_by must be this user, not the DB role
      const who = { userId: 424242, email: `${tag}@clerk.example.com` };
      const mine = { Authorization: `Bearer ${makeToken('admin', who)}` };
      const expected = `user:${who.userId}:${who.email}`;
      const put = await send(server, 'PUT', `/api/v1/inventory/${productId}`, { body: { quantity: 20, reason: 'restock' }, headers: mine });
      assert.equal(put.status, 200);
      assert.equal((await history())[0].changed_by, expected, 'PUT /inventory');
      const sale = await send(server, 'POST', '/api/v1/transactions', { body: body(1, 10), headers: mine });
      assert.equal(sale.status, 201);
      let [h] = await history();
      assert.equal(h.reason, 'sale');
      assert.equal(h.changed_by, expected, 'POST /transactions');
      const keyed = await send(server, 'POST', '/api/v1/transactions', { body: body(1, 11), headers: { ...mine, 'Idempotency-Key': `${tag}-actor` } });
      assert.equal(keyed.status, 201);
      [h] = await history();
      assert.equal(h.note, `transaction ${(await keyed.json()).id} (insert)`);
      assert.equal(h.changed_by, expected, 'POST /transactions with an Idempotency-Key');
      const refund = await send(server, 'PATCH', `/api/v1/transactions/${(await sale.json()).id}`, { body: { status: 'refunded' }, headers: mine });
      assert.equal(refund.status, 200);
      [h] = await history();
      assert.equal(h.reason, 'return');
      assert.equal(h.changed_by, expected, 'PATCH /transactions/{id} (refund)');
      // the actor is the request's: a later write in psql names the session's user again
      sql(`INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, device_id)
           VALUES (${customerId}, ${productId}, 1, 4.5, 'paypal', '${tag}-psql');`);
      [h] = await history();
      assert.equal(h.changed_by, sql('SELECT current_user;'), 'a psql insert after the requests: the session\'s user');
      sql(`DELETE FROM transactions WHERE device_id IN ('${tag}-10', '${tag}-11', '${tag}-psql');`);
      sql(`UPDATE products SET stock_quantity = 8 WHERE id = ${productId};`);  // as the tests below expect
    });

    test('PATCH to refunded gives the units back: reason return, by the API user', async () => {
      const res = await send(server, 'PATCH', `/api/v1/transactions/${saleId}`, { role: 'analyst', body: { status: 'refunded' } });
      assert.equal(res.status, 200);
      assert.equal(await stock(), 10);
      const [h] = await history();
      assert.equal(h.reason, 'return');
      assert.equal(h.change, 2);
      assert.match(h.changed_by, /^user:/, `changed_by ${h.changed_by}`);
      // and back to completed needs the units again: 10 in stock, fine; a refused one is 409 too
      sql(`UPDATE products SET stock_quantity = 1 WHERE id = ${productId};`);
      const again = await send(server, 'PATCH', `/api/v1/transactions/${saleId}`, { role: 'analyst', body: { status: 'completed' } });
      assert.equal(again.status, 409);
      assert.equal((await (await send(server, 'GET', `/api/v1/transactions/${saleId}`)).json()).status, 'refunded');
    });
  });
}
