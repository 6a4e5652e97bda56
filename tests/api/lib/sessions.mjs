// Sign-in sessions an admin can control (migration user_sessions, api/src/sessions.h): a role
// change, a disabled account, a new password and POST /auth/logout end the account's session
// tokens from the next request on; the last active admin stays; the service's cache of account
// states is invalidated by NOTIFY (a change made elsewhere, here in psql, is seen without waiting
// for its TTL); the live streams of a revoked token end. Registered by api.test.mjs before the
// database-restart test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ApiServer, makeToken, sql, uniqueSuffix, waitFor } from './harness.mjs';
import { sse } from './features.mjs';

const admin = () => ({ Authorization: `Bearer ${makeToken('admin')}` }); // an operator token
const bearer = (t) => ({ Authorization: `Bearer ${t}` });

// An account made in SQL (bcrypt cost 4: fast), verified, with a known password.
function makeUser(role, { active = true } = {}) {
  const sfx = uniqueSuffix();
  const email = `sess-${role}-${sfx}@example.com`;
  const password = `pw-${sfx}-long`;
  const id = Number(sql(`INSERT INTO users (email, username, password_hash, role, verified, active)
    VALUES ('${email}', 'sess_${sfx}', crypt('${password}', gen_salt('bf', 4)), '${role}', true, ${active}) RETURNING id;`));
  return { id, email, password };
}

async function login(server, user, password = user.password) {
  return fetch(server.base + '/api/v1/auth/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: user.email, password }),
  });
}

async function tokenOf(server, user) {
  const r = await login(server, user);
  assert.equal(r.status, 200, `login of ${user.email}`);
  return (await r.json()).access_token;
}

function claims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

async function status(server, path, headers, init = {}) {
  const r = await fetch(server.base + path, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
  await r.arrayBuffer();
  return r.status;
}

async function patchUser(server, id, body, headers = admin()) {
  return fetch(`${server.base}/api/v1/users/${id}`, {
    method: 'PATCH', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
}

async function problem(res, statusCode) {
  assert.equal(res.status, statusCode);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  return res.json();
}

// Makes `keep` the only active admins for f(), then gives the others back their active flag.
async function onlyAdmins(keep, f) {
  const others = sql(`SELECT coalesce(string_agg(id::text, ','), '') FROM users
                       WHERE role = 'admin' AND active AND id NOT IN (${keep.join(',')});`);
  if (others) sql(`UPDATE users SET active = false WHERE id IN (${others});`);
  try {
    await f();
  } finally {
    if (others) sql(`UPDATE users SET active = true WHERE id IN (${others});`);
  }
}

export function sessionTests(getServer) {
  let server;
  before(async () => {
    server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
  });

  describe('sessions', () => {
    test('a login token carries the account\'s session version; a token with neither ver nor kind is refused', async () => {
      const u = makeUser('analyst');
      const t = await tokenOf(server, u);
      const c = claims(t);
      assert.equal(c.ver, Number(sql(`SELECT token_version FROM users WHERE id = ${u.id};`)));
      assert.equal(c.kind, undefined);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t)), 200);
      // a token as login issued it before sessions (no ver), signed with the right secret
      const legacy = makeToken('admin', { userId: u.id, claims: { kind: undefined } });
      const body = await problem(await fetch(server.base + '/api/v1/users/me', { headers: bearer(legacy) }), 401);
      assert.match(body.detail, /sign in again/);
    });

    test('a demotion is effective on the next request: the old token is 401, a new login has the new role', async () => {
      const u = makeUser('analyst');
      const t = await tokenOf(server, u);
      assert.equal(await status(server, '/api/v1/alerts', bearer(t), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 422);
      const r = await patchUser(server, u.id, { role: 'viewer' });
      assert.equal(r.status, 200);
      assert.equal((await r.json()).role, 'viewer');
      const p = await problem(await fetch(server.base + '/api/v1/transactions/recent', { headers: bearer(t) }), 401);
      assert.match(p.detail, /no longer valid/);
      const t2 = await tokenOf(server, u);
      assert.equal(claims(t2).role, 'viewer');
      assert.equal(await status(server, '/api/v1/transactions/recent', bearer(t2)), 200);
      assert.equal(await status(server, '/api/v1/alerts', bearer(t2), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 403);
      // a promotion too: the viewer's token ends, the next login is an admin's
      assert.equal((await patchUser(server, u.id, { role: 'admin' })).status, 200);
      assert.equal(await status(server, '/api/v1/transactions/recent', bearer(t2)), 401);
      const t3 = await tokenOf(server, u);
      assert.equal(claims(t3).role, 'admin');
      assert.equal(await status(server, '/api/v1/users', bearer(t3)), 200);
      // a PATCH that changes neither role nor active keeps the sessions
      assert.equal((await patchUser(server, u.id, { verified: true })).status, 200);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t3)), 200);
    });

    test('a disabled account: its token is 401 and it cannot sign in (the answer of a wrong password)', async () => {
      const u = makeUser('viewer');
      const t = await tokenOf(server, u);
      const r = await patchUser(server, u.id, { active: false });
      assert.equal(r.status, 200);
      assert.equal((await r.json()).active, false);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t)), 401);
      const disabled = await problem(await login(server, u), 401);
      const wrong = await problem(await login(server, u, 'not-the-password'), 401);
      const unknown = await problem(await login(server, { email: `nobody-${uniqueSuffix()}@example.com`, password: 'whatever-it-is' }), 401);
      for (const b of [disabled, wrong, unknown]) delete b.request_id, delete b.instance;
      assert.deepEqual(disabled, wrong, 'no account enumeration');
      assert.deepEqual(disabled, unknown);
      await problem(await patchUser(server, u.id, { active: 'no' }), 422);
      // enabled again: a new login works, the old token stays dead
      assert.equal((await patchUser(server, u.id, { active: true })).status, 200);
      const t2 = await tokenOf(server, u);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t2)), 200);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t)), 401);
      const list = await (await fetch(`${server.base}/api/v1/users/${u.id}`, { headers: admin() })).json();
      assert.equal(list.active, true);
    });

    test('an account set unverified: its token is 401, as its login is refused (change user_sessions_verified)', async () => {
      const u = makeUser('viewer');
      const t = await tokenOf(server, u);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t)), 200);
      const r = await patchUser(server, u.id, { verified: false });
      assert.equal(r.status, 200);
      assert.equal((await r.json()).verified, false);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t)), 401, 'the session of an unverified account ends');
      assert.equal((await login(server, u)).status !== 200, true, 'and it cannot sign in');
      // set in psql (no request of this service): the notification ends it too
      assert.equal((await patchUser(server, u.id, { verified: true })).status, 200);
      const t2 = await tokenOf(server, u);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t2)), 200);
      sql(`UPDATE users SET verified = false WHERE id = ${u.id};`);
      await waitFor(async () => (await status(server, '/api/v1/users/me', bearer(t2))) === 401, { timeoutMs: 5000, intervalMs: 50 });
      assert.equal(await status(server, '/api/v1/users/me', bearer(t)), 401, 'the first token stays dead');
    });

    test('POST /auth/logout: 204, and every token of the account is 401 from the next request on', async () => {
      const u = makeUser('analyst');
      const t1 = await tokenOf(server, u);
      const t2 = await tokenOf(server, u);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t2)), 200);
      const r = await fetch(server.base + '/api/v1/auth/logout', { method: 'POST', headers: bearer(t1) });
      assert.equal(r.status, 204);
      assert.equal(await r.text(), '');
      assert.equal(await status(server, '/api/v1/users/me', bearer(t1)), 401);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t2)), 401, 'the other session too');
      assert.equal(await status(server, '/api/v1/auth/logout', bearer(t1), { method: 'POST' }), 401);
      assert.equal(await status(server, '/api/v1/auth/logout', {}, { method: 'POST' }), 401);
      const t3 = await tokenOf(server, u);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t3)), 200);
    });

    test('POST /users/me/password: the current password checked, a new token, every other token ended', async () => {
      const u = makeUser('viewer');
      const t = await tokenOf(server, u);
      const other = await tokenOf(server, u);
      const post = (token, body) => fetch(server.base + '/api/v1/users/me/password', {
        method: 'POST', headers: { ...bearer(token), 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      const wrong = await problem(await post(t, { current_password: 'not-it-at-all', new_password: 'a brand new password' }), 422);
      assert.deepEqual(wrong.errors.map((e) => e.field), ['current_password']);
      const short = await problem(await post(t, { current_password: u.password, new_password: 'short' }), 422);
      assert.deepEqual(short.errors.map((e) => e.field), ['new_password']);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t)), 200, 'a refused change ends nothing');
      await problem(await post(makeToken('viewer', { userId: u.id }), { current_password: u.password, new_password: 'a brand new password' }), 403);
      const ok = await post(t, { current_password: u.password, new_password: 'a brand new password' });
      assert.equal(ok.status, 200);
      const body = await ok.json();
      assert.equal(body.user.id, u.id);
      assert.equal(await status(server, '/api/v1/users/me', bearer(body.access_token)), 200);
      assert.equal(await status(server, '/api/v1/users/me', bearer(t)), 401);
      assert.equal(await status(server, '/api/v1/users/me', bearer(other)), 401);
      assert.equal((await login(server, u)).status, 401, 'the old password');
      assert.equal((await login(server, u, 'a brand new password')).status, 200);
    });

    test('the last active admin cannot be demoted or disabled (409), also by two admins at once', async () => {
      const a = makeUser('admin');
      const b = makeUser('admin');
      await onlyAdmins([a.id, b.id], async () => {
        const ta = await tokenOf(server, a);
        // b may go: a stays
        assert.equal((await patchUser(server, b.id, { active: false }, bearer(ta))).status, 200);
        for (const change of [{ role: 'analyst' }, { active: false }, { role: 'viewer', active: false }]) {
          const p = await problem(await patchUser(server, a.id, change, bearer(ta)), 409);
          assert.match(p.detail, /last active admin/);
        }
        assert.equal(sql(`SELECT role || ' ' || active FROM users WHERE id = ${a.id};`), 'admin true');
        assert.equal(await status(server, '/api/v1/users', bearer(ta)), 200, 'a refused change ends no session');
        // two admins demoting each other at once: a DBA's transaction demotes a and stays open
        // (its check passed: b is an admin); the API's demotion of b must wait for it and then
        // see that a is no admin any more, not check against the snapshot before it
        assert.equal((await patchUser(server, b.id, { active: true }, bearer(ta))).status, 200);
        const psql = process.env.PSQL ?? `psql "${process.env.TECHMART_DATABASE_URL}"`;
        const marker = `last-admin-${uniqueSuffix()}`;
        const holder = spawn('sh', ['-c', `${psql} -X -q -v ON_ERROR_STOP=1 -c "BEGIN" -c "UPDATE users SET role = 'viewer' WHERE id = ${a.id}" -c "SELECT pg_sleep(1.5) /* ${marker} */" -c "COMMIT"`], { stdio: 'ignore' });
        const held = new Promise((r) => holder.on('close', r));
        await waitFor(() => sql(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND pid <> pg_backend_pid();`) === '1', { timeoutMs: 5000, intervalMs: 20 });
        const r = await patchUser(server, b.id, { role: 'viewer' });
        assert.equal(await held, 0, 'the DBA\'s demotion of a committed');
        const p = await problem(r, 409);
        assert.match(p.detail, /last active admin/);
        assert.equal(sql(`SELECT string_agg(role, ',' ORDER BY id) FROM users WHERE id IN (${a.id}, ${b.id});`), 'viewer,admin');
      });
    });

    test('a change notified while the LISTEN connection was down is seen after it reconnects (the cache emptied, the streams checked again)', async () => {
      // its own application_name, so that its listening connection can be told from the others
      const app = `techmart-api-sess-${uniqueSuffix()}`;
      const s2 = await new ApiServer({ TECHMART_SESSION_CACHE_TTL_MS: '3600000', PGAPPNAME: app }).start();
      const u = makeUser('analyst');
      try {
        const t = await tokenOf(s2, u);
        assert.equal(await status(s2, '/api/v1/users/me', bearer(t)), 200); // cached
        const stream = sse(s2, `/api/v1/stream?access_token=${t}`);
        try {
          assert.equal((await stream.opened).statusCode, 200);
          const listener = `SELECT pid FROM pg_stat_activity WHERE application_name = '${app}'
            AND query IN ('SELECT api.purge_idempotency_keys()', 'SELECT api.stream_replay(NULL, NULL, 0)::text', 'SELECT api.dashboard_overview()::text')`;
          await waitFor(() => sql(`SELECT count(*) FROM (${listener}) l;`) === '1', { timeoutMs: 5000, intervalMs: 50 });
          // the listener's backend ends (waited for), then the demotion: its NOTIFY reaches nobody of s2
          assert.equal(sql(`SELECT pg_terminate_backend(pid, 5000) FROM (${listener}) l;`), 't');
          sql(`UPDATE users SET role = 'viewer' WHERE id = ${u.id};`);
          await waitFor(async () => (await status(s2, '/api/v1/users/me', bearer(t))) === 401, { timeoutMs: 10000, intervalMs: 50 });
          const end = await Promise.race([stream.ended, new Promise((r) => setTimeout(() => r(null), 5000))]);
          assert.ok(end, 'the stream of the revoked token ended after the reconnect');
        } finally {
          stream.close();
        }
        await waitFor(() => s2.logs.some((l) => l.msg === 'stream listener lost the database; reconnecting'), { timeoutMs: 1000 });
      } finally {
        await s2.stop();
      }
    });

    describe('invalidation by NOTIFY (a change made elsewhere) and live streams', () => {
      let s;
      before(async () => {
        // a cache entry never expires by itself during the test: only the notification can end it
        s = await new ApiServer({ TECHMART_SESSION_CACHE_TTL_MS: '3600000' }).start();
      });
      after(async () => {
        await s?.stop();
      });

      const metric = async (name) => {
        const text = await (await fetch(s.base + '/metrics')).text();
        return Number(text.match(new RegExp(`^${name} (\\d+)`, 'm'))[1]);
      };

      test('requests of a session token cost no query once cached; a change in psql is seen without waiting for the TTL', async () => {
        const u = makeUser('analyst');
        const t = await tokenOf(s, u);
        assert.equal(await status(s, '/api/v1/users/me', bearer(t)), 200);
        const misses = await metric('techmart_session_cache_misses_total');
        const hits = await metric('techmart_session_cache_hits_total');
        for (let i = 0; i < 20; i++) assert.equal(await status(s, '/api/v1/transactions/recent?limit=1', bearer(t)), 200);
        assert.equal(await metric('techmart_session_cache_misses_total'), misses, 'no query of api.session_state');
        assert.ok((await metric('techmart_session_cache_hits_total')) >= hits + 20);
        // demoted by a DBA (not through this service): the trigger bumps the version, NOTIFY tells us
        sql(`UPDATE users SET role = 'viewer' WHERE id = ${u.id};`);
        await waitFor(async () => (await status(s, '/api/v1/users/me', bearer(t))) === 401, { timeoutMs: 5000, intervalMs: 50 });
        const t2 = await tokenOf(s, u);
        assert.equal(await status(s, '/api/v1/users/me', bearer(t2)), 200);
        // disabled elsewhere, then deleted elsewhere
        sql(`UPDATE users SET active = false WHERE id = ${u.id};`);
        await waitFor(async () => (await status(s, '/api/v1/users/me', bearer(t2))) === 401, { timeoutMs: 5000, intervalMs: 50 });
        const v = makeUser('viewer');
        const tv = await tokenOf(s, v);
        assert.equal(await status(s, '/api/v1/users/me', bearer(tv)), 200);
        sql(`DELETE FROM users WHERE id = ${v.id};`);
        await waitFor(async () => (await status(s, '/api/v1/transactions/recent?limit=1', bearer(tv))) === 401, { timeoutMs: 5000, intervalMs: 50 });
        assert.ok((await metric('techmart_sessions_refused_total')) >= 3);
      });

      test('the live stream of a signed-out token ends, and the token cannot reopen it', async () => {
        const u = makeUser('viewer');
        const t = await tokenOf(s, u);
        const keep = makeUser('viewer');
        const tk = await tokenOf(s, keep);
        const stream = sse(s, `/api/v1/stream?access_token=${t}`);
        const other = sse(s, `/api/v1/stream?access_token=${tk}`);
        const operator = sse(s, `/api/v1/stream?access_token=${makeToken('viewer', { userId: u.id })}`);
        try {
          assert.equal((await stream.opened).statusCode, 200);
          assert.equal((await other.opened).statusCode, 200);
          assert.equal((await operator.opened).statusCode, 200);
          await waitFor(() => stream.events.length > 0 && other.events.length > 0, { timeoutMs: 5000, intervalMs: 20 });
          const closed = await metric('techmart_sse_sessions_closed_total');
          // signed out elsewhere (psql): only the notification can tell this service
          sql(`SELECT api.logout(${u.id});`);
          const end = await Promise.race([stream.ended, new Promise((r) => setTimeout(() => r(null), 5000))]);
          assert.ok(end, 'the stream ended within 5 s');
          assert.equal(end.complete, true, 'with the last chunk');
          assert.equal(await metric('techmart_sse_sessions_closed_total'), closed + 1);
          const again = sse(s, `/api/v1/stream?access_token=${t}`);
          assert.equal((await again.opened).statusCode, 401);
          again.close();
          // the other account's stream and the operator token's stream stay open
          const quiet = await Promise.race([other.ended, operator.ended, new Promise((r) => setTimeout(() => r(null), 300))]);
          assert.equal(quiet, null);
        } finally {
          stream.close();
          other.close();
          operator.close();
        }
      });
    });
  });
}
