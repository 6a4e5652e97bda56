// GET /openapi.json and GET /docs: the document is valid OpenAPI 3 (@apidevtools/swagger-parser,
// from tests/api/package.json), matches the route table of the binary both ways (paths, methods,
// least roles, security, query parameters of the query-parameter routes), and Swagger UI is
// served from the docs directory without any CDN. Needs TECHMART_DOCS_DIR (the build's api/docs;
// ./techmart test sets it) and `npm ci` in tests/api.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { API_BIN, JWT_SECRET, waitFor } from './harness.mjs';

const DOCS_DIR = process.env.TECHMART_DOCS_DIR;

export function docsTests(getServer) {
  describe('API documentation (openapi.json, Swagger UI)', { skip: DOCS_DIR ? false : 'TECHMART_DOCS_DIR not set' }, () => {
    let server;
    let doc;
    let routes;
    before(async () => {
      server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
      routes = JSON.parse(execFileSync(API_BIN, ['routes', '--json'], { encoding: 'utf8', env: { ...process.env, TECHMART_JWT_SECRET: JWT_SECRET } }));
    });

    test('GET /openapi.json is a valid OpenAPI 3.0 document (swagger-parser)', async () => {
      const res = await fetch(server.base + '/openapi.json');
      assert.equal(res.status, 200, 'the test server must run with TECHMART_DOCS_DIR');
      assert.match(res.headers.get('content-type'), /^application\/json/);
      doc = await res.json();
      assert.match(doc.openapi, /^3\.0\./);
      const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
      const api = await SwaggerParser.validate(structuredClone(doc)); // throws with the schema violations
      assert.equal(api.info.title, doc.info.title);
      assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
      assert.equal(doc.components.securitySchemes.bearerAuth.bearerFormat, 'JWT');
    });

    test('every route is documented with its role and security, and every documented operation is a route', async () => {
      doc ??= await (await fetch(server.base + '/openapi.json')).json();
      const documented = new Set();
      for (const [p, ops] of Object.entries(doc.paths)) {
        for (const [m, op] of Object.entries(ops)) documented.add(`${m.toUpperCase()} ${p}`);
      }
      const served = new Set(routes.map((r) => `${r.method} ${r.path}`));
      assert.deepEqual([...served].filter((k) => !documented.has(k)), [], 'routes missing from openapi.json');
      assert.deepEqual([...documented].filter((k) => !served.has(k)), [], 'documented operations that are not routes');
      for (const r of routes) {
        const op = doc.paths[r.path][r.method.toLowerCase()];
        assert.equal(op['x-required-role'], r.role, `${r.method} ${r.path} role`);
        if (r.role === 'public') {
          assert.deepEqual(op.security, [], `${r.method} ${r.path} is public`);
        } else {
          assert.deepEqual(op.security, [{ bearerAuth: [] }], `${r.method} ${r.path} needs a token`);
          for (const s of ['401', '403']) assert.ok(op.responses[s], `${r.method} ${r.path} documents ${s}`);
        }
        for (const [status, resp] of Object.entries(op.responses)) {
          if (Number(status) >= 400) assert.ok(resp.content['application/problem+json'], `${r.method} ${r.path} ${status} is problem+json`);
        }
        for (const m of r.path.matchAll(/\{([^}]+)\}/g)) {
          assert.ok(op.parameters.some((p) => p.in === 'path' && p.name === m[1] && p.required), `${r.method} ${r.path} path parameter ${m[1]}`);
        }
        if (r.query) {
          const names = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name).sort();
          assert.deepEqual(names, r.query.map((p) => p.name).sort(), `${r.method} ${r.path} query parameters`);
          assert.ok(op.responses['422'], `${r.method} ${r.path} documents 422`);
          for (const p of r.query.filter((x) => x.enum)) {
            assert.deepEqual(op.parameters.find((x) => x.name === p.name).schema.enum, p.enum, `${r.path} ${p.name} enum`);
          }
        }
      }
    });

    test('GET /docs is Swagger UI served locally (no CDN)', async () => {
      const res = await fetch(server.base + '/docs');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/html/);
      const html = await res.text();
      assert.match(html, /swagger-ui/);
      assert.doesNotMatch(html, /https?:\/\//, 'no external URL');
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      assert.ok(assets.length >= 4, 'stylesheet and scripts');
      for (const a of assets) {
        const r = await fetch(server.base + a);
        assert.equal(r.status, 200, a);
        await r.arrayBuffer();
      }
      const init = await (await fetch(server.base + '/docs/swagger-initializer.js')).text();
      assert.match(init, /url: '\/openapi\.json'/);
      const js = await fetch(server.base + '/docs/swagger-ui-bundle.js');
      assert.match(js.headers.get('content-type'), /javascript/);
      await js.arrayBuffer();
      assert.equal((await fetch(server.base + '/docs/..%2F..%2Fetc%2Fpasswd')).status, 404);
    });
  });
}
