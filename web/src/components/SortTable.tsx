import { useMemo, useState, type ReactNode } from 'react';
import { fmtAbout, fmtInt, sortRows } from '../lib/format';

export type Column<T> = {
  key: keyof T & string;
  label: string;
  numeric?: boolean;
  render?: (row: T) => ReactNode;
  sortable?: boolean;
};

export type SortState = { key: string | null; dir: 'asc' | 'desc' };

/** Header cell with a sort button and aria-sort. */
export function SortHeader({ label, active, dir, onSort, numeric }: { label: string; active: boolean; dir: 'asc' | 'desc'; onSort?: () => void; numeric?: boolean }) {
  return (
    <th scope="col" aria-sort={active ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'} className={numeric ? 'num' : undefined}>
      {onSort ? (
        <button type="button" className="sort" onClick={onSort}>
          {label}
          <span aria-hidden="true" className="sort-ind">
            {active ? (dir === 'asc' ? '▲' : '▼') : '↕'}
          </span>
        </button>
      ) : (
        label
      )}
    </th>
  );
}

export function Pager({ page, pages, total, exact = true, onPage, label }: { page: number; pages: number; total: number; exact?: boolean; onPage: (p: number) => void; label: string }) {
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        Previous
      </button>
      <span aria-live="polite" data-testid="page-info">
        {exact
          ? `Page ${Math.min(page, Math.max(pages, 1))} of ${Math.max(pages, 1)} (${fmtInt(total)} rows)`
          : `Page ${page} of ${fmtAbout(pages)} (${fmtAbout(total)} rows)`}
      </span>
      <button type="button" onClick={() => onPage(page + 1)} disabled={page >= pages}>
        Next
      </button>
    </nav>
  );
}

/** A client-side sortable, paginated table (for the small lists of the widgets). */
export function SortTable<T>({
  caption,
  columns,
  rows,
  rowKey,
  pageSize = 10,
  initialSort,
}: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (r: T) => string | number;
  pageSize?: number;
  initialSort?: SortState;
}) {
  const [sort, setSort] = useState<SortState>(initialSort ?? { key: null, dir: 'asc' });
  const [page, setPage] = useState(1);
  const sorted = useMemo(() => sortRows(rows, sort.key as keyof T | null, sort.dir), [rows, sort]);
  const pages = Math.ceil(sorted.length / pageSize);
  const p = Math.min(page, Math.max(1, pages));
  const shown = sorted.slice((p - 1) * pageSize, p * pageSize);
  return (
    <>
      <div className="table-wrap" tabIndex={0} role="region" aria-label={caption}>
        <table className="sort-table">
          <caption className="sr-only">{caption}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <SortHeader
                  key={c.key}
                  label={c.label}
                  numeric={c.numeric}
                  active={sort.key === c.key}
                  dir={sort.dir}
                  onSort={
                    c.sortable === false
                      ? undefined
                      : () => {
                          setSort((s) => ({ key: c.key, dir: s.key === c.key && s.dir === 'desc' ? 'asc' : s.key === c.key ? 'desc' : c.numeric ? 'desc' : 'asc' }));
                          setPage(1);
                        }
                  }
                />
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={rowKey(r)}>
                {columns.map((c) => (
                  <td key={c.key} className={c.numeric ? 'num' : undefined} data-col={c.key}>
                    {c.render ? c.render(r) : String(r[c.key] ?? '–')}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages > 1 && <Pager page={p} pages={pages} total={sorted.length} onPage={setPage} label={caption} />}
    </>
  );
}
