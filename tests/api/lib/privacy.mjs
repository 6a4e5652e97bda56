// What each role sees of customers' private identifiers (migration api_viewer_privacy): a
// viewer token gets no IP address, device id, payment fingerprint or location (transaction
// latitude/longitude, customer home_lat/home_lon), nor those identifiers inside the readable
// reasons of the entity rules, on any endpoint returning transaction, customer or alert rows;
// analyst and admin tokens get them. psql callers of api.X(..., role) get the same answer as the
// token of that role. Registered by api.test.mjs before the database-restart test.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeToken, sql, uniqueSuffix, waitFor } from './harness.mjs';
import { sse } from './features.mjs';

const PRIVATE_TX = ['latitude', 'longitude', 'device_id', 'ip_address', 'payment_fingerprint'];
const PRIVATE_CUSTOMER = ['home_lat', 'home_lon'];

export function privacyTests(getServer) {
  let server;
  let fx; // the fixture: a customer, a transaction and an alert with every private field set
  const get = (path, role) => fetch(server.base + path, { headers: { Authorization: `Bearer ${makeToken(role)}` } });
  async function json(path, role) {
    const res = await get(path, role);
    assert.equal(res.status, 200, `${role} ${path}: ${res.status}`);
    return { text: await res.clone().text(), body: await res.json() };
  }
  // the private values themselves must not appear anywhere in a viewer's answer
  function leaks(text) {
    return [fx.ip, fx.device, fx.fingerprint, String(fx.lat), String(fx.lon), String(fx.homeLat), String(fx.homeLon)]
      .filter((v) => text.includes(v));
  }

  function assertTx(item, role) {
    assert.ok(item, `${role}: the fixture transaction is in the answer`);
    for (const k of PRIVATE_TX) {
      if (role === 'viewer') assert.equal(k in item, false, `viewer sees ${k}`);
      else assert.ok(k in item, `${role} does not see ${k}`);
    }
    if (role === 'viewer') {
      assert.equal(item.fraud_reasons[0].detail.startsWith('IP (withheld): 2 confirmed frauds'), true, item.fraud_reasons[0].detail);
      assert.equal(item.fraud_reasons[3].detail, fx.reasons[3].detail, 'other reasons unchanged');
    } else {
      assert.equal(item.ip_address, fx.ip);
      assert.equal(item.device_id, fx.device);
      assert.equal(item.payment_fingerprint, fx.fingerprint);
      assert.deepEqual(item.fraud_reasons.map((r) => r.detail), fx.reasons.map((r) => r.detail));
    }
  }

  describe('privacy: what each role sees', () => {
    before(async () => {
      server = await waitFor(() => getServer(), { timeoutMs: 20000, intervalMs: 50 });
      for (const t of ['customers', 'transactions', 'alerts']) {
        sql(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM ${t}), false);`);
      }
      const sfx = uniqueSuffix();
      fx = {
        ip: `198.51.100.${(Date.now() % 200) + 20}`,
        device: `dev-priv-${sfx}`,
        fingerprint: `${sfx}`.replace(/[^0-9a-f]/g, '').padEnd(16, 'a') + 'feedbeef',
        lat: 48.13713, lon: 11.57549, homeLat: 52.52437, homeLon: 13.41053,
        email: `priv-${sfx}@example.com`,
      };
      fx.customer = Number(sql(`INSERT INTO customers (email, name, country, city, home_lat, home_lon)
        VALUES ('${fx.email}', 'Privacy ${sfx}', 'DE', 'Berlin', ${fx.homeLat}, ${fx.homeLon}) RETURNING id;`));
      sql('UPDATE products SET stock_quantity = greatest(stock_quantity, 1000000) WHERE id = (SELECT min(id) FROM products);');
      fx.tx = Number(sql(`INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, platform, country,
          latitude, longitude, device_id, ip_address, payment_fingerprint)
        VALUES (${fx.customer}, (SELECT min(id) FROM products), 1, 10, 'credit_card', 'web', 'DE', ${fx.lat}, ${fx.lon}, '${fx.device}', '${fx.ip}', '${fx.fingerprint}')
        RETURNING id;`));
      // the readable reasons of the entity rules name the identifier (as the engine writes them)
      fx.reasons = [
        { rule: 'entity_ip', detail: `IP ${fx.ip}: 2 confirmed frauds of 3 labelled in 90 days by other customers (smoothed rate 9.0% vs 1.0% shop-wide)`, weight: 1, observed: 0.09, threshold: 0.05, contribution: 40 },
        { rule: 'entity_device', detail: `device ${fx.device}: 1 confirmed fraud of 1 labelled in 90 days by other customers (smoothed rate 5.0% vs 1.0% shop-wide)`, weight: 1, observed: 0.05, threshold: 0.05, contribution: 30 },
        { rule: 'entity_payment', detail: `payment fingerprint ${fx.fingerprint}: 1 confirmed fraud of 2 labelled in 90 days (smoothed rate 4.0% vs 1.0% shop-wide)`, weight: 1, observed: 0.04, threshold: 0.03, contribution: 20 },
        { rule: 'spend_24h', detail: '10.00 spent in 1 transactions within 24 h', weight: 0.3, observed: 1, threshold: 10, contribution: 9 },
      ];
      sql(`UPDATE transactions SET fraud_reasons = '${JSON.stringify(fx.reasons)}'::jsonb, fraud_score = 99, is_suspicious = true
            WHERE id = ${fx.tx};`);
      fx.alert = Number(sql(`INSERT INTO alerts (type, severity, message, transaction_id, customer_id, metadata)
        VALUES ('fraud', 'high', 'privacy test', ${fx.tx}, ${fx.customer},
                jsonb_build_object('score', 99, 'reasons', '${JSON.stringify(fx.reasons)}'::jsonb)) RETURNING id;`));
    });

    for (const role of ['viewer', 'analyst', 'admin']) {
      test(`${role}: transaction list, suspicious, recent and detail`, async () => {
        for (const path of [`/api/v1/transactions?customer_id=${fx.customer}`, `/api/v1/transactions/suspicious?customer_id=${fx.customer}`,
          '/api/v1/transactions/recent?limit=500']) {
          const { text, body } = await json(path, role);
          assertTx(body.items.find((i) => i.id === fx.tx), role);
          if (role === 'viewer') assert.deepEqual(leaks(text), [], `${path} leaks to a viewer`);
        }
        const { text, body } = await json(`/api/v1/transactions/${fx.tx}`, role);
        assertTx(body, role);
        const ex = body.explanation.find((e) => e.rule === 'entity_device');
        assert.equal(ex.detail.includes(fx.device), role !== 'viewer', `explanation detail for ${role}: ${ex.detail}`);
        if (role === 'viewer') assert.deepEqual(leaks(text), []);
      });

      test(`${role}: fraud explain`, async () => {
        const { text, body } = await json(`/api/v1/fraud/explain/${fx.tx}`, role);
        const details = body.map((e) => e.detail).join('\n');
        for (const v of [fx.ip, fx.device, fx.fingerprint]) assert.equal(details.includes(v), role !== 'viewer', `${role}: ${v}`);
        if (role === 'viewer') {
          assert.match(details, /^payment fingerprint \(withheld\): 1 confirmed fraud of 2/m);
          assert.deepEqual(leaks(text), []);
        }
      });

      test(`${role}: customer list and detail`, async () => {
        const list = await json(`/api/v1/customers?q=${encodeURIComponent(fx.email)}`, role);
        const one = await json(`/api/v1/customers/${fx.customer}`, role);
        for (const c of [list.body.items.find((i) => i.id === fx.customer), one.body]) {
          assert.ok(c);
          assert.equal(c.city, 'Berlin', 'city and country stay');
          for (const k of PRIVATE_CUSTOMER) assert.equal(k in c, role !== 'viewer', `${role}: ${k}`);
        }
        if (role === 'viewer') assert.deepEqual(leaks(list.text + one.text), []);
        else assert.equal(one.body.home_lat, fx.homeLat);
      });

      test(`${role}: alert list and detail`, async () => {
        const list = await json(`/api/v1/alerts?customer_id=${fx.customer}`, role);
        const one = await json(`/api/v1/alerts/${fx.alert}`, role);
        for (const a of [list.body.items.find((i) => i.id === fx.alert), one.body]) {
          assert.ok(a);
          const detail = a.metadata.reasons[1].detail;
          assert.equal(detail.includes(fx.device), role !== 'viewer', `${role}: ${detail}`);
          if (role === 'viewer') assert.match(detail, /^device \(withheld\): 1 confirmed fraud of 1 labelled/);
        }
        if (role === 'viewer') assert.deepEqual(leaks(list.text + one.text), []);
      });

      test(`${role}: fraud geo points and countries`, async () => {
        const from = new Date(Date.now() - 3600e3).toISOString();
        const to = new Date(Date.now() + 3600e3).toISOString();
        const { text, body } = await json(`/api/v1/fraud/geo?from=${from}&to=${to}&limit=5000`, role);
        const p = body.points.find((x) => x.id === fx.tx);
        assert.ok(p, 'the fixture is a suspicious point');
        const de = body.countries.find((c) => c.country === 'DE');
        for (const o of [p, de]) {
          for (const k of ['latitude', 'longitude']) assert.equal(k in o, role !== 'viewer', `${role}: ${k}`);
        }
        if (role === 'viewer') assert.deepEqual(leaks(text), []);
      });

      test(`${role}: the CSV export has none of the private columns`, async () => {
        const res = await get(`/api/v1/transactions/export?customer_id=${fx.customer}`, role);
        assert.equal(res.status, 200);
        const csv = await res.text();
        const header = csv.split('\n')[0].split(',');
        for (const k of [...PRIVATE_TX, ...PRIVATE_CUSTOMER]) assert.equal(header.includes(k), false, k);
        assert.deepEqual(leaks(csv), []);
      });

      test(`${role}: psql api.X(..., '${role}') gives what the token of that role gets`, async () => {
        const pairs = [
          [`/api/v1/transactions/${fx.tx}`, `api.get_transaction(${fx.tx}, '${role}')`],
          [`/api/v1/fraud/explain/${fx.tx}`, `api.fraud_explain(${fx.tx}, '${role}')`],
          [`/api/v1/transactions?customer_id=${fx.customer}`, `api.list_transactions('{"customer_id":"${fx.customer}"}', '${role}')`],
          [`/api/v1/customers/${fx.customer}`, `api.get_customer(${fx.customer}, '${role}')`],
          [`/api/v1/alerts/${fx.alert}`, `api.get_alert(${fx.alert}, '${role}')`],
        ];
        for (const [path, call] of pairs) {
          const { body } = await json(path, role);
          assert.deepEqual(body, JSON.parse(sql(`SELECT ${call};`)), path);
        }
      });
    }

    test('the service cannot call the unmasked variants; a role the SQL does not know is refused', () => {
      for (const f of ['api.list_transactions(jsonb)', 'api.get_transaction(bigint)', 'api.recent_transactions(integer)',
        'api.suspicious_transactions(jsonb)', 'api.fraud_explain(bigint)', 'api.list_alerts(jsonb)', 'api.get_alert(bigint)',
        'api.list_customers(jsonb)', 'api.get_customer(bigint)', 'api.fraud_geo(timestamptz,timestamptz,integer)']) {
        assert.equal(sql(`SELECT has_function_privilege('techmart_api', '${f}', 'EXECUTE');`), 'f', f);
      }
      assert.equal(sql(`SELECT has_function_privilege('techmart_api', 'api.get_transaction(bigint,text)', 'EXECUTE');`), 't');
      assert.throws(() => sql(`SELECT api.get_transaction(${fx.tx}, 'root');`), /invalid role/);
      assert.throws(() => sql(`SELECT api.get_transaction(${fx.tx}, NULL);`), /invalid role/);
    });

    test('viewer: the live stream\'s alert events withhold the identifiers (replayed and live)', async () => {
      // the stream is one feed for every role: its alert events are the viewer's view
      const c = sse(server, '/api/v1/stream', { Authorization: `Bearer ${makeToken('analyst')}` });
      try {
        await c.opened;
        await waitFor(() => c.events.some((e) => e.retry), { timeoutMs: 5000, intervalMs: 20 });
        const id = Number(sql(`INSERT INTO alerts (type, severity, message, customer_id, metadata)
          VALUES ('fraud', 'high', 'privacy stream', ${fx.customer}, jsonb_build_object('reasons', '${JSON.stringify(fx.reasons)}'::jsonb)) RETURNING id;`));
        const ev = await waitFor(() => c.events.find((e) => e.event === 'alert' && e.json?.id === id), { timeoutMs: 10000 });
        assert.match(ev.json.metadata.reasons[0].detail, /^IP \(withheld\): 2 confirmed frauds/);
        assert.deepEqual(leaks(ev.data), []);
        const replay = JSON.parse(sql(`SELECT api.stream_replay(NULL, ${id - 1}, 10);`));
        assert.deepEqual(leaks(JSON.stringify(replay.alerts)), []);
        assert.equal(replay.alerts[0].id, id);
      } finally {
        c.close();
      }
    });
  });
}
