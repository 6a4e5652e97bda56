// The REST client: JWT bearer auth, problem+json errors, query strings from plain objects.
export type Role = 'viewer' | 'analyst' | 'admin';

export class ApiError extends Error {
  status: number;
  title: string;
  errors: { field: string; message: string }[];
  constructor(status: number, title: string, detail: string, errors: { field: string; message: string }[] = []) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
    this.errors = errors;
  }
}

export type QueryValue = string | number | boolean | null | undefined;

/** `?a=1&b=x` from an object; null/undefined/'' values are left out. */
export function queryString(params: Record<string, QueryValue>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

let token: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setToken(t: string | null) {
  token = t;
}
export function getToken() {
  return token;
}
export function setUnauthorizedHandler(f: (() => void) | null) {
  onUnauthorized = f;
}

async function toError(res: Response): Promise<ApiError> {
  let title = res.statusText;
  let detail = '';
  let errors: { field: string; message: string }[] = [];
  try {
    const body = await res.json();
    title = body.title ?? title;
    detail = body.detail ?? '';
    errors = Array.isArray(body.errors) ? body.errors : [];
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, title, detail, errors);
}

export async function api<T>(path: string, init: RequestInit & { query?: Record<string, QueryValue> } = {}): Promise<T> {
  const { query, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set('Accept', 'application/json');
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (rest.body && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  const res = await fetch(`/api/v1${path}${query ? queryString(query) : ''}`, { ...rest, headers });
  if (res.status === 401 && token && onUnauthorized) onUnauthorized();
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** The role claim of a JWT (payload only; the API verifies the signature). */
export function decodeToken(t: string): { role: Role; email?: string; exp?: number; sub?: string } | null {
  try {
    const part = t.split('.')[1];
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const p = JSON.parse(json);
    const role = p.role as Role;
    if (!['viewer', 'analyst', 'admin'].includes(role)) return null;
    return { role, email: p.email, exp: p.exp, sub: p.sub };
  } catch {
    return null;
  }
}

const rank: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };
export function atLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && rank[role] >= rank[needed];
}

/** Download a CSV export with the bearer token (a plain link could not send it). */
export async function downloadCsv(path: string, query: Record<string, QueryValue>, filename: string) {
  const headers: Record<string, string> = { Accept: 'text/csv' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`/api/v1${path}${queryString(query)}`, { headers });
  if (!res.ok) throw await toError(res);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
