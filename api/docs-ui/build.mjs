#!/usr/bin/env node
// Builds the API documentation directory served by techmart-api (TECHMART_DOCS_DIR):
//   openapi.json   OpenAPI 3.0.3, generated from the binary's route table (`techmart-api routes
//                  --json`: method, path, least role, and the typed query parameters of the
//                  query-parameter routes) plus the descriptions below
//   index.html, swagger-initializer.js and the swagger-ui-dist files (no CDN)
//
//   node build.mjs --api /path/to/techmart-api --out DIR [--ui node_modules/swagger-ui-dist]
//
// Fails when a route has no description here or a description names no route, so the document
// cannot drift from the service (tests/api/lib/docs.mjs checks the served document again).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
if (!args.api || !args.out) {
  console.error('usage: node build.mjs --api techmart-api --out DIR [--ui swagger-ui-dist dir]');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const uiDir = args.ui ?? path.join(here, 'node_modules', 'swagger-ui-dist');

const routes = JSON.parse(execFileSync(args.api, ['routes', '--json'], { encoding: 'utf8', env: { ...process.env, TECHMART_JWT_SECRET: 'docs-build' } }));

// ------------------------------------------------------------------ schemas
const obj = (properties, extra = {}) => ({ type: 'object', properties, ...extra });
const str = (description, extra = {}) => ({ type: 'string', description, ...extra });
const int = (description, extra = {}) => ({ type: 'integer', format: 'int64', description, ...extra });
const num = (description, extra = {}) => ({ type: 'number', description, ...extra });
const bool = (description) => ({ type: 'boolean', description });
const time = (description) => ({ type: 'string', format: 'date-time', description });
const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
// what a viewer token does not get (migration api_viewer_privacy: the SQL functions omit it)
const PRIVATE = 'Analyst and admin tokens only: omitted for a viewer token';
const WITHHELD = 'for a viewer token the device, IP, network and payment fingerprint named in the detail of an entity rule are withheld ("IP (withheld): 2 confirmed frauds of ...")';
const listOf = (item) => ({
  allOf: [ref('List'), obj({ items: { type: 'array', items: item } })],
});

const schemas = {
  Problem: obj(
    {
      type: str('urn:techmart:problem:<slug>'),
      title: str('Short summary of the problem type'),
      status: { type: 'integer', description: 'HTTP status' },
      detail: str('What went wrong in this request'),
      instance: str('The request path'),
      request_id: str('Also in the X-Request-Id header and the access log'),
      errors: { type: 'array', description: 'Field errors (422)', items: ref('FieldError') },
    },
    { required: ['type', 'title', 'status'], description: 'RFC 9457 problem details (application/problem+json)' },
  ),
  FieldError: obj({ field: str('Body field, query parameter or header'), message: str('What is wrong with it') }, { required: ['field', 'message'] }),
  List: obj(
    { count: int('Items in this answer: only the unpaged lists (recent transactions, fraud rules), which have no total or offset'), total: int('Items matching the filters (paged lists); for transactions an estimate when total_exact is false'), total_exact: bool('Transactions only: false when total is the database planner\'s estimate (filters beyond what the rollups answer, whose exact count would cost more than analytics.settings list_count_budget); a page shorter than limit is the last one and makes the total exact'), limit: int('Page size'), offset: int('Items skipped (paged lists)') },
    { description: 'A list: paged lists answer items, total, limit and offset; the unpaged ones (recent transactions: items, count, limit; fraud rules: items, count) no total' },
  ),
  Metric: obj(
    { value: num('Current value', { nullable: true }), previous: num('Value of the comparison period', { nullable: true }), change: num('value - previous', { nullable: true }), change_pct: num('Change in percent (null when previous is 0)', { nullable: true }) },
  ),
  Transaction: obj({
    id: int('Transaction id'), customer_id: int('Customer'), product_id: int('Product', { nullable: true }), quantity: { type: 'integer' },
    unit_price: num('Price per unit'), amount: num('quantity * unit_price'), transaction_time: time('When it was placed'),
    status: str('Status', { enum: ['pending', 'completed', 'failed', 'refunded', 'blocked'] }), payment_method: str('Payment method'),
    platform: str('Platform'), country: str('ISO country', { nullable: true }), fraud_score: num('0..100, set by the scoring trigger'),
    fraud_reasons: { type: 'array', description: `Rules that contributed, highest first; ${WITHHELD}`, items: { type: 'object', additionalProperties: true } },
    latitude: num(`Location at purchase (IP geolocation). ${PRIVATE}`, { nullable: true }), longitude: num(`Location at purchase. ${PRIVATE}`, { nullable: true }),
    device_id: str(`Device. ${PRIVATE}`, { nullable: true }), ip_address: str(`IP address. ${PRIVATE}`, { nullable: true }),
    payment_fingerprint: str(`Hashed payment fingerprint. ${PRIVATE}`, { nullable: true }),
    is_suspicious: bool('fraud_score >= threshold'), label: str('Analyst label', { nullable: true }),
    explanation: { type: 'array', description: 'GET /transactions/{id} only: techmart.explain rows (as GET /fraud/explain/{id})', items: ref('Explanation') },
  }, { additionalProperties: true }),
  Explanation: obj({
    rule: str('Rule name, or "= score" for the final line'), observed: num('Observed value (the score on the last line)', { nullable: true }),
    threshold: num('Rule threshold (the suspicious threshold on the last line)', { nullable: true }), weight: num('Rule weight', { nullable: true }),
    contribution: num('Points contributed (the score on the last line)', { nullable: true }), detail: str(`Readable reason or verdict; ${WITHHELD}`),
  }, { additionalProperties: false }),
  TransactionInput: obj({
    customer_id: int('Customer'), product_id: int('Product'), quantity: { type: 'integer', minimum: 1 }, unit_price: num('Price per unit (default: the product price)'),
    payment_method: str('Payment method'), platform: str('Platform'), country: str('ISO country'), latitude: num('Latitude'), longitude: num('Longitude'),
    device_id: str('Device'), ip_address: str('IP address'), order_number: str('Order number'), transaction_time: time('Default: now'),
  }, { required: ['customer_id', 'quantity'], additionalProperties: false }),
  TransactionUpdate: obj({ status: str('New status'), label: str('fraud, legitimate or null'), note: str('Free text') }, { additionalProperties: false }),
  Alert: obj({ id: int('Alert id'), type: str('Type'), severity: str('low, medium, high, critical'), status: str('open, acknowledged, resolved'), message: str('Message'), transaction_id: int('Transaction', { nullable: true }), customer_id: int('Customer', { nullable: true }), created_at: time('Created'), metadata: { type: 'object', additionalProperties: true, description: `Score, reasons and links of a fraud alert; in reasons ${WITHHELD}` } }, { additionalProperties: true }),
  AlertInput: obj({ type: str('Type'), severity: str('low, medium, high, critical'), message: str('Message'), transaction_id: int('Transaction'), customer_id: int('Customer'), product_id: int('Product'), metadata: { type: 'object', additionalProperties: true } }, { required: ['type', 'severity', 'message'], additionalProperties: false }),
  AlertUpdate: obj({ status: str('acknowledged or resolved'), note: str('Free text') }, { additionalProperties: false }),
  InventoryUpdate: obj({ quantity: { type: 'integer', description: 'New stock quantity' }, reason: str('Why (recorded in the history)'), note: str('Free text') }, { required: ['quantity', 'reason'], additionalProperties: false }),
  Product: obj({ id: int('Product id'), sku: str('SKU'), name: str('Name'), description: str('Description', { nullable: true }), category_id: int('Category', { nullable: true }), price: num('Price'), stock_quantity: { type: 'integer' }, low_stock_threshold: { type: 'integer' }, supplier_id: int('Supplier', { nullable: true }) }, { additionalProperties: true }),
  ProductInput: obj({ sku: str('SKU (unique)'), name: str('Name'), description: str('Description'), category_id: int('Category'), price: num('Price'), stock_quantity: { type: 'integer' }, low_stock_threshold: { type: 'integer' }, supplier_id: int('Supplier') }, { additionalProperties: false }),
  Category: obj({ id: int('Category id'), name: str('Name'), description: str('Description', { nullable: true }) }, { additionalProperties: true }),
  CategoryInput: obj({ name: str('Name (unique)'), description: str('Description') }, { additionalProperties: false }),
  Supplier: obj({ id: int('Supplier id'), name: str('Name'), reliability_score: num('0..1'), country: str('Country'), contact_email: str('E-mail') }, { additionalProperties: true }),
  SupplierInput: obj({ name: str('Name'), reliability_score: num('0..1'), country: str('Country'), contact_email: str('E-mail') }, { additionalProperties: false }),
  Customer: obj({ id: int('Customer id'), email: str('E-mail'), name: str('Name'), country: str('Country'), city: str('City', { nullable: true }), home_lat: num(`Home latitude. ${PRIVATE}`, { nullable: true }), home_lon: num(`Home longitude. ${PRIVATE}`, { nullable: true }), registration_date: time('Registered') }, { additionalProperties: true }),
  CustomerInput: obj({ email: str('E-mail (unique)'), name: str('Name'), country: str('Country'), city: str('City'), home_lat: num('Latitude'), home_lon: num('Longitude') }, { additionalProperties: false }),
  User: obj({ id: int('User id'), email: str('E-mail'), username: str('User name'), role: str('viewer, analyst or admin'), verified: bool('E-mail verified'), active: bool('false: disabled (cannot sign in; its tokens are refused)') }, { additionalProperties: true }),
  UserUpdate: obj({ role: str('viewer, analyst or admin; a change ends the account\'s sessions (its tokens are 401: it signs in again)'), verified: bool('Verified'), active: bool('false disables the account: it cannot sign in and its tokens are refused; a change ends its sessions') }, { additionalProperties: false }),
  PasswordChange: obj({ current_password: str('The current password', { format: 'password' }), new_password: str('10 characters to 72 bytes, not the current one', { format: 'password' }) }, { required: ['current_password', 'new_password'], additionalProperties: false }),
  Register: obj({ email: str('E-mail'), username: str('User name'), password: str('At least 8 characters', { format: 'password' }) }, { required: ['email', 'username', 'password'], additionalProperties: false }),
  VerifyEmail: obj({ token: str('The verification token') }, { required: ['token'], additionalProperties: false }),
  Login: obj({ email: str('E-mail'), password: str('Password', { format: 'password' }) }, { required: ['email', 'password'], additionalProperties: false }),
  Token: obj({ access_token: str('JWT (HS256) of a session: valid until it expires or the session ends (sign-out, a role change, disabling, a new password)'), token_type: str('Bearer'), expires_in: { type: 'integer' }, user: ref('User') }),
  FraudRule: obj({ name: str('Rule'), enabled: bool('Enabled'), weight: num('Weight'), threshold: num('Threshold'), params: { type: 'object', additionalProperties: true }, updated_at: time('Last change') }),
  FraudRuleUpdate: obj({ enabled: bool('Enabled'), weight: num('0..1000', { minimum: 0, maximum: 1000 }), threshold: num('Threshold'), params: { type: 'object', additionalProperties: true } }, { additionalProperties: false, minProperties: 1 }),
  Overview: obj({
    as_of: time('as_of'), timezone: str('Business time zone'), today: obj({ from: time('Midnight'), to: time('as_of') }), yesterday: obj({ from: time('Midnight'), to: time('Same time of day') }),
    revenue: ref('Metric'), orders: ref('Metric'), average_order_value: ref('Metric'), active_customers: ref('Metric'), transactions: ref('Metric'), units: ref('Metric'),
    suspicious_rate: ref('Metric'), suspicious: ref('Metric'), refunded_amount: ref('Metric'), new_alerts: ref('Metric'), low_stock: ref('Metric'),
    open_alerts: obj({ value: { type: 'integer' } }),
  }, { additionalProperties: true }),
  Health: obj({ status: str('ok or degraded'), database: { description: 'api.health() or "down"' } }),
  // hourly items: the UTC hour and its label in the business time zone, as analytics.sales_series('hour') labels it
  HourlySalesItem: obj({
    hour: time('Start of the UTC hour (RFC 3339)'),
    label: str('The hour\'s local wall-clock time in the business time zone with its UTC offset, ISO 8601 to the minute '
      + '(seconds only for a local mean time offset): the label of analytics.sales_series(\'hour\') and of GET /analytics/revenue?period=hour '
      + 'for the same hour. A repeated hour (clocks going back) has two offsets; it parses as the same instant as hour',
      { example: '2026-10-25T02:00+01:00' }),
    revenue: num('Revenue'), orders: int('Orders'), units: int('Units'), transactions: int('Transactions'),
    suspicious: int('Suspicious transactions'), refunded_amount: num('Refunded amount'),
  }, { required: ['hour', 'label', 'revenue', 'orders', 'units', 'transactions', 'suspicious', 'refunded_amount'] }),
  HourlySales: obj({
    from: time('from'), to: time('to'), dimension: str('Dimension'), key: str('Dimension value', { nullable: true }),
    timezone: str('Business time zone of the labels', { example: 'Europe/Berlin' }),
    items: { type: 'array', items: ref('HourlySalesItem') }, count: { type: 'integer' },
  }),
  ForecastPoint: obj({
    t: time('Start of the bucket: the UTC hour, or the local midnight of a business day'),
    label: str('As analytics.sales_series labels the bucket: hour, its local time with the UTC offset '
      + '(2026-10-25T02:00+01:00); day, the business day (2026-10-25)'),
    revenue: num('Revenue (history) or point forecast'), lower: num('Lower bound (forecast only)'), upper: num('Upper bound (forecast only)'),
  }, { required: ['t', 'label', 'revenue'] }),
  RevenueForecast: obj({
    granularity: str('day or hour'), season: { type: 'integer' }, level: num('Interval level'), as_of: time('as_of'),
    timezone: str('Business time zone'), model: str('Model'),
    history: { type: 'array', items: ref('ForecastPoint') }, forecast: { type: 'array', items: ref('ForecastPoint') },
  }, { additionalProperties: true }),
  JsonObject: { type: 'object', additionalProperties: true, description: 'JSON object; see the SQL function named in the description' },
};

// ------------------------------------------------------------------ query parameters of list endpoints
const q = (name, schema, description) => ({ name, in: 'query', required: false, schema, description });
const page = [q('sort', { type: 'string' }, 'Column, `-column` for descending (exactly one `-`; anything else, e.g. `--amount`, is 422 naming sort and the allowed columns)'), q('limit', { type: 'integer', minimum: 1, maximum: 1000 }, 'Page size'), q('offset', { type: 'integer', minimum: 0 }, 'Items skipped')];
const range = [q('from', { type: 'string', format: 'date-time' }, 'From (inclusive)'), q('to', { type: 'string', format: 'date-time' }, 'To (exclusive); before `from`: 422 with a field error on to, as the analytics endpoints answer')];
const txFilters = [...range, q('status', { type: 'string' }, 'Status'), q('customer_id', { type: 'integer' }, 'Customer'), q('product_id', { type: 'integer' }, 'Product'),
  q('category_id', { type: 'integer' }, 'Category'), q('country', { type: 'string' }, 'Country'), q('min_score', { type: 'number' }, 'Least fraud score'),
  q('max_score', { type: 'number' }, 'Highest fraud score'), q('suspicious', { type: 'boolean' }, 'Suspicious only / not'), q('label', { type: 'string' }, 'Label'), ...page];

// ------------------------------------------------------------------ the operations
// key: "METHOD path" -> [tag, summary, {query, body, ok, okSchema, sql, stream}]
const V = '/api/v1';
const D = {
  'GET /health': ['system', 'Health with database status', { okSchema: ref('Health'), errors: [503], sql: 'api.health()' }],
  'GET /metrics': ['system', 'Prometheus metrics (text format 0.0.4): the API\'s own (requests, latency, pools, SSE) and the database\'s (techmart_ops.prometheus(): alerts, rules fired, scoring time; cached TECHMART_DB_METRICS_CACHE_MS)', { text: 'text/plain' }],
  'GET /openapi.json': ['system', 'This document', { okSchema: ref('JsonObject') }],
  'GET /docs': ['system', 'Swagger UI (served locally)', { text: 'text/html' }],
  'GET /docs/{file}': ['system', 'Swagger UI assets', { text: 'application/octet-stream', errors: [404] }],
  [`POST ${V}/auth/register`]: ['auth', 'Register an account (viewer; e-mail to be verified)', { body: 'Register', ok: 201, okSchema: ref('User'), sql: 'api.register' }],
  [`POST ${V}/auth/verify-email`]: ['auth', 'Verify an e-mail address with its token', { body: 'VerifyEmail', okSchema: ref('User'), errors: [404], sql: 'api.verify_email' }],
  [`POST ${V}/auth/login`]: ['auth', 'Log in: a session token (rate-limited per IP); a disabled account gets the 401 of a wrong password', { body: 'Login', okSchema: ref('Token'), errors: [401, 403, 429], sql: 'api.login' }],
  [`POST ${V}/auth/logout`]: ['auth', 'Sign out: every session of the token\'s account ends (its tokens are 401 from the next request on, its live streams close)', { ok: 204, sql: 'api.logout' }],
  [`GET ${V}/users/me`]: ['auth', 'The account of the token', { okSchema: ref('User'), errors: [404], sql: 'api.get_user' }],
  [`POST ${V}/users/me/password`]: ['auth', 'Change the password of the signed-in account: a new session token; every other session ends (422 current_password when wrong; 403 for an operator token)', { body: 'PasswordChange', okSchema: ref('Token'), errors: [404], sql: 'api.change_password' }],
  [`GET ${V}/users`]: ['users', 'List accounts (paged like every list; sort: id, email, username, role, created_at, last_login_at; default id)', { query: page, okSchema: listOf(ref('User')), sql: 'api.list_users' }],
  [`GET ${V}/users/{id}`]: ['users', 'One account', { okSchema: ref('User'), sql: 'api.get_user' }],
  [`PATCH ${V}/users/{id}`]: ['users', 'Change role, verification or active (disable/enable); a change of role or active ends the account\'s sessions; the last active admin cannot be demoted or disabled (409)', { body: 'UserUpdate', okSchema: ref('User'), errors: [409], sql: 'api.update_user' }],
  [`POST ${V}/transactions`]: ['transactions', 'Create a transaction (scored on insert; Idempotency-Key supported). A completed or pending sale takes its quantity from the product\'s stock_quantity (an inventory_history row, reason sale); 409 when the product has fewer units in stock (nothing is booked, an Idempotency-Key is not spent)', { body: 'TransactionInput', ok: 201, okSchema: ref('Transaction'), idempotency: true, sql: 'api.create_transaction' }],
  [`GET ${V}/transactions`]: ['transactions', 'List transactions (filters, sort, pagination with total)', { query: txFilters, okSchema: listOf(ref('Transaction')), sql: 'api.list_transactions' }],
  [`GET ${V}/transactions/recent`]: ['transactions', 'Most recent transactions', { query: [q('limit', { type: 'integer', minimum: 1, maximum: 500, default: 20 }, 'How many')], okSchema: listOf(ref('Transaction')), sql: 'api.recent_transactions' }],
  [`GET ${V}/transactions/suspicious`]: ['transactions', 'Suspicious transactions', { query: txFilters, okSchema: listOf(ref('Transaction')), sql: 'api.suspicious_transactions' }],
  [`GET ${V}/transactions/export`]: ['transactions', 'CSV export (streamed with COPY on the read database; the filters of the list). A failure after the 200 (statement timeout TECHMART_EXPORT_STATEMENT_TIMEOUT_MS, lost backend) cuts the chunked stream: the client sees an incomplete transfer, never a complete-looking file. A text cell starting with = + - @, tab or CR gets a leading single quote (a spreadsheet shows it as text, never runs it as a formula); numbers are written as numbers', { query: txFilters, text: 'text/csv', sql: 'api.export_transactions' }],
  [`GET ${V}/transactions/{id}`]: ['transactions', 'One transaction with its score and reasons', { okSchema: ref('Transaction'), sql: 'api.get_transaction' }],
  [`PATCH ${V}/transactions/{id}`]: ['transactions', 'Set status or label. A status change moves the product\'s stock: to refunded gives the units back (history reason return, by the caller), to failed or blocked too (adjustment), back to completed or pending takes them again (409 when the stock has too few)', { body: 'TransactionUpdate', okSchema: ref('Transaction'), sql: 'api.update_transaction', errors: [409] }],
  [`POST ${V}/alerts`]: ['alerts', 'Create an alert', { body: 'AlertInput', ok: 201, okSchema: ref('Alert'), sql: 'api.create_alert' }],
  [`GET ${V}/alerts`]: ['alerts', 'List alerts', { query: [q('status', { type: 'string' }, 'Status'), q('severity', { type: 'string' }, 'Severity'), q('type', { type: 'string' }, 'Type'), q('customer_id', { type: 'integer' }, 'Customer'), q('transaction_id', { type: 'integer' }, 'Transaction'), ...range, ...page], okSchema: listOf(ref('Alert')), sql: 'api.list_alerts' }],
  [`GET ${V}/alerts/status`]: ['alerts', 'Alert counts by status and severity', { okSchema: ref('JsonObject'), sql: 'api.alerts_status' }],
  [`GET ${V}/alerts/{id}`]: ['alerts', 'One alert', { okSchema: ref('Alert'), sql: 'api.get_alert' }],
  [`PATCH ${V}/alerts/{id}`]: ['alerts', 'Acknowledge or resolve an alert', { body: 'AlertUpdate', okSchema: ref('Alert'), sql: 'api.update_alert' }],
  [`GET ${V}/inventory`]: ['inventory', 'Stock with velocity and days of cover', { query: [q('days', { type: 'integer' }, 'Velocity window in days'), q('max_days_of_cover', { type: 'number' }, 'Only products with less cover'), q('category_id', { type: 'integer' }, 'Category'), q('supplier_id', { type: 'integer' }, 'Supplier'), ...page], okSchema: listOf(ref('JsonObject')), sql: 'api.list_inventory' }],
  [`GET ${V}/inventory/low-stock`]: ['inventory', 'Products low on stock', { query: [q('days', { type: 'integer' }, 'Velocity window in days'), q('max_days_of_cover', { type: 'number' }, 'Only products with less cover'), q('category_id', { type: 'integer' }, 'Category'), q('supplier_id', { type: 'integer' }, 'Supplier'), ...page], okSchema: listOf(ref('JsonObject')), sql: 'api.low_stock' }],
  [`PUT ${V}/inventory/{id}`]: ['inventory', 'Set the stock of a product (reason recorded in the history)', { body: 'InventoryUpdate', okSchema: ref('JsonObject'), sql: 'api.update_inventory' }],
  [`GET ${V}/inventory/{id}/history`]: ['inventory', 'Stock history of a product', { query: [q('limit', { type: 'integer' }, 'Page size'), q('offset', { type: 'integer' }, 'Items skipped')], okSchema: listOf(ref('JsonObject')), sql: 'api.inventory_history' }],
  [`GET ${V}/stream`]: ['live', 'Server-sent events: transaction, transactions_bulk, alert, metrics, replay_truncated (Last-Event-ID replays)', { text: 'text/event-stream', query: [q('last_event_id', { type: 'string' }, 'Like the Last-Event-ID header')], errors: [503] }],
  [`GET ${V}/fraud/explain/{id}`]: ['fraud', 'How a transaction\'s score was built (techmart.explain: each reason, then "= score")', { okSchema: { type: 'array', items: ref('Explanation') }, sql: 'api.fraud_explain' }],
  [`PUT ${V}/fraud/rules/{name}`]: ['fraud', 'Change a fraud rule (enabled, weight, threshold, params)', { body: 'FraudRuleUpdate', okSchema: ref('FraudRule'), sql: 'api.update_fraud_rule' }],
};
for (const [plural, singular, filters] of [
  ['products', 'Product', [q('q', { type: 'string' }, 'Search'), q('category_id', { type: 'integer' }, 'Category'), q('supplier_id', { type: 'integer' }, 'Supplier'), q('min_price', { type: 'number' }, 'Least price'), q('max_price', { type: 'number' }, 'Highest price')]],
  ['categories', 'Category', [q('q', { type: 'string' }, 'Search')]],
  ['suppliers', 'Supplier', [q('q', { type: 'string' }, 'Search'), q('country', { type: 'string' }, 'Country')]],
  ['customers', 'Customer', [q('q', { type: 'string' }, 'Search'), q('country', { type: 'string' }, 'Country'), q('min_risk', { type: 'number' }, 'Least risk')]],
]) {
  const fn = singular.toLowerCase();
  D[`GET ${V}/${plural}`] = [plural, `List ${plural}`, { query: [...filters, ...page], okSchema: listOf(ref(singular)), sql: `api.list_${plural}` }];
  D[`POST ${V}/${plural}`] = [plural, `Create a ${fn}`, { body: `${singular}Input`, ok: 201, okSchema: ref(singular), sql: `api.create_${fn}` }];
  D[`GET ${V}/${plural}/{id}`] = [plural, `One ${fn}`, { okSchema: ref(singular), sql: `api.get_${fn}` }];
  D[`PUT ${V}/${plural}/{id}`] = [plural, `Update a ${fn}`, { body: `${singular}Input`, okSchema: ref(singular), sql: `api.update_${fn}` }];
  if (plural !== 'customers') D[`DELETE ${V}/${plural}/{id}`] = [plural, `Delete a ${fn} (409 while referenced)`, { ok: 204, sql: `api.delete_${fn}` }];
}

// ------------------------------------------------------------------ build
const problemResponse = (description) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const problemText = {
  400: 'Malformed request (JSON syntax, query syntax; an unparsable request line, header or Content-Length, then the connection closes)', 401: 'No or invalid bearer token', 403: 'The token\'s role is too low',
  404: 'No such resource', 405: 'Method not allowed (Allow header)', 409: 'Conflict (duplicate, in use, idempotency key in flight, not enough stock for a sale)', 413: 'Body too large',
  415: 'Body is not application/json', 422: 'Invalid input: `errors` lists every field', 429: 'Rate limited (Retry-After, X-RateLimit-*)',
  500: 'Internal error (generic detail; logged with the request id)', 503: 'Database unavailable, busy or read-only (a write reached a standby: 25006) (Retry-After)',
};
const kindSchema = (p) => {
  switch (p.type) {
    case 'time': return { type: 'string', description: 'YYYY-MM-DD (midnight, business time zone) or RFC 3339 date-time with offset', example: '2026-11-01T00:00:00Z' };
    case 'integer': return { type: 'integer', format: 'int64', minimum: p.minimum, maximum: p.maximum };
    case 'number': return { type: 'number', minimum: p.minimum, maximum: p.maximum };
    default: return p.enum ? { type: 'string', enum: p.enum } : { type: 'string', minLength: 1, maxLength: 100 };
  }
};

const paths = {};
const missing = [];
const used = new Set();
for (const r of routes) {
  const key = `${r.method} ${r.path}`;
  let d = D[key];
  if (!d && r.query) d = [r.path.split('/')[3] ?? 'analytics', r.summary, { query: 'route', okSchema: r.path.endsWith('/overview') ? ref('Overview') : r.path.endsWith('/fraud/rules') ? listOf(ref('FraudRule'))
    : r.path.endsWith('/analytics/hourly-sales') ? ref('HourlySales') : r.path.endsWith('/analytics/forecast/revenue') ? ref('RevenueForecast') : ref('JsonObject') }];
  if (!d) {
    missing.push(key);
    continue;
  }
  used.add(key);
  const [tag, summary, o] = d;
  const op = { tags: [tag], summary, operationId: `${r.method.toLowerCase()}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c) => (c ? c.toUpperCase() : ''))}`, 'x-required-role': r.role };
  if (o.sql) op.description = `Calls \`${o.sql}\`.`;
  const params = [];
  for (const m of r.path.matchAll(/\{([^}]+)\}/g)) {
    params.push({ name: m[1], in: 'path', required: true, schema: m[1] === 'id' ? { type: 'integer', format: 'int64', minimum: 1 } : { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' } });
  }
  if (o.query === 'route') {
    for (const p of r.query) params.push({ name: p.name, in: 'query', required: false, description: p.description, schema: kindSchema(p) });
  } else if (o.query) {
    params.push(...o.query);
  }
  if (o.idempotency) params.push({ name: 'Idempotency-Key', in: 'header', required: false, description: 'A retried request with the same key returns the first result (Idempotent-Replayed: true)', schema: { type: 'string', minLength: 1, maxLength: 255 } });
  if (params.length) op.parameters = params;
  if (o.body) op.requestBody = { required: true, content: { 'application/json': { schema: ref(o.body) } } };
  const ok = o.ok ?? 200;
  const okResp = { description: ok === 201 ? 'Created (Location header)' : ok === 204 ? 'Done' : 'OK' };
  if (ok === 201) okResp.headers = { Location: { description: 'URL of the new resource', schema: { type: 'string' } } };
  if (ok !== 204) okResp.content = o.text ? { [o.text]: { schema: { type: 'string' } } } : { 'application/json': { schema: o.okSchema ?? ref('JsonObject') } };
  op.responses = { [String(ok)]: okResp };
  const errs = new Set(o.errors ?? []);
  if (r.role !== 'public') { errs.add(401); errs.add(403); }
  if (r.path.startsWith(V)) errs.add(429);
  if (o.query || o.body || r.query) errs.add(422);
  if (o.body) { errs.add(400); errs.add(413); errs.add(415); }
  if (r.path.includes('{')) errs.add(404);
  if (['POST', 'PUT', 'DELETE'].includes(r.method) && r.path.startsWith(V) && !r.path.includes('/auth/')) errs.add(409);
  if (o.sql || r.query) errs.add(503);
  errs.add(500);
  for (const s of [...errs].sort()) op.responses[String(s)] = problemResponse(problemText[s]);
  op.security = r.role === 'public' ? [] : [{ bearerAuth: [] }];
  paths[r.path] ??= {};
  paths[r.path][r.method.toLowerCase()] = op;
}
const unused = Object.keys(D).filter((k) => !used.has(k));
if (missing.length || unused.length) {
  if (missing.length) console.error(`routes without a description in api/docs-ui/build.mjs: ${missing.join(', ')}`);
  if (unused.length) console.error(`descriptions in api/docs-ui/build.mjs without a route: ${unused.join(', ')}`);
  process.exit(1);
}

const doc = {
  openapi: '3.0.3',
  info: {
    title: 'TechMart Analytics API',
    version: '1.0.0',
    description:
      'Real-time fraud detection and sales analytics. Each endpoint calls one SQL function of the `api` schema. ' +
      'Errors are application/problem+json. Authentication: `Authorization: Bearer <JWT>` (POST /api/v1/auth/login); ' +
      'the least role of each operation is in `x-required-role` (viewer < analyst < admin). Times in query strings: ' +
      'YYYY-MM-DD (midnight in the business time zone) or RFC 3339 with offset; ranges are [from, to). ' +
      'A viewer token gets no customer\'s IP address, device id, payment fingerprint or location: transactions without latitude, ' +
      'longitude, device_id, ip_address, payment_fingerprint, customers without home_lat/home_lon, fraud geo without coordinates, ' +
      'and those identifiers withheld in the details of fraud reasons, explanations and alerts (also in the live stream, one feed for every role).',
  },
  servers: [{ url: '/' }],
  tags: [...new Set(Object.values(paths).flatMap((p) => Object.values(p).map((o) => o.tags[0])))].map((name) => ({ name })),
  paths,
  components: {
    securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT with claims sub, role, exp and ver (a session token of POST /api/v1/auth/login: refused with 401 once the session ended — sign-out, a role change, disabling, a new password) or kind "operator" (techmart-api token)' } },
    schemas,
  },
};

fs.mkdirSync(args.out, { recursive: true });
fs.writeFileSync(path.join(args.out, 'openapi.json'), JSON.stringify(doc, null, 1) + '\n');
for (const f of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png', 'favicon-16x16.png', 'LICENSE']) {
  fs.copyFileSync(path.join(uiDir, f), path.join(args.out, f));
}
fs.writeFileSync(path.join(args.out, 'swagger-initializer.js'), `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
};
`);
fs.writeFileSync(path.join(args.out, 'index.html'), `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>TechMart API — Swagger UI</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script src="/docs/swagger-initializer.js" charset="UTF-8"></script>
</body>
</html>
`);
console.log(`openapi.json: ${Object.values(paths).reduce((n, p) => n + Object.keys(p).length, 0)} operations, ${Object.keys(paths).length} paths -> ${args.out}`);
