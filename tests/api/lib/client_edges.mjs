// The API as a demanding HTTP client meets it: the Authorization scheme is case-insensitive and
// the header's surrounding whitespace is not part of the token (RFC 9110 11.1, 5.5); API answers
// (customers' and accounts' data) are never stored by a cache (Cache-Control: no-store).
// Registered by api.test.mjs before the database-restart test.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { makeToken, sql, waitFor } from './harness.mjs';

// one request on a raw socket (header bytes exactly as given); resolves {status, headers, raw}
function rawRequest(port, lines) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(`${lines.join('\r\n')}\r\n\r\n`));
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (c) => (data += c));
    sock.on('error', reject);
    sock.on('close', () => {
      const head = data.split('\r\n\r\n')[0].split('\r\n');
      const headers = {};
      for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        const k = l.slice(0, i).toLowerCase();
        headers[k] = headers[k] ? `${headers[k]}, ${l.slice(i + 1).trim()}` : l.slice(i + 1).trim();
      }
      resolve({ status: Number(head[0].split(' ')[1]), headers, raw: data });
    });
  });
}

export function clientEdgeTests(getServer) {
  describe('HTTP client edges: Authorization scheme, Cache-Control', () => {
    let server;
    before(async () => {
      server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
    });

    test('the bearer scheme in any case, extra spaces and tabs around the token are accepted; a wrong token is still 401', async () => {
      const t = makeToken('viewer');
      const cases = { [`BEARER ${t}`]: 200, [`bEaReR ${t}`]: 200, [`Bearer ${t}  `]: 200, [`Bearer \t${t}\t`]: 200, [`Bearer  ${t}`]: 200,
        [`Bearer ${t}x`]: 401, [`Basic ${t}`]: 401, [`Bearer${t}`]: 401 };
      for (const [value, want] of Object.entries(cases)) {
        const r = await rawRequest(server.port, ['GET /api/v1/users/me HTTP/1.1', 'Host: x', `Authorization: ${value}`, 'Connection: close']);
        assert.equal(r.status, want, JSON.stringify(value.replace(t, '<token>')));
      }
    });

    test('API answers say Cache-Control: no-store (JSON, problem, CSV export), once; static and health keep theirs', async () => {
      const auth = { Authorization: `Bearer ${makeToken('viewer')}` };
      for (const [path, headers, status] of [
        ['/api/v1/transactions?limit=1', auth, 200], ['/api/v1/customers/1', auth, null], ['/api/v1/transactions/0', auth, 404],
        ['/api/v1/transactions', {}, 401], ['/api/v1/transactions?limit=0', auth, 422], ['/api/v1/transactions/export?limit=1', auth, 200],
        ['/api/v1/users/me', auth, null],
      ]) {
        const res = await fetch(server.base + path, { headers });
        if (status) assert.equal(res.status, status, path);
        assert.equal(res.headers.get('cache-control'), 'no-store', path);
        await res.arrayBuffer();
      }
      // login sets its own no-store: not twice (fetch would join two into "no-store, no-store")
      const email = `edge-${Date.now()}@example.com`;
      sql(`SELECT api.bootstrap_admin('${email}', 'edge-password-123');`);
      const login = await fetch(`${server.base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password: 'edge-password-123' }) });
      assert.equal(login.status, 200);
      assert.equal(login.headers.get('cache-control'), 'no-store');
      const health = await fetch(`${server.base}/health`);
      assert.notEqual(health.headers.get('cache-control'), 'no-store');
    });
  });
}
