import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../lib/api';

type LoginResponse = { access_token: string; user: { email: string; role: string } };

export function Login({ onLogin, notice }: { onLogin: (token: string) => void; notice?: string | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api<LoginResponse>('/auth/login', { method: 'POST', body: JSON.stringify({ email, password }) });
      onLogin(r.access_token);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'E-mail or password is wrong.' : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main id="main" className="login-page">
      <form className="login" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <h1 id="login-title">TechMart Analytics</h1>
        <p className="muted">Sign in with your TechMart account.</p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="login-email">E-mail</label>
        <input id="login-email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <label htmlFor="login-password">Password</label>
        <input id="login-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {error && (
          <p className="form-error" role="alert" id="login-error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
