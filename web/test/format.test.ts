import { describe, expect, it } from 'vitest';
import {
  fmtAbout, fmtChange, fmtMoney, fmtRate, reasonBreakdown, sortRows, filterRange, transactionQuery, validateFilters, parseCsv, emptyFilters, dateToIso,
} from '../src/lib/format';
import { queryString, decodeToken, atLeast } from '../src/lib/api';
import { backoffMs } from '../src/lib/stream';

describe('formatting', () => {
  it('formats money and rates', () => {
    expect(fmtMoney(1234.5)).toBe('€1,234.50');
    expect(fmtMoney(null)).toBe('–');
    expect(fmtRate(0.0125)).toBe('1.25 %');
  });
  it('rounds an estimated count to two significant digits', () => {
    expect(fmtAbout(1234567)).toBe('about 1,200,000');
    expect(fmtAbout(4_960_000)).toBe('about 5,000,000');
    expect(fmtAbout(87)).toBe('about 87');
    expect(fmtAbout(150)).toBe('about 150');
    expect(fmtAbout(null)).toBe('–');
  });
  it('describes a change against yesterday', () => {
    expect(fmtChange({ value: 110, previous: 100, change: 10, change_pct: 10 })).toEqual({ text: '+10.0 %', direction: 'up' });
    expect(fmtChange({ value: 90, previous: 100, change: -10, change_pct: -10 })).toEqual({ text: '−10.0 %', direction: 'down' });
    expect(fmtChange({ value: 5, previous: 0, change: 5, change_pct: null })).toEqual({ text: 'new', direction: 'up' });
    expect(fmtChange({ value: 0, previous: 0, change: 0, change_pct: null }).direction).toBe('flat');
    expect(fmtChange({ value: null, previous: null, change: null, change_pct: null }).text).toBe('n/a');
  });
});

describe('score reasons', () => {
  it('orders by contribution and computes shares', () => {
    const r = reasonBreakdown([
      { rule: 'foreign_country', contribution: 2.5 },
      { rule: 'impossible_travel', contribution: 7.5, detail: 'far' },
    ]);
    expect(r.map((x) => x.rule)).toEqual(['impossible_travel', 'foreign_country']);
    expect(r[0].share).toBeCloseTo(0.75);
    expect(r[0].label).toBe('Impossible travel between purchases');
    expect(reasonBreakdown(null)).toEqual([]);
    expect(reasonBreakdown([{ rule: 'some_new_rule', contribution: 0 }])[0]).toMatchObject({ label: 'Some new rule', share: 0 });
  });
});

describe('sorting', () => {
  const rows = [{ n: 2, s: 'b' }, { n: 10, s: 'a' }, { n: null as number | null, s: 'c' }];
  it('sorts numbers numerically with nulls last', () => {
    expect(sortRows(rows, 'n', 'asc').map((r) => r.n)).toEqual([2, 10, null]);
    expect(sortRows(rows, 'n', 'desc').map((r) => r.n)).toEqual([10, 2, null]);
    expect(sortRows(rows, 's', 'asc').map((r) => r.s)).toEqual(['a', 'b', 'c']);
  });
});

describe('filters', () => {
  it('builds the [from, to) range and the transaction query', () => {
    const f = { ...emptyFilters, from: '2026-11-01', to: '2026-11-07', status: 'completed', min_score: '50', country: 'gb' };
    expect(filterRange(f, '2026-11-22T00:00:00.000Z')).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z' });
    expect(filterRange(emptyFilters, '2026-11-22T00:00:00.000Z', 30).from).toBe('2026-10-23T00:00:00.000Z');
    expect(transactionQuery(f, null)).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z', status: 'completed', min_score: '50', country: 'GB' });
    expect(transactionQuery(emptyFilters, null)).toEqual({});
    expect(dateToIso('nonsense')).toBeNull();
  });
  it('validates', () => {
    expect(validateFilters({ ...emptyFilters, min_score: '80', max_score: '20' })).toHaveProperty('max_score');
    expect(validateFilters({ ...emptyFilters, min_score: '120' })).toHaveProperty('min_score');
    expect(validateFilters({ ...emptyFilters, country: 'GBR' })).toHaveProperty('country');
    expect(validateFilters({ ...emptyFilters, from: '2026-11-05', to: '2026-11-01' })).toHaveProperty('to');
    expect(validateFilters({ ...emptyFilters, min_score: '10', max_score: '90', country: 'de' })).toEqual({});
  });
});

describe('api helpers', () => {
  it('builds query strings without empty values', () => {
    expect(queryString({ a: 1, b: '', c: null, d: 'x y', e: undefined })).toBe('?a=1&d=x%20y');
    expect(queryString({})).toBe('');
  });
  it('decodes the role of a JWT', () => {
    const payload = btoa(JSON.stringify({ role: 'analyst', email: 'a@b.c', exp: 1 })).replace(/=+$/, '');
    expect(decodeToken(`h.${payload}.s`)).toMatchObject({ role: 'analyst', email: 'a@b.c' });
    expect(decodeToken('garbage')).toBeNull();
    expect(atLeast('analyst', 'viewer')).toBe(true);
    expect(atLeast('viewer', 'analyst')).toBe(false);
    expect(atLeast(undefined, 'viewer')).toBe(false);
  });
  it('parses CSV with quotes', () => {
    expect(parseCsv('a,b\n1,"x, ""y"""\n')).toEqual([['a', 'b'], ['1', 'x, "y"']]);
  });
  it('backs off the stream reconnection up to 10 s', () => {
    expect([1, 2, 3, 10].map(backoffMs)).toEqual([500, 1000, 2000, 10000]);
  });
});

import { hourText, hourTick, parseForecast } from '../src/lib/forecast';

describe('forecast', () => {
  const body = {
    granularity: 'day', season: 7, level: 0.8,
    forecast: [
      // a business day's t is its local midnight (here Europe/Berlin: 23:00 UTC the day before)
      { t: '2026-11-22T23:00:00+00:00', label: '2026-11-23', revenue: 5000.5, lower: 4000, upper: 6001 },
      { t: '2026-11-23T23:00:00+00:00', label: '2026-11-24', revenue: '4800.25', lower: '3900', upper: '5700.5' },
      { t: '2026-11-24T23:00:00+00:00', label: '2026-11-25', revenue: null, lower: 1, upper: 2 },
    ],
  };
  it('reads the points, band and level of GET /analytics/forecast/revenue', () => {
    const f = parseForecast(body, 'day');
    expect(f.level).toBe(0.8);
    expect(f.items).toEqual([
      { t: '2026-11-22T23:00:00+00:00', label: '2026-11-23', point: 5000.5, lower: 4000, upper: 6001 },
      { t: '2026-11-23T23:00:00+00:00', label: '2026-11-24', point: 4800.25, lower: 3900, upper: 5700.5 },
    ]);
  });
  it('labels hours with the API\'s label in the shop\'s time zone, not the UTC or browser hour of t, and tolerates an empty or malformed body', () => {
    // 07:00 UTC is 12:30 in Asia/Kolkata
    expect(parseForecast({ forecast: [{ t: '2026-11-23T07:00:00+00:00', label: '2026-11-23T12:30+05:30', revenue: 1, lower: 0, upper: 2 }] }, 'hour').items[0].label)
      .toBe('2026-11-23 12:30 +05:30');
    expect(parseForecast(null, 'day')).toEqual({ items: [], level: 0.95 });
    expect(parseForecast({ forecast: [{ revenue: 1, lower: 0, upper: 2 }] }, 'day').items).toEqual([]);
    expect(parseForecast({ forecast: [{ t: '2026-11-23T07:00:00+00:00', revenue: 1, lower: 0, upper: 2 }] }, 'hour').items).toEqual([]);
  });
  it('hourText / hourTick: the label\'s own local time, a repeated hour told apart by its offset, seconds kept', () => {
    expect(hourText('2026-10-25T02:00+02:00')).toBe('2026-10-25 02:00 +02:00');
    expect(hourText('2026-10-25T02:00+01:00')).toBe('2026-10-25 02:00 +01:00');
    expect(hourText('2026-11-01T01:00-05:00')).toBe('2026-11-01 01:00 -05:00');
    expect(hourText('1900-01-01T00:19:32+00:19:32')).toBe('1900-01-01 00:19:32 +00:19:32');
    expect(hourText('not a label')).toBe('not a label');
    expect(hourTick('2026-12-07 09:30 +05:30')).toBe('09:30');
    expect(hourTick('2026-12-07T09:30+05:30')).toBe('09:30');
    expect(hourTick('1900-01-01 00:19:32 +00:19:32')).toBe('00:19');
    expect(hourTick('2026-12-07')).toBe('2026-12-07');
  });
});
