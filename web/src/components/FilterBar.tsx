import { memo, useEffect, useState, type FormEvent } from 'react';
import { emptyFilters, validateFilters, type Filters } from '../lib/format';
import type { Category } from '../context';

const STATUSES = ['pending', 'completed', 'failed', 'refunded', 'blocked'];

export const FilterBar = memo(function FilterBar({ value, onChange, categories }: { value: Filters; onChange: (f: Filters) => void; categories: Category[] }) {
  const [draft, setDraft] = useState<Filters>(value);
  const [errors, setErrors] = useState<Partial<Record<keyof Filters, string>>>({});
  useEffect(() => setDraft(value), [value]);
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  function submit(e: FormEvent) {
    e.preventDefault();
    const errs = validateFilters(draft);
    setErrors(errs);
    if (Object.keys(errs).length === 0) onChange({ ...draft, country: draft.country.toUpperCase() });
  }
  const field = (k: keyof Filters, label: string, input: React.ReactNode) => (
    <div className={`field${errors[k] ? ' invalid' : ''}`}>
      <label htmlFor={`f-${k}`}>{label}</label>
      {input}
      {errors[k] && (
        <span className="field-error" id={`f-${k}-err`}>
          {errors[k]}
        </span>
      )}
    </div>
  );
  const aria = (k: keyof Filters) => ({ id: `f-${k}`, 'aria-invalid': errors[k] ? true : undefined, 'aria-describedby': errors[k] ? `f-${k}-err` : undefined });
  return (
    <form className="filters" role="search" aria-label="Filters" onSubmit={submit} noValidate>
      {field('from', 'From', <input type="date" {...aria('from')} value={draft.from} onChange={set('from')} />)}
      {field('to', 'To', <input type="date" {...aria('to')} value={draft.to} onChange={set('to')} />)}
      {field(
        'category_id',
        'Category',
        <select {...aria('category_id')} value={draft.category_id} onChange={set('category_id')}>
          <option value="">All categories</option>
          {categories.map((c) => (
            <option key={c.id} value={String(c.id)}>
              {c.name}
            </option>
          ))}
        </select>,
      )}
      {field(
        'status',
        'Status',
        <select {...aria('status')} value={draft.status} onChange={set('status')}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>,
      )}
      {field('min_score', 'Score from', <input type="number" inputMode="decimal" min={0} max={100} step="any" {...aria('min_score')} value={draft.min_score} onChange={set('min_score')} />)}
      {field('max_score', 'Score to', <input type="number" inputMode="decimal" min={0} max={100} step="any" {...aria('max_score')} value={draft.max_score} onChange={set('max_score')} />)}
      {field('country', 'Country', <input type="text" maxLength={2} placeholder="e.g. GB" autoCapitalize="characters" {...aria('country')} value={draft.country} onChange={set('country')} />)}
      <div className="filter-buttons">
        <button type="submit" className="primary">
          Apply filters
        </button>
        <button
          type="button"
          onClick={() => {
            setErrors({});
            setDraft(emptyFilters);
            onChange(emptyFilters);
          }}
        >
          Reset
        </button>
      </div>
    </form>
  );
});
