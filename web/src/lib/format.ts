// Pure formatting and data-shaping helpers (unit tested in test/format.test.ts).

export type Metric = { value: number | null; previous?: number | null; change?: number | null; change_pct?: number | null };

const money0 = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 });
const money2 = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const int = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const dec1 = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function toNum(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export function fmtMoney(v: unknown, decimals: 0 | 2 = 2): string {
  const n = toNum(v);
  if (n === null) return '–';
  return (decimals === 0 ? money0 : money2).format(n);
}
export function fmtInt(v: unknown): string {
  const n = toNum(v);
  return n === null ? '–' : int.format(n);
}
/** an estimated count, to two significant digits ("about 1,200,000") */
export function fmtAbout(v: unknown): string {
  const n = toNum(v);
  if (n === null) return '–';
  const p = n >= 100 ? 10 ** (Math.floor(Math.log10(n)) - 1) : 1;
  return `about ${int.format(Math.round(n / p) * p)}`;
}
export function fmtDec1(v: unknown): string {
  const n = toNum(v);
  return n === null ? '–' : dec1.format(n);
}
/** a ratio (0.0125) as a percentage (1.25 %) */
export function fmtRate(v: unknown, digits = 2): string {
  const n = toNum(v);
  return n === null ? '–' : `${(n * 100).toFixed(digits)} %`;
}
/** A money axis tick: 800, 1.5k, 2k, 1.25M — distinct for distinct ticks (1500 and 2000 were both "2k"). */
export function fmtAxis(v: number): string {
  const a = Math.abs(v);
  const s = a >= 1e6 ? `${+(a / 1e6).toFixed(2)}M` : a >= 1000 ? `${+(a / 1000).toFixed(2)}k` : String(+a.toFixed(2));
  return v < 0 ? `-${s}` : s;
}
export function fmtScore(v: unknown): string {
  const n = toNum(v);
  return n === null ? '–' : n.toFixed(2);
}

/** "+12.5 %" / "−3.0 %" / "no change" / "n/a" for a metric's change against yesterday */
export function fmtChange(m: Metric | undefined | null): { text: string; direction: 'up' | 'down' | 'flat' | 'none' } {
  if (!m) return { text: 'n/a', direction: 'none' };
  const pct = toNum(m.change_pct);
  const ch = toNum(m.change);
  if (pct === null) {
    if (ch === null) return { text: 'n/a', direction: 'none' };
    if (ch === 0) return { text: 'no change', direction: 'flat' };
    return { text: ch > 0 ? 'new' : 'down', direction: ch > 0 ? 'up' : 'down' };
  }
  if (pct === 0) return { text: '0.0 %', direction: 'flat' };
  return { text: `${pct > 0 ? '+' : '−'}${Math.abs(pct).toFixed(1)} %`, direction: pct > 0 ? 'up' : 'down' };
}

const dt = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' });
const tOnly = new Intl.DateTimeFormat('en-GB', { timeStyle: 'medium', timeZone: 'UTC' });
export function fmtTime(v: string | null | undefined, withDate = true): string {
  if (!v) return '–';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return (withDate ? dt : tOnly).format(d) + ' UTC';
}

export type Reason = { rule: string; detail?: string; weight?: number; observed?: number; threshold?: number; contribution?: number };

const ruleNames: Record<string, string> = {
  velocity_10m: 'Many purchases within 10 minutes',
  velocity_1h: 'Many purchases within an hour',
  amount_spike: 'Amount far above this customer’s usual',
  amount_zscore: 'Amount far above this customer’s usual',
  impossible_travel: 'Impossible travel between purchases',
  odd_hours: 'Unusual hour for this customer',
  card_testing: 'Card testing (many tiny amounts)',
  new_payment_method: 'New payment method',
  new_device: 'New device',
  foreign_country: 'Purchase outside the home country',
  high_quantity: 'Unusually high quantity',
  new_customer: 'New customer',
};

export function ruleLabel(rule: string): string {
  return ruleNames[rule] ?? rule.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** The score's reasons, highest contribution first, with each one's share of the score (0..1). */
export function reasonBreakdown(reasons: unknown): (Reason & { label: string; share: number })[] {
  if (!Array.isArray(reasons)) return [];
  const rs = reasons.filter((r): r is Reason => !!r && typeof r === 'object' && typeof (r as Reason).rule === 'string');
  const total = rs.reduce((s, r) => s + Math.max(0, toNum(r.contribution) ?? 0), 0);
  return rs
    .map((r) => ({ ...r, label: ruleLabel(r.rule), share: total > 0 ? Math.max(0, toNum(r.contribution) ?? 0) / total : 0 }))
    .sort((a, b) => (toNum(b.contribution) ?? 0) - (toNum(a.contribution) ?? 0));
}

/** Sort rows by a key (numbers numerically, strings by locale), stable, nulls last. */
export function sortRows<T>(rows: T[], key: keyof T | null, dir: 'asc' | 'desc'): T[] {
  if (!key) return rows;
  const f = dir === 'asc' ? 1 : -1;
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => {
      const x = a.r[key] as unknown;
      const y = b.r[key] as unknown;
      if (x === null || x === undefined) return y === null || y === undefined ? a.i - b.i : 1;
      if (y === null || y === undefined) return -1;
      const nx = toNum(x);
      const ny = toNum(y);
      let c: number;
      if (typeof x !== 'boolean' && typeof y !== 'boolean' && nx !== null && ny !== null) c = nx - ny;
      else c = String(x).localeCompare(String(y));
      return c !== 0 ? c * f : a.i - b.i;
    })
    .map((e) => e.r);
}

export const DAY = 86_400_000;

/** ISO (UTC) of a yyyy-mm-dd date input at midnight; null for empty */
export function dateToIso(d: string | null | undefined, addDays = 0): string | null {
  if (!d) return null;
  const t = Date.parse(`${d}T00:00:00Z`);
  if (Number.isNaN(t)) return null;
  return new Date(t + addDays * DAY).toISOString();
}
export function isoToDate(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

export type Filters = {
  from: string; // yyyy-mm-dd or ''
  to: string; // yyyy-mm-dd (inclusive) or ''
  category_id: string;
  status: string;
  min_score: string;
  max_score: string;
  country: string;
};
export const emptyFilters: Filters = { from: '', to: '', category_id: '', status: '', min_score: '', max_score: '', country: '' };

/** The [from, to) range of the filters: empty ends default to `days` before the reference time and the reference time. */
export function filterRange(f: Filters, refIso: string, days = 30): { from: string; to: string } {
  const to = dateToIso(f.to, 1) ?? refIso;
  const from = dateToIso(f.from) ?? new Date(Date.parse(to) - days * DAY).toISOString();
  return { from, to };
}

/** Query parameters of /transactions and /transactions/export for the filters. */
export function transactionQuery(f: Filters, refIso: string | null): Record<string, string> {
  const q: Record<string, string> = {};
  const from = dateToIso(f.from);
  const to = dateToIso(f.to, 1) ?? refIso;
  if (from) q.from = from;
  if (to) q.to = to;
  if (f.category_id) q.category_id = f.category_id;
  if (f.status) q.status = f.status;
  if (f.min_score !== '') q.min_score = f.min_score;
  if (f.max_score !== '') q.max_score = f.max_score;
  if (f.country) q.country = f.country.toUpperCase();
  return q;
}

/** Problems in the filter form (shown next to the fields). */
export function validateFilters(f: Filters): Partial<Record<keyof Filters, string>> {
  const e: Partial<Record<keyof Filters, string>> = {};
  const lo = f.min_score === '' ? null : Number(f.min_score);
  const hi = f.max_score === '' ? null : Number(f.max_score);
  if (lo !== null && (!Number.isFinite(lo) || lo < 0 || lo > 100)) e.min_score = 'Between 0 and 100';
  if (hi !== null && (!Number.isFinite(hi) || hi < 0 || hi > 100)) e.max_score = 'Between 0 and 100';
  if (lo !== null && hi !== null && !e.min_score && !e.max_score && lo > hi) e.max_score = 'Must not be below the minimum';
  if (f.from && f.to && f.from > f.to) e.to = 'Must not be before the start';
  if (f.country && !/^[A-Za-z]{2}$/.test(f.country)) e.country = 'Two-letter code, e.g. GB';
  return e;
}

/** Parse a CSV (RFC 4180) into rows; used by tests and to count exported rows. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else q = false;
      } else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
