// Shared pieces of the fault and replica tests: fresh customers, idempotent traffic, and the
// database consistency checks (scoring state and rollups equal to recomputation).
import { spawn } from 'node:child_process';
import { ApiServer, makeToken, sql, uniqueSuffix } from '../api/lib/harness.mjs';

export { ApiServer, makeToken, sql, uniqueSuffix };

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// n new customers (ids), so that their scoring state can be compared with recomputation exactly
// whatever other suites did to older customers (deletes are not folded out of the state).
export function freshCustomers(n, tag) {
  const s = uniqueSuffix();
  // the sequence past any id another suite set explicitly
  sql(`SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM customers), false);`);
  const ids = sql(`INSERT INTO customers (email, name, country)
                   SELECT format('fault-%s-%s-%s@example.com', '${tag}', '${s}', g), 'Fault ' || g, 'DE'
                   FROM generate_series(1, ${n}) g RETURNING id;`);
  return ids.split('\n').map(Number);
}

export function anyProductId() {
  const id = Number(sql('SELECT min(id) FROM products WHERE price > 0;'));
  // the scenarios sell it by the hundred thousand: enough stock for them (change stock_sales)
  sql(`UPDATE products SET stock_quantity = greatest(stock_quantity, 2000000000) WHERE id = ${id};`);
  return id;
}

// Rows whose state differs from a recomputation over the customers' transactions (0.1 layout:
// n, mean, m2 of log1p(amount)); plus any check function the fraud engine exposes.
export function stateMismatches(customerIds) {
  const list = customerIds.join(',');
  const hasWelford = sql(`SELECT count(*) FROM information_schema.columns
                          WHERE table_schema = 'techmart' AND table_name = 'customer_state'
                            AND column_name IN ('n', 'mean', 'm2');`) === '3';
  const out = [];
  if (hasWelford) {
    const bad = sql(`WITH t AS (
        SELECT customer_id, count(*) AS n, avg(ln(1 + amount::float8)) AS mean,
               coalesce(var_pop(ln(1 + amount::float8)), 0) * count(*) AS m2
        FROM transactions WHERE customer_id IN (${list}) GROUP BY 1),
      s AS (SELECT * FROM techmart.customer_state WHERE customer_id IN (${list}))
      SELECT coalesce(string_agg(format('%s: n %s/%s mean %s/%s m2 %s/%s', coalesce(t.customer_id, s.customer_id),
                                        t.n, s.n, t.mean, s.mean, t.m2, s.m2), '; '), '')
      FROM t FULL JOIN s USING (customer_id)
      WHERE coalesce(t.n, 0) <> coalesce(s.n, 0)
         OR (t.n > 0 AND (abs(t.mean - s.mean) > 1e-9 * greatest(1, abs(t.mean))
                          OR abs(t.m2 - s.m2) > 1e-6 * greatest(1, t.m2)));`);
    if (bad) out.push(bad);
  }
  // a check function of the fraud engine, when there is one: no row / true / 0 means consistent
  for (const fn of ['techmart.state_check', 'techmart.check_state', 'techmart.customer_state_check']) {
    if (sql(`SELECT to_regproc('${fn}') IS NOT NULL;`) !== 't') continue;
    const nargs = Number(sql(`SELECT pronargs FROM pg_proc WHERE oid = to_regproc('${fn}');`));
    const res = sql(nargs === 0 ? `SELECT count(*) FROM ${fn}() r;` : `SELECT count(*) FROM ${fn}(ARRAY[${list}]::bigint[]) r;`);
    if (res !== '0') out.push(`${fn}: ${res} rows`);
  }
  return out.join('\n');
}

// analytics.rollup_check() returns the (bucket, dimension) rows that differ from a GROUP BY.
export function rollupMismatches() {
  if (sql("SELECT to_regproc('analytics.rollup_check') IS NOT NULL;") !== 't') return '';
  const n = sql('SELECT count(*) FROM analytics.rollup_check();');
  return n === '0' ? '' : `analytics.rollup_check(): ${n} rows differ`;
}

// A stream of POST /transactions, each with its own Idempotency-Key and a body that names it
// (device_id), so that every request can be counted in the table afterwards.
export class Traffic {
  constructor({ customers, productId, tag, total }) {
    this.items = Array.from({ length: total }, (_, i) => ({
      i,
      key: `${tag}-${i}`,
      body: JSON.stringify({
        customer_id: customers[i % customers.length], product_id: productId,
        quantity: 1 + (i % 3), payment_method: 'paypal', device_id: `${tag}-${i}`,
      }),
      acked: null, // the stored id once a 201 was read
      attempts: 0,
    }));
    this.statuses = {};
    this.errors = 0;
    this.next = 0;
    this.stopped = false;
  }

  async sendOne(server, item, token) {
    item.attempts++;
    try {
      const res = await fetch(`${server.base}/api/v1/transactions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': item.key, Authorization: `Bearer ${token}` },
        body: item.body,
        signal: AbortSignal.timeout(15000),
      });
      this.statuses[res.status] = (this.statuses[res.status] ?? 0) + 1;
      const text = await res.text();
      if (res.status === 201) item.acked = JSON.parse(text).id;
      return { status: res.status, replayed: res.headers.get('idempotent-replayed'), text };
    } catch (e) {
      this.errors++;
      return { status: 0, error: e };
    }
  }

  // workers send the items in order until all are sent or stop() is called; onAck after each 201
  async run(server, token, { workers = 8, onResult = () => {}, paceMs = 0 } = {}) {
    const worker = async () => {
      while (!this.stopped && this.next < this.items.length) {
        const item = this.items[this.next++];
        const r = await this.sendOne(server, item, token);
        onResult(r, item);
        if (paceMs) await sleep(paceMs);
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
  }

  stop() {
    this.stopped = true;
  }

  unacked() {
    return this.items.filter((it) => it.acked == null);
  }

  // retries every unacknowledged item until it gets its 201 (409 in progress / 503: wait, again)
  async retryAll(server, token, { deadlineMs = 60000 } = {}) {
    const deadline = Date.now() + deadlineMs;
    let replayed = 0;
    for (const item of this.unacked()) {
      for (;;) {
        const r = await this.sendOne(server, item, token);
        if (r.status === 201) {
          if (r.replayed === 'true') replayed++;
          break;
        }
        if (![0, 409, 503].includes(r.status)) throw new Error(`retry of ${item.key}: HTTP ${r.status} ${r.text}`);
        if (Date.now() > deadline) throw new Error(`retry of ${item.key} did not succeed in time`);
        await sleep(100);
      }
    }
    return replayed;
  }

  // rows per device_id in the table: every item exactly once, with the acknowledged id
  storedCounts(tag) {
    const rows = sql(`SELECT device_id, count(*), min(id) FROM transactions WHERE device_id LIKE '${tag}-%' GROUP BY 1;`);
    const m = new Map();
    for (const line of rows ? rows.split('\n') : []) {
      const [d, c, id] = line.split('|');
      m.set(d, { count: Number(c), id: Number(id) });
    }
    return m;
  }
}

// Runs psql with `input` in the background; resolves {code, stdout, stderr}.
export function psqlBackground(input, env = {}) {
  const cmd = process.env.PSQL ?? `psql ${JSON.stringify(process.env.TECHMART_DATABASE_URL)}`;
  const child = spawn('/bin/sh', ['-c', `${cmd} -X -q -v ON_ERROR_STOP=1`], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  // 'close', not 'exit': 'exit' may come before the last of stdout/stderr was read (seen under load:
  // an empty stderr for a psql whose backend was terminated)
  const done = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  child.stdin.on('error', () => {}); // EPIPE when the backend (and so psql) is killed mid-load
  if (typeof input === 'string') {
    child.stdin.end(input);
  }
  return { child, done };
}
