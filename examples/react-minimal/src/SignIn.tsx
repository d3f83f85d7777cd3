import type { ChatClient } from '@natter/client';
import { ChatTheme } from '@natter/react';
import { type FormEvent, useState } from 'react';

/** Sign in, or create an account, then connect. */
export function SignIn({ client, onSignedIn }: { client: ChatClient; onSignedIn(): void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const username = String(form.get('username') ?? '').trim();
    const password = String(form.get('password') ?? '');
    const create = (event.nativeEvent as SubmitEvent).submitter?.getAttribute('value') === 'create';
    setBusy(true);
    setError(undefined);
    try {
      if (create) await client.signup(username, password);
      else await client.login(username, password);
      await client.connect();
      onSignedIn();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <ChatTheme className="signin">
      <main style={{ maxWidth: 320, margin: '15vh auto', display: 'grid', gap: 12, padding: 16 }}>
        <h1 style={{ margin: 0 }}>natter</h1>
        <form onSubmit={submit} style={{ display: 'grid', gap: 8 }}>
          <label>
            Username <input name="username" autoComplete="username" required style={{ width: '100%' }} />
          </label>
          <label>
            Password{' '}
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              required
              style={{ width: '100%' }}
            />
          </label>
          <button type="submit" name="action" value="login" disabled={busy}>
            Sign in
          </button>
          <button type="submit" name="action" value="create" disabled={busy}>
            Create account
          </button>
        </form>
        {error ? <p role="alert">{error}</p> : null}
      </main>
    </ChatTheme>
  );
}
