// Faults survived (suite `fault` of ./techmart test; `./techmart soak` runs the same scenarios
// longer). Needs what tests/api needs (TECHMART_API_BIN, TECHMART_DATABASE_URL, PSQL) and, for the
// database restarts, TECHMART_TEST_PG_STOP / TECHMART_TEST_PG_START (a stop mode may be appended).
// The tests run one after another (--test-concurrency=1): they stop the database.
//
// Sizes scale with TECHMART_FAULT_SCALE (default 1; soak uses more).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { requireEnv, apiDatabaseUrl, waitFor } from '../api/lib/harness.mjs';
import {
  ApiServer, Traffic, makeToken, sql, uniqueSuffix, sleep, freshCustomers, anyProductId,
  stateMismatches, rollupMismatches, psqlBackground,
} from './lib.mjs';

requireEnv();
const SCALE = Number(process.env.TECHMART_FAULT_SCALE ?? 1);
const TOKEN = makeToken('admin');
const figures = [];
const figure = (t, line) => {
  figures.push(line);
  t.diagnostic(line);
};

let productId;
before(() => {
  productId = anyProductId();
});
after(() => {
  if (process.env.TECHMART_FAULT_FIGURES) {
    // the soak command appends these to its report
    execSync(`cat >> ${JSON.stringify(process.env.TECHMART_FAULT_FIGURES)}`, { input: figures.join('\n') + '\n' });
  }
});

function assertExactlyOnce(traffic, tag) {
  const stored = traffic.storedCounts(tag);
  const missing = traffic.items.filter((it) => !stored.has(it.key));
  const dup = [...stored.entries()].filter(([, v]) => v.count !== 1);
  assert.equal(missing.length, 0, `lost: ${missing.slice(0, 5).map((m) => m.key)}`);
  assert.equal(dup.length, 0, `stored more than once: ${dup.slice(0, 5).map(([k, v]) => `${k} x${v.count}`)}`);
  assert.equal(stored.size, traffic.items.length);
  for (const it of traffic.items) assert.equal(stored.get(it.key).id, it.acked, `${it.key}: the acknowledged id is the stored one`);
  assert.equal(sql(`SELECT count(*) FROM idempotency_keys WHERE key LIKE '${tag}-%';`), String(traffic.items.length));
}

function assertConsistent(customers) {
  assert.equal(stateMismatches(customers), '', 'scoring state equals recomputation');
  assert.equal(rollupMismatches(), '', 'rollups equal recomputation');
}

describe('kill -9 of the API during POST /transactions with Idempotency-Key', () => {
  test('every unacknowledged request retried after restart: each transaction stored exactly once', async (t) => {
    const customers = freshCustomers(20, 'kill');
    const tag = `kill-${uniqueSuffix()}`;
    const total = 300 * SCALE;
    const traffic = new Traffic({ customers, productId, tag, total });
    const kills = 3;
    let unackedAtKills = 0;
    for (let k = 1; k <= kills; k++) {
      const server = await new ApiServer().start();
      traffic.stopped = false;
      const target = Math.floor((total * k) / (kills + 1));
      let acks = traffic.items.filter((i) => i.acked != null).length;
      await traffic.run(server, TOKEN, {
        workers: 8,
        onResult: (r) => {
          if (r.status === 201 && ++acks === target) {
            server.proc.kill('SIGKILL'); // in the middle: 7 other requests are in flight
            traffic.stop();
          }
        },
      });
      await server.exited;
      assert.equal(server.exit.signal, 'SIGKILL');
      // the items in flight at the kill, and those not yet sent
      const inFlight = traffic.items.slice(0, traffic.next).filter((i) => i.acked == null).length;
      unackedAtKills += inFlight;
    }
    const server = await new ApiServer().start();
    try {
      traffic.stopped = false;
      await traffic.run(server, TOKEN, { workers: 8 });
      const pending = traffic.unacked().length;
      const replayed = await traffic.retryAll(server, TOKEN);
      figure(t, `kill-9: ${total} requests, ${kills} kills, ${unackedAtKills} in flight at a kill, ${pending} retried after restart, ${replayed} of them had been committed (replayed), 0 lost, 0 duplicated`);
      assertExactlyOnce(traffic, tag);
      assertConsistent(customers);
    } finally {
      await server.stop();
    }
  });
});

describe('PostgreSQL stopped and restarted during traffic', () => {
  const stop = process.env.TECHMART_TEST_PG_STOP;
  const start = process.env.TECHMART_TEST_PG_START;
  const skip = !stop || !start ? 'TECHMART_TEST_PG_STOP/START not set' : false;
  let down = false;
  after(() => {
    if (down) execSync(start, { stdio: 'ignore' });
  });

  for (const mode of ['fast', 'immediate']) {
    test(`${mode} stop: 503 meanwhile, recovers by itself, every request once, state and rollups consistent`, { skip }, async (t) => {
      const customers = freshCustomers(10, `pg${mode}`);
      const tag = `pg${mode}-${uniqueSuffix()}`;
      const traffic = new Traffic({ customers, productId, tag, total: 4000 * SCALE });
      const server = await new ApiServer({ TECHMART_DB_POOL_SIZE: '4', TECHMART_API_THREADS: '4' }).start();
      try {
        const pid = server.proc.pid;
        let acks = 0;
        let phase = 'before';
        const during = {};
        let firstAfter = null;
        let restartedAt = 0;
        const running = traffic.run(server, TOKEN, {
          workers: 4,
          paceMs: 2,
          onResult: (r) => {
            if (r.status === 201) acks++;
            if (phase === 'down') during[r.status] = (during[r.status] ?? 0) + 1;
            if (phase === 'restarted' && r.status === 201 && firstAfter == null) firstAfter = Date.now() - restartedAt;
          },
        });
        await waitFor(() => acks >= 100, { timeoutMs: 30000, intervalMs: 20 });
        phase = 'down';
        down = true;
        execSync(`${stop} ${mode}`, { stdio: 'ignore' });
        // while it is down: /health and the stream of POSTs get 503, fast, never 500 or a reset
        const health = await server.fetch('/health');
        assert.equal(health.status, 503);
        await sleep(1500);
        phase = 'restarting';
        execSync(start, { stdio: 'ignore' });
        down = false;
        restartedAt = Date.now();
        phase = 'restarted';
        await waitFor(() => firstAfter != null, { timeoutMs: 30000, intervalMs: 20 });
        const healthy = await waitFor(async () => (await server.fetch('/health')).status === 200 && Date.now() - restartedAt);
        const afterAcks = acks;
        await waitFor(() => acks >= afterAcks + 100, { timeoutMs: 30000, intervalMs: 20 });
        traffic.stop();
        await running;
        const statusesDown = Object.keys(during).map(Number);
        assert.ok(statusesDown.includes(503), `503 while down (saw ${JSON.stringify(during)})`);
        assert.deepEqual(statusesDown.filter((s) => ![201, 503].includes(s)), [], `only 201 (just before the stop) and 503 while down: ${JSON.stringify(during)}`);
        assert.equal(traffic.errors, 0, 'no connection error: the API stayed up');
        assert.equal(server.proc.pid, pid);
        assert.equal(server.exit, null);
        // requests after the restart are not all 503: recovery without a restart of the API
        const sent = traffic.next;
        traffic.items.length = sent; // only what was sent is checked
        const unacked = traffic.unacked().length;
        const replayed = await traffic.retryAll(server, TOKEN);
        figure(t, `pg ${mode} stop: ${sent} requests, ${during[503] ?? 0} answered 503 while down, first 201 ${firstAfter} ms and /health 200 ${healthy} ms after the server was up again, ${unacked} retried (${replayed} replayed), 0 lost, 0 duplicated`);
        assertExactlyOnce(traffic, tag);
        assertConsistent(customers);
      } finally {
        await server.stop();
      }
    });
  }
});

describe('backend killed in the middle of a bulk load (COPY)', () => {
  test('nothing half-loaded, state and rollups unchanged; the next load is complete', async (t) => {
    const customers = freshCustomers(30, 'bulk');
    const tag = `bulk-${uniqueSuffix()}`;
    const rows = 200000 * SCALE;
    const lines = (n, prefix) => {
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = `${customers[i % customers.length]},${productId},${1 + (i % 4)},${(5 + (i % 97)).toFixed(2)},credit_card,${prefix}-${i}`;
      return out.join('\n');
    };
    const copy = (data) => `COPY transactions (customer_id, product_id, quantity, unit_price, payment_method, device_id) FROM STDIN WITH (FORMAT csv);\n${data}\n\\.\n`;
    const app = `fault-${tag}`;
    const rollupsBefore = sql('SELECT count(*) FROM analytics.rollup_check();');
    const { done } = psqlBackground(copy(lines(rows, tag)), { PGAPPNAME: app });
    // wait until the COPY has processed a good part of its rows, then kill its backend
    const progressed = await waitFor(() => {
      const n = sql(`SELECT coalesce(max(p.tuples_processed), -1) FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '${app}';`);
      return Number(n) >= 5000 * SCALE ? Number(n) : null;
    }, { timeoutMs: 60000, intervalMs: 10 });
    const killed = sql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '${app}';`);
    assert.equal(killed, '1', 'the bulk load was still running when killed');
    const res = await done;
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /terminat/i);
    figure(t, `bulk kill: COPY of ${rows} rows killed after ${progressed} processed; 0 rows stored, state and rollups consistent`);
    assert.equal(sql(`SELECT count(*) FROM transactions WHERE device_id LIKE '${tag}-%';`), '0', 'nothing half-loaded');
    assert.equal(sql(`SELECT count(*) FROM techmart.customer_state WHERE customer_id IN (${customers.join(',')});`), '0', 'no state for rows that were never stored');
    assert.equal(stateMismatches(customers), '');
    assert.equal(sql('SELECT count(*) FROM analytics.rollup_check();'), rollupsBefore);
    // a complete load afterwards: every row, state = recomputation, rollups exact
    const ok = await psqlBackground(copy(lines(3000, `${tag}-ok`))).done;
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(sql(`SELECT count(*) FROM transactions WHERE device_id LIKE '${tag}-ok-%';`), '3000');
    assertConsistent(customers);
  });
});

describe('statement timeout during a CSV export', () => {
  // The table is locked by another session, so the export waits until the timeout fires. The
  // lock is taken when COPY (SELECT * FROM api.export_transactions(...)) executes, after the
  // 200 and the CSV header went out: the documented error signal is then a cut stream (the
  // chunked body never ends), never a complete-looking file. Before streaming it is a 503.
  async function lockedExport(server, holdSeconds) {
    const holder = psqlBackground(`BEGIN; LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(${holdSeconds}); COMMIT;`);
    await waitFor(() => sql(`SELECT count(*) FROM pg_locks WHERE relation = 'transactions'::regclass AND mode = 'AccessExclusiveLock' AND granted;`) === '1',
      { timeoutMs: 10000, intervalMs: 20 });
    const t0 = Date.now();
    let outcome;
    let body = '';
    const res = await server.fetch('/api/v1/transactions/export?limit=10', { headers: { Authorization: `Bearer ${makeToken('viewer')}` }, signal: AbortSignal.timeout(30000) });
    try {
      body = await res.text();
      outcome = res.status === 200 ? 'complete' : res.status;
    } catch (e) {
      outcome = 'cut';
    }
    const ms = Date.now() - t0;
    await holder.done;
    return { res, body, ms, outcome };
  }

  test('timeout set for the service role: the export fails cleanly (503, or a cut stream), the API stays up', async (t) => {
    const base = apiDatabaseUrl();
    if (/^postgres(ql)?:\/\//.test(base)) return t.skip('keyword/value TECHMART_DATABASE_URL needed');
    const server = await new ApiServer({ TECHMART_DATABASE_URL: `${base} options='-c statement_timeout=800'` }).start();
    try {
      const { res, body, ms, outcome } = await lockedExport(server, 3);
      assert.ok(outcome === 'cut' || outcome === 503, `not a complete file: ${outcome} ${res.status} ${body.slice(0, 200)}`);
      if (outcome === 503) {
        assert.match(res.headers.get('content-type'), /problem\+json/);
        assert.doesNotMatch(body, /COPY|SELECT|api\./, 'no SQL in the answer');
      }
      assert.ok(ms < 2800, `failed at the timeout, before the lock was released (${ms} ms)`);
      const logged = server.logs.find((l) => l.msg === 'export failed' || (l.msg === 'database error' && /57014|statement timeout/.test(JSON.stringify(l))));
      assert.ok(logged, 'the failure is logged');
      assert.match(JSON.stringify(logged), /statement timeout/);
      figure(t, `export under a lock with statement_timeout 800 ms: ${outcome === 'cut' ? 'stream cut (no complete CSV)' : '503'} after ${ms} ms; API up`);
      assert.equal((await server.fetch('/health')).status, 200);
      const again = await server.fetch('/api/v1/transactions/export?limit=5', { headers: { Authorization: `Bearer ${makeToken('viewer')}` } });
      assert.equal(again.status, 200);
      assert.match(await again.text(), /^id,/);
      assert.equal(server.exit, null);
    } finally {
      await server.stop();
    }
  });

  // without TECHMART_EXPORT_STATEMENT_TIMEOUT_MS the export takes TECHMART_DB_STATEMENT_TIMEOUT_MS
  test('TECHMART_DB_STATEMENT_TIMEOUT_MS applies to the export connection too', async () => {
    const server = await new ApiServer({ TECHMART_DB_STATEMENT_TIMEOUT_MS: '800' }).start();
    try {
      const { ms, outcome } = await lockedExport(server, 2.5);
      assert.notEqual(outcome, 'complete');
      assert.ok(ms < 2300, `${ms} ms`);
    } finally {
      await server.stop();
    }
  });
});

describe('disk full during a CSV export', () => {
  // The export's rows pass through a tuplestore (plpgsql RETURN QUERY in api.export_transactions,
  // and the sort) that spills to temporary files once over work_mem. With work_mem 64 kB and
  // temp_tablespaces on a 128 kB tmpfs, the spill hits ENOSPC (53100 disk_full) in the middle of
  // the export: a real "No space left on device" from the server. Needs root (mount); without it
  // the test is skipped and the next one covers the same path with temp_file_limit.
  const rowsNeeded = 2000; // ~300 kB of tuples: more than the 128 kB filesystem
  async function failingExport(server) {
    const t0 = Date.now();
    const res = await server.fetch('/api/v1/transactions/export', { headers: { Authorization: `Bearer ${makeToken('viewer')}` }, signal: AbortSignal.timeout(60000) });
    let outcome;
    let body = '';
    try {
      body = await res.text();
      outcome = res.status === 200 ? 'complete' : res.status;
    } catch (e) {
      outcome = 'cut';
    }
    return { res, body, outcome, ms: Date.now() - t0 };
  }
  async function assertCleanFailure(t, server, sqlstate, pattern, what) {
    const { res, body, outcome, ms } = await failingExport(server);
    assert.ok(outcome === 'cut' || outcome === 503 || outcome === 500, `not a complete file: ${outcome} ${res.status} ${body.slice(0, 200)}`);
    if (outcome !== 'cut') {
      assert.match(res.headers.get('content-type'), /problem\+json/);
      assert.doesNotMatch(body, /COPY|SELECT|api\.|tuplestore|temporary file/, 'no SQL or server internals in the answer');
    }
    const logged = await waitFor(() => server.logs.find((l) => l.msg === 'export failed' || l.msg === 'database error'), { timeoutMs: 5000 });
    assert.equal(logged.sqlstate, sqlstate, JSON.stringify(logged));
    assert.match(JSON.stringify(logged), pattern);
    figure(t, `${what}: ${outcome === 'cut' ? 'stream cut (no complete CSV)' : outcome} after ${ms} ms, logged ${sqlstate}; API up`);
    // the service is fine: health, a read, a small export that fits in work_mem
    assert.equal((await server.fetch('/health')).status, 200);
    const small = await server.fetch('/api/v1/transactions/export?limit=5', { headers: { Authorization: `Bearer ${makeToken('viewer')}` } });
    assert.equal(small.status, 200);
    assert.equal((await small.text()).trim().split('\n').length, 6, 'header + 5 rows');
    const recent = await server.fetch('/api/v1/transactions/recent?limit=3', { headers: { Authorization: `Bearer ${makeToken('viewer')}` } });
    assert.equal(recent.status, 200);
    assert.equal(server.exit, null);
  }

  test('temp_tablespaces on a full filesystem (tmpfs 128 kB): the export fails cleanly (53100), the API stays up', async (t) => {
    const base = apiDatabaseUrl();
    if (/^postgres(ql)?:\/\//.test(base)) return t.skip('keyword/value TECHMART_DATABASE_URL needed');
    if (process.getuid?.() !== 0) return t.skip('mounting a tmpfs needs root');
    assert.ok(Number(sql('SELECT count(*) FROM transactions')) >= rowsNeeded, 'needs the seed data');
    const dataDir = sql('SHOW data_directory');
    const owner = execSync(`stat -c %U ${JSON.stringify(dataDir)}`, { encoding: 'utf8' }).trim();
    const dir = execSync('mktemp -d /tmp/techmart-diskfull.XXXXXX', { encoding: 'utf8' }).trim();
    try {
      execSync(`mount -t tmpfs -o size=128k,mode=0700 tmpfs ${dir}`, { stdio: 'pipe' });
    } catch (e) {
      execSync(`rmdir ${dir}`);
      return t.skip(`cannot mount a tmpfs here: ${String(e.stderr ?? e).trim().slice(0, 120)}`);
    }
    let server;
    try {
      execSync(`chown ${owner}: ${dir}`);
      sql(`CREATE TABLESPACE techmart_fault_tiny LOCATION '${dir}'; GRANT CREATE ON TABLESPACE techmart_fault_tiny TO PUBLIC;`);
      server = await new ApiServer({ TECHMART_DATABASE_URL: `${base} options='-c temp_tablespaces=techmart_fault_tiny -c work_mem=64kB'` }).start();
      await assertCleanFailure(t, server, '53100', /No space left on device/, 'export with temp files on a full 128 kB filesystem');
      // nothing left behind on the full filesystem (the temporary files went with the error)
      assert.equal(execSync(`find ${dir} -type f -name 'pgsql_tmp*' | wc -l`, { encoding: 'utf8' }).trim(), '0');
    } finally {
      await server?.stop();
      try { sql('DROP TABLESPACE IF EXISTS techmart_fault_tiny;'); } catch { /* reported by the next run's CREATE */ }
      execSync(`umount ${dir} && rmdir ${dir}`);
    }
  });

  // the same path without privileges: temp_file_limit (53400) instead of a full disk
  test('temp_file_limit exceeded during the export: a clean error (53400), the API stays up', async (t) => {
    const base = process.env.TECHMART_DATABASE_URL; // temp_file_limit is superuser-only
    if (/^postgres(ql)?:\/\//.test(base)) return t.skip('keyword/value TECHMART_DATABASE_URL needed');
    if (sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") !== 't') return t.skip('TECHMART_DATABASE_URL is not a superuser');
    const server = await new ApiServer({ TECHMART_DATABASE_URL: `${base} options='-c temp_file_limit=256 -c work_mem=64kB'` }).start();
    try {
      await assertCleanFailure(t, server, '53400', /temp_file_limit/, 'export over temp_file_limit 256 kB');
    } finally {
      await server.stop();
    }
  });
});
