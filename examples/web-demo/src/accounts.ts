/**
 * Which accounts are signed in on this browser, and which one this tab uses.
 *
 * Sessions live in localStorage, one per username, so every tab of an account shares one session (and one
 * IndexedDB store, hence one device and one sync cursor). The account a tab shows lives in sessionStorage,
 * so two windows can be signed in as two different people at once (the usual way to try the demo), while a
 * new tab opens on the account used last.
 */
import type { Session } from '@natter/client';

const SESSION_PREFIX = 'natter-demo.session.';
const LAST_ACCOUNT = 'natter-demo.last-account';
const TAB_ACCOUNT = 'natter-demo.tab-account';

/** The storage areas used (injectable for tests). */
export interface AccountStorage {
  local: Storage;
  tab: Storage;
}

function browserStorage(): AccountStorage {
  return { local: localStorage, tab: sessionStorage };
}

/** The localStorage key of an account's session (other tabs watch it through `storage` events). */
export function sessionKey(username: string): string {
  return SESSION_PREFIX + username.toLowerCase();
}

/** The saved session of an account, if any. */
export function loadSession(username: string, storage = browserStorage()): Session | undefined {
  const raw = storage.local.getItem(sessionKey(username));
  if (!raw) return undefined;
  try {
    const session = JSON.parse(raw) as Session;
    return typeof session.refreshToken === 'string' && session.user ? session : undefined;
  } catch {
    return undefined;
  }
}

/** Saves an account's session (after login or a token refresh). */
export function saveSession(session: Session, storage = browserStorage()): void {
  storage.local.setItem(sessionKey(session.user.username), JSON.stringify(session));
}

/** Forgets an account's session (logout, or a refresh token the server refused). */
export function forgetSession(username: string, storage = browserStorage()): void {
  storage.local.removeItem(sessionKey(username));
  if (storage.local.getItem(LAST_ACCOUNT) === username.toLowerCase()) storage.local.removeItem(LAST_ACCOUNT);
  if (storage.tab.getItem(TAB_ACCOUNT) === username.toLowerCase()) storage.tab.removeItem(TAB_ACCOUNT);
}

/** Makes `username` this tab's account and the default of new tabs. */
export function chooseAccount(username: string, storage = browserStorage()): void {
  storage.tab.setItem(TAB_ACCOUNT, username.toLowerCase());
  storage.local.setItem(LAST_ACCOUNT, username.toLowerCase());
}

/** Leaves this tab without an account (the login screen), keeping the saved sessions. */
export function leaveAccount(storage = browserStorage()): void {
  storage.tab.removeItem(TAB_ACCOUNT);
  storage.local.removeItem(LAST_ACCOUNT);
}

/** The account this tab should show: its own, else the one used last; only if its session is saved. */
export function currentAccount(storage = browserStorage()): string | undefined {
  for (const username of [storage.tab.getItem(TAB_ACCOUNT), storage.local.getItem(LAST_ACCOUNT)]) {
    if (username && loadSession(username, storage)) return username;
  }
  return undefined;
}

/** Every account with a saved session on this browser (for "Continue as …"). */
export function savedAccounts(storage = browserStorage()): Session[] {
  const sessions: Session[] = [];
  for (let i = 0; i < storage.local.length; i++) {
    const key = storage.local.key(i);
    if (!key?.startsWith(SESSION_PREFIX)) continue;
    const session = loadSession(key.slice(SESSION_PREFIX.length), storage);
    if (session) sessions.push(session);
  }
  return sessions.sort((a, b) => a.user.username.localeCompare(b.user.username));
}
