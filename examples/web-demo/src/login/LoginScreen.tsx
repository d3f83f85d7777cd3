/** The sign-in screen: log in, sign up, one-click demo users, and accounts already signed in here. */
import { isNatterError, type Session } from '@natter/client';
import type { FormEvent, ReactNode } from 'react';
import { useState } from 'react';
import { LoginAvatar } from './LoginAvatar.js';

/** The users the reference server seeds (see the README). */
export const DEMO_USERS = [
  { username: 'alice', name: 'Alice' },
  { username: 'bob', name: 'Bob' },
  { username: 'carol', name: 'Carol' },
] as const;
/** Their password. */
export const DEMO_PASSWORD = 'natter-demo';

export interface LoginScreenProps {
  saved: Session[];
  /** Why the previous session ended, if it did. */
  notice: string | undefined;
  onResume(session: Session): void;
  onSignIn(mode: 'login' | 'signup', username: string, password: string, displayName?: string): Promise<void>;
}

function describe(err: unknown): string {
  const code = isNatterError(err) ? err.code : undefined;
  if (code === 'NATTER_INVALID_CREDENTIALS') return 'Wrong username or password.';
  if (code === 'NATTER_CONFLICT') return 'That username is taken. Pick another one.';
  if (code === 'NATTER_RATE_LIMITED') return 'Too many attempts. Wait a minute and try again.';
  if (code === 'NATTER_FORBIDDEN') return 'This server does not allow sign-ups.';
  if (code === 'NATTER_UNAVAILABLE') return 'The server cannot be reached. Check your connection.';
  return err instanceof Error ? err.message.replace(/^[a-zA-Z]+: /, '') : 'Sign-in failed.';
}

/** The sign-in screen. */
export function LoginScreen({ saved, notice, onResume, onSignIn }: LoginScreenProps): ReactNode {
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  const run = async (fn: () => Promise<void>) => {
    setError('');
    setBusy(true);
    try {
      await fn();
    } catch (err) {
      setBusy(false);
      setError(describe(err));
    }
  };
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const username = String(data.get('username') ?? '').trim();
    const password = String(data.get('password') ?? '');
    const displayName = String(data.get('displayName') ?? '').trim();
    void run(() =>
      onSignIn(mode, username, password, mode === 'signup' && displayName ? displayName : undefined),
    );
  };

  return (
    <main className="login">
      <div className="login-card">
        <h1 className="brand">
          natter<span className="brand-tag">demo</span>
        </h1>
        <p className="lead">A chat app on the natter React kit and client SDK.</p>
        {notice ? (
          <p className="notice-inline" role="status">
            {notice}
          </p>
        ) : null}
        {saved.length > 0 ? (
          <section className="login-section" aria-labelledby="saved-heading">
            <h2 id="saved-heading">Continue as</h2>
            <div className="user-buttons">
              {saved.map((session) => (
                <button
                  key={session.user.id}
                  type="button"
                  className="user-button"
                  disabled={busy}
                  onClick={() => onResume(session)}
                >
                  <LoginAvatar
                    username={session.user.username}
                    name={session.user.displayName}
                    userId={session.user.id}
                  />
                  {session.user.displayName}
                </button>
              ))}
            </div>
          </section>
        ) : null}
        <form className="login-form" aria-labelledby="login-heading" onSubmit={submit}>
          <h2 id="login-heading">{mode === 'login' ? 'Sign in' : 'Create an account'}</h2>
          <div className="field">
            <label htmlFor="login-username">Username</label>
            <input
              id="login-username"
              name="username"
              autoComplete="username"
              required
              maxLength={32}
              autoCapitalize="none"
              spellCheck={false}
              disabled={busy}
              // biome-ignore lint/a11y/noAutofocus: the sign-in form is the screen's only task
              autoFocus
            />
          </div>
          {mode === 'signup' ? (
            <div className="field">
              <label htmlFor="login-display-name">
                Display name <span className="hint">(optional)</span>
              </label>
              <input id="login-display-name" name="displayName" autoComplete="name" disabled={busy} />
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="login-password">Password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
              minLength={mode === 'login' ? undefined : 8}
              required
              disabled={busy}
            />
          </div>
          <p className="form-error" role="alert" id="login-error">
            {error}
          </p>
          <button type="submit" className="primary wide" disabled={busy}>
            {mode === 'login' ? 'Sign in' : 'Create account'}
          </button>
          <p className="center">
            <button
              type="button"
              className="link"
              onClick={() => {
                setMode(mode === 'login' ? 'signup' : 'login');
                setError('');
              }}
            >
              {mode === 'login' ? 'Create an account' : 'I already have an account'}
            </button>
          </p>
        </form>
        <section className="login-section" aria-labelledby="demo-heading">
          <h2 id="demo-heading">Try a demo user</h2>
          <p className="hint">
            Password <code>{DEMO_PASSWORD}</code>. Sign in as another user in a second window (or a private
            window) and chat between the two.
          </p>
          <div className="user-buttons">
            {DEMO_USERS.map((user) => (
              <button
                key={user.username}
                type="button"
                className="user-button"
                data-demo-user={user.username}
                disabled={busy}
                onClick={() => void run(() => onSignIn('login', user.username, DEMO_PASSWORD))}
              >
                <LoginAvatar username={user.username} name={user.name} />
                Sign in as {user.name}
              </button>
            ))}
          </div>
        </section>
      </div>
    </main>
  );
}
