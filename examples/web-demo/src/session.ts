/**
 * Which screen the tab shows, and the transitions between them: sign in (or sign up), resume a saved
 * session, log out, switch account, and the session ending elsewhere. React renders the screen; the client
 * is created, connected and closed here, outside render, so StrictMode's double effects never touch it.
 */
import type { Session } from '@natter/client';
import {
  chooseAccount,
  currentAccount,
  forgetSession,
  leaveAccount,
  loadSession,
  saveSession,
} from './accounts.js';
import { createClient, type DemoChatClient } from './client-factory.js';
import { rememberUserId } from './known-users.js';
import { pushHook } from './push.js';

/** What the tab shows. */
export type Screen =
  | { kind: 'signed-out'; notice?: string }
  | { kind: 'signed-in'; session: Session; client: DemoChatClient; ended?: string };

/** Moves the tab to another screen (set by the root component). */
export type Navigate = (next: Screen | ((current: Screen) => Screen)) => void;

const SESSION_ENDED = 'Your session ended. Please sign in again.';

/** The screen a new tab opens on: the account it used, or the sign-in screen. */
export function bootScreen(navigate: Navigate): Screen {
  const account = currentAccount();
  const saved = account ? loadSession(account) : undefined;
  return saved ? resume(saved, navigate) : { kind: 'signed-out' };
}

/** Opens a saved session. */
export function resume(session: Session, navigate: Navigate): Screen {
  chooseAccount(session.user.username);
  const client = createClient(session.user.username, session, () => ended(navigate, SESSION_ENDED));
  return start(session, client);
}

function start(session: Session, client: DemoChatClient): Screen {
  rememberUserId(session.user);
  void client.connect();
  return { kind: 'signed-in', session, client };
}

/** The session ended outside this tab (logout elsewhere, a refused token): stop and say why. */
export function ended(navigate: Navigate, reason: string): void {
  navigate((current) => {
    if (current.kind !== 'signed-in' || current.ended) return current;
    void current.client.close();
    return { ...current, ended: reason };
  });
}

/** Logs in or signs up, then opens the app. Throws what the server answered. */
export async function signIn(
  mode: 'login' | 'signup',
  username: string,
  password: string,
  displayName: string | undefined,
  navigate: Navigate,
): Promise<void> {
  const name = username.toLowerCase();
  const client = createClient(name, undefined, () => ended(navigate, SESSION_ENDED));
  let session: Session | undefined;
  const off = client.on('session', (s) => {
    if (s) {
      saveSession(s);
      session = s;
    }
  });
  try {
    if (mode === 'login') await client.login(name, password);
    else await client.signup(name, password, displayName);
  } catch (err) {
    await client.close();
    throw err;
  } finally {
    off();
  }
  if (!session) throw new Error('no session');
  chooseAccount(session.user.username);
  navigate(start(session, client));
}

/** Logs this device out on the server (every tab of the account follows) and forgets the session. */
export async function logout(screen: Screen & { kind: 'signed-in' }, navigate: Navigate): Promise<void> {
  try {
    await screen.client.logout();
  } catch {
    // Offline: the session is forgotten locally anyway.
  }
  forgetSession(screen.session.user.username);
  void pushHook.signedOut();
  await screen.client.close();
  navigate({ kind: 'signed-out' });
}

/** Goes to the sign-in screen, keeping this account signed in (to use another in this tab). */
export async function switchAccount(
  screen: Screen & { kind: 'signed-in' },
  navigate: Navigate,
): Promise<void> {
  leaveAccount();
  await screen.client.close();
  navigate({ kind: 'signed-out' });
}
