import { createContext, useContext } from 'react';
import type { Role } from './lib/api';
import type { Filters } from './lib/format';

export type Category = { id: number; name: string };

export type DashCtx = {
  role: Role;
  email: string;
  /** null: live (now); else the as-of time the analytics are computed for */
  asOf: string | null;
  /** the reference time of every query: asOf, or "now" at the last refresh */
  refIso: string;
  /** bumped when live data changed (debounced) */
  tick: number;
  filters: Filters;
  categories: Category[];
  openTransaction: (id: number) => void;
  announce: (msg: string) => void;
};

export const Ctx = createContext<DashCtx | null>(null);
export function useDash(): DashCtx {
  const c = useContext(Ctx);
  if (!c) throw new Error('no dashboard context');
  return c;
}
