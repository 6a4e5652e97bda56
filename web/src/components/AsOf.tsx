import { useEffect, useState } from 'react';

/** Live (now) or an as-of time: imported history has no "today". */
export function AsOf({ value, onChange }: { value: string | null; onChange: (v: string | null) => void }) {
  const [draft, setDraft] = useState(value ? value.slice(0, 16) : '');
  useEffect(() => setDraft(value ? value.slice(0, 16) : ''), [value]);
  return (
    <form
      className="asof"
      aria-label="Point in time"
      onSubmit={(e) => {
        e.preventDefault();
        if (draft) onChange(new Date(`${draft}:00Z`).toISOString());
      }}
    >
      <label htmlFor="asof-input">As of (UTC)</label>
      <input id="asof-input" type="datetime-local" value={draft} onChange={(e) => setDraft(e.target.value)} />
      <button type="submit" disabled={!draft}>
        Show
      </button>
      <button type="button" aria-pressed={value === null} onClick={() => onChange(null)}>
        Live
      </button>
    </form>
  );
}
