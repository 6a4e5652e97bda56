// What the session check of a token costs (api/src/sessions.h): requests/s of one cheap endpoint
// with an operator token (not checked: the baseline), with a session token checked from the
// cache (default TTL), and with a session token checked by a query of api.session_state on every
// request (TECHMART_SESSION_CACHE_TTL_MS=0: what the cache saves). One run, alternating rounds,
// median; ratios against the operator token.
//
//   TECHMART_API_BIN=build/api/techmart-api TECHMART_DATABASE_URL='host=… dbname=… user=postgres' \
//   node bench/api/sessions.mjs [SECONDS_PER_ROUND=4] [ROUNDS=3] [CONCURRENCY=32]
//
// The database needs the migrations (seed data: a category with id 1). Two API processes (2
// threads, pool 4 each) on the same database; keep-alive connections; GET /api/v1/categories/1.
import http from 'node:http';
import { ApiServer, makeToken, requireEnv, sql, uniqueSuffix } from '../../tests/api/lib/harness.mjs';

requireEnv();
const [secs = 4, rounds = 3, concurrency = 32] = process.argv.slice(2).map(Number);
const PATH = '/api/v1/categories/1';

async function load(server, token) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const deadline = Date.now() + secs * 1000;
  let done = 0;
  let bad = 0;
  const one = () => new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: PATH, agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) bad++;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', () => { bad++; resolve(); });
    req.end();
  });
  const worker = async () => {
    while (Date.now() < deadline) {
      await one();
      done++;
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  if (bad) throw new Error(`${bad} requests failed`);
  return done / s;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const sfx = uniqueSuffix();
const email = `bench-sessions-${sfx}@example.com`;
const password = `bench-${sfx}-pw`;
sql(`INSERT INTO users (email, username, password_hash, role, verified)
     VALUES ('${email}', 'bench_${sfx}', crypt('${password}', gen_salt('bf', 4)), 'viewer', true);`);
const cached = await new ApiServer({ TECHMART_API_THREADS: '2', TECHMART_DB_POOL_SIZE: '4' }).start();
const uncached = await new ApiServer({ TECHMART_API_THREADS: '2', TECHMART_DB_POOL_SIZE: '4', TECHMART_SESSION_CACHE_TTL_MS: '0' }).start();
try {
  const login = async (s) => (await (await fetch(s.base + '/api/v1/auth/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }),
  })).json()).access_token;
  const tokA = await login(cached);
  const tokB = await login(uncached);
  // the second login bumped nothing: both tokens carry the same version
  const operator = makeToken('viewer');
  const runs = { operator: [], cached: [], query: [] };
  await load(cached, operator); // warm-up
  for (let r = 0; r < rounds; r++) {
    runs.operator.push(await load(cached, operator));
    runs.cached.push(await load(cached, tokA));
    runs.query.push(await load(uncached, tokB));
  }
  const base = median(runs.operator);
  console.log(`GET ${PATH}, ${concurrency} keep-alive connections, ${rounds} x ${secs} s rounds (median req/s; ratio to the operator token)`);
  console.log('| token | req/s | ratio |');
  console.log('|---|---|---|');
  for (const [k, label] of [['operator', 'operator token (not checked)'], ['cached', 'session token, cache (default)'], ['query', 'session token, a query per request (TTL 0)']]) {
    console.log(`| ${label} | ${median(runs[k]).toFixed(0)} | ${(median(runs[k]) / base).toFixed(3)} |`);
  }
  console.log(`rounds: ${JSON.stringify(Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map((x) => Math.round(x))])))}`);
} finally {
  await cached.stop();
  await uncached.stop();
  sql(`DELETE FROM users WHERE email = '${email}';`);
}
