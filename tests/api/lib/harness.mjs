// Helpers for the API tests: spawn the real techmart-api binary on a free port, talk HTTP to it,
// and run SQL through psql. No npm dependencies (Node 20 built-ins only).
import { spawn, execSync } from 'node:child_process';
import http from 'node:http';
import { randomBytes, createHmac } from 'node:crypto';

export const API_BIN = process.env.TECHMART_API_BIN;
export const DATABASE_URL = process.env.TECHMART_DATABASE_URL;

export function requireEnv() {
  const missing = ['TECHMART_API_BIN', 'TECHMART_DATABASE_URL'].filter((v) => !process.env[v]);
  if (missing.length) throw new Error(`set ${missing.join(' and ')} (see tests/api/README.md)`);
}

// psql command line for the test database: $PSQL, else psql with TECHMART_DATABASE_URL.
export function psqlCommand() {
  if (process.env.PSQL) return process.env.PSQL;
  return `psql ${JSON.stringify(DATABASE_URL)}`;
}

// Runs SQL (fed on stdin) and returns the unaligned, tuples-only output.
export function sql(text) {
  return execSync(`${psqlCommand()} -X -q -A -t -v ON_ERROR_STOP=1`, {
    input: text,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim();
}

// The JWT secret the test servers use (strong enough for production mode).
export const JWT_SECRET = process.env.TECHMART_TEST_JWT_SECRET ?? `test-${randomBytes(24).toString('hex')}`;

function b64url(s) {
  return Buffer.from(s).toString('base64url');
}

// An HS256 JWT as `techmart-api token` prints them (an operator token: claim kind "operator", not
// tied to a session of the account; login tokens carry the account's session version "ver"
// instead); `claims`/`header` override the defaults (tests of expired, not-yet-valid, alg=none and
// forged tokens).
export function makeToken(role, { userId = 1, email = 'test@example.com', ttl = 3600, claims = {}, header = {}, secret = JWT_SECRET } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const h = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', ...header }));
  const p = b64url(JSON.stringify({ sub: String(userId), iss: 'techmart-api', email, role, iat: now, nbf: now, exp: now + ttl, kind: 'operator', ...claims }));
  const sig = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  return `${h}.${p}.${sig}`;
}

// The connection string for the API: the least-privilege role techmart_api unless
// TECHMART_TEST_API_DB_USER says otherwise ("" keeps the user of TECHMART_DATABASE_URL).
export function apiDatabaseUrl() {
  const user = process.env.TECHMART_TEST_API_DB_USER ?? 'techmart_api';
  if (!user || /^postgres(ql)?:\/\//.test(DATABASE_URL ?? '')) return DATABASE_URL;
  return `${DATABASE_URL} user=${user}`;
}

export function uniqueSuffix() {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

// A running techmart-api process. Its stderr is parsed as JSON lines into `logs`.
export class ApiServer {
  constructor(env = {}) {
    this.env = env;
    this.logs = [];
    this.stderr = '';
    this.exit = null;
    this.authToken = null; // sent as Authorization: Bearer unless the request sets its own
  }

  withAuth(headers = {}) {
    const has = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
    return this.authToken && !has ? { Authorization: `Bearer ${this.authToken}`, ...headers } : headers;
  }

  async start(timeoutMs = 15000) {
    const env = {
      ...process.env,
      TECHMART_DATABASE_URL: apiDatabaseUrl(),
      TECHMART_API_ADDRESS: '127.0.0.1',
      TECHMART_JWT_SECRET: JWT_SECRET,
      TECHMART_ENV: 'production',
      TECHMART_RATE_LIMIT_RPS: '0',
      TECHMART_LOGIN_PER_MINUTE: '0',
      TECHMART_API_PORT: '0', // the kernel picks a free port; the "listening" log line tells us
      ...this.env,
    };
    this.proc = spawn(API_BIN, [], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => {
      // 'close': after the exit and the last of stderr (the logs a test reads after the exit)
      this.proc.on('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    let buffered = '';
    const listening = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`techmart-api did not start in ${timeoutMs} ms:\n${this.stderr}`)),
        timeoutMs,
      );
      this.proc.stderr.setEncoding('utf8');
      this.proc.stderr.on('data', (chunk) => {
        this.stderr += chunk;
        buffered += chunk;
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          let entry;
          try {
            entry = JSON.parse(line);
          } catch {
            entry = { unparsable: line };
          }
          this.logs.push(entry);
          if (entry.msg === 'listening') {
            clearTimeout(timer);
            resolve(entry.port);
          }
        }
      });
      this.proc.on('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`techmart-api exited with ${code} before listening:\n${this.stderr}`));
      });
    });
    this.port = await listening;
    this.base = `http://127.0.0.1:${this.port}`;
    return this;
  }

  // Sends a signal and waits for the exit; returns {code, signal}.
  async stop(signal = 'SIGINT', timeoutMs = 10000) {
    if (!this.proc || this.exit) return this.exit;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  fetch(path, init = {}) {
    return fetch(this.base + path, { ...init, headers: this.withAuth(init.headers ?? {}) });
  }

  // Raw request through node:http (exact path, raw headers, socket reuse visible). Without an
  // agent every request gets its own connection.
  raw(path, { method = 'GET', headers = {}, body, agent = false } = {}) {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: this.port, path, method, headers: this.withAuth(headers), agent },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (data += c));
          res.on('end', () =>
            resolve({ status: res.statusCode, headers: res.headers, body: data, socket: req.socket }),
          );
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}

export async function postJson(server, path, body, headers = {}) {
  return server.fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function waitFor(predicate, { timeoutMs = 30000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await predicate();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms (last: ${last})`);
}
