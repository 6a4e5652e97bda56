// Head-of-line blocking: how long quick requests wait while slow ones run (api/README.md,
// "Threads"). A handler runs on the event-loop thread that owns its connection, and a database
// call blocks that thread, so every other connection of that thread waits for it. This drives
// SLOW keep-alive clients looping a slow endpoint and QUICK keep-alive clients (a browser opens
// 6 connections) looping a cheap one, against one API process per configuration
// "threads/pool", alternating, and prints the quick requests' latency percentiles next to the
// same quick load alone (the baseline of the same run), and how many quick connections had a
// request wait longer than STALL_MS (250): those that shared a thread with a slow call. Which
// connections share a thread depends on their file descriptors (fd modulo threads), so it
// varies from round to round: use several rounds.
//
//   TECHMART_API_BIN=build/api/techmart-api TECHMART_DATABASE_URL='host=… dbname=… user=postgres' \
//   node bench/api/head_of_line.mjs [SECONDS_PER_ROUND=8] [ROUNDS=2] [CONFIGS=2/4,8/8]
//
// Env: SLOW_PATH (default /api/v1/customers/segments: ~1 s at 5,000,000 transactions), SLOW (2
// clients), QUICK_PATH (default /api/v1/categories/1), QUICK (6 clients), STALL_MS (250). Needs a database with
// the migrations and seed data (category 1); meaningful on a large one (bench/api/scale_db.sh).
import http from 'node:http';
import { ApiServer, makeToken, requireEnv } from '../../tests/api/lib/harness.mjs';

requireEnv();
const [secsArg = '8', roundsArg = '2', configsArg = '2/4,8/8'] = process.argv.slice(2);
const secs = Number(secsArg);
const rounds = Number(roundsArg);
const configs = configsArg.split(',').map((c) => c.split('/').map(Number));
const SLOW_PATH = process.env.SLOW_PATH ?? '/api/v1/customers/segments';
const QUICK_PATH = process.env.QUICK_PATH ?? '/api/v1/categories/1';
const SLOW = Number(process.env.SLOW ?? 2);
const QUICK = Number(process.env.QUICK ?? 6);
const STALL_MS = Number(process.env.STALL_MS ?? 250);
const token = makeToken('admin');

function client(server, path, deadline, latencies, worst) {
  let max = 0;
  // one keep-alive connection per client, as a browser's
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const one = () =>
    new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = http.request({ host: '127.0.0.1', port: server.port, path, agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
          else {
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            latencies.push(ms);
            max = Math.max(max, ms);
            resolve();
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
  return (async () => {
    while (Date.now() < deadline) await one();
    agent.destroy();
    worst?.push(max);
  })();
}

async function round(server, withSlow) {
  const deadline = Date.now() + secs * 1000;
  const quick = [];
  const slow = [];
  const worst = []; // per quick client (connection): its longest wait
  const slows = withSlow ? Array.from({ length: SLOW }, () => client(server, SLOW_PATH, deadline, slow)) : [];
  await new Promise((r) => setTimeout(r, withSlow ? 200 : 0)); // the slow calls under way first
  await Promise.all([...Array.from({ length: QUICK }, () => client(server, QUICK_PATH, deadline, quick, worst)), ...slows]);
  return { quick, slow, stalled: worst.filter((ms) => ms > STALL_MS).length };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

const servers = [];
try {
  for (const [threads, pool] of configs) {
    servers.push({ threads, pool, server: await new ApiServer({ TECHMART_API_THREADS: String(threads), TECHMART_DB_POOL_SIZE: String(pool) }).start() });
  }
  const results = servers.map(() => ({ alone: [], loaded: [], slow: [], stalled: 0, clients: 0 }));
  for (const s of servers) await round(s.server, true); // warm-up: caches, connections
  for (let r = 0; r < rounds; r++) {
    for (const [i, s] of servers.entries()) {
      const a = await round(s.server, false);
      const b = await round(s.server, true);
      results[i].alone.push(...a.quick);
      results[i].loaded.push(...b.quick);
      results[i].slow.push(...b.slow);
      results[i].stalled += b.stalled;
      results[i].clients += QUICK;
    }
  }
  console.log(`quick: ${QUICK} keep-alive clients on GET ${QUICK_PATH}; slow: ${SLOW} on GET ${SLOW_PATH}; ${rounds} x ${secs} s rounds per side, alternating`);
  console.log(`| threads / pool | quick alone p50 / p99 ms | quick beside the slow calls p50 / p95 / p99 / max ms | quick connections that waited > ${STALL_MS} ms | quick req/s alone / beside | slow calls p50 ms (n) |`);
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [i, s] of servers.entries()) {
    const x = results[i];
    const rate = (n) => (n / (rounds * secs)).toFixed(0);
    console.log(
      `| ${s.threads} / ${s.pool} | ${fmt(pct(x.alone, 50))} / ${fmt(pct(x.alone, 99))} | ` +
        `${fmt(pct(x.loaded, 50))} / ${fmt(pct(x.loaded, 95))} / ${fmt(pct(x.loaded, 99))} / ${fmt(Math.max(...x.loaded))} | ${x.stalled} of ${x.clients} | ` +
        `${rate(x.alone.length)} / ${rate(x.loaded.length)} | ${fmt(pct(x.slow, 50))} (${x.slow.length}) |`,
    );
  }
} finally {
  for (const s of servers) await s.server.stop();
}
