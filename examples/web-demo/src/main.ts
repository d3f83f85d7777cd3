/**
 * The natter web demo. Boots into the account this tab uses (or the sign-in screen), and switches between
 * the two. Everything chat-related goes through the public `@natter/client` API, in `controller.ts`.
 */
import './styles.css';
import './attachments.css';
import type { Session } from '@natter/client';
import {
  currentAccount,
  loadSession,
  savedAccounts,
  saveSession,
  sessionKey,
  useAccount,
} from './accounts.js';
import { createClient } from './client-factory.js';
import { ChatController } from './controller.js';
import { registerOfflineShell } from './offline-shell.js';
import { pushHook } from './push.js';
import { renderLogin } from './views/login.js';
import { mountApp } from './views/shell.js';

const root = document.getElementById('app')!;
const worker = registerOfflineShell();
let current: ChatController | undefined;
let unmount: (() => void) | undefined;

const SESSION_ENDED = 'Your session ended. Please sign in again.';

/** Shows the sign-in screen. */
function showLogin(notice?: string): void {
  unmount?.();
  unmount = undefined;
  current = undefined;
  document.title = 'Sign in · natter demo';
  renderLogin(root, {
    saved: savedAccounts(),
    ...(notice ? { notice } : {}),
    resume: (session) => {
      useAccount(session.user.username);
      void start(session);
    },
    signIn: async (mode, username, password, displayName) => {
      const name = username.toLowerCase();
      const client = createClient(name, undefined, () => current?.end(SESSION_ENDED));
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
        off();
        await client.close();
        throw err;
      }
      off();
      if (!session) throw new Error('no session');
      useAccount(session.user.username);
      await start(session, client);
    },
  });
}

/** Starts the app for a session (with the client that logged in, or a new one). */
async function start(
  session: Session,
  client = createClient(session.user.username, session, () => current?.end(SESSION_ENDED)),
): Promise<void> {
  unmount?.();
  const ctrl = new ChatController(client, session, () => {
    void pushHook.signedOut();
    showLogin();
  });
  current = ctrl;
  document.title = `${session.user.displayName} · natter demo`;
  unmount = mountApp(root, ctrl);
  await ctrl.start();
  void worker.then((registration) => pushHook.signedIn(client, registration));
}

// Another tab logged this account out: follow it.
window.addEventListener('storage', (event) => {
  const ctrl = current;
  if (!ctrl || event.key !== sessionKey(ctrl.session.user.username) || event.newValue !== null) return;
  ctrl.end('You logged out in another tab.');
});

const account = currentAccount();
const saved = account ? loadSession(account) : undefined;
if (saved) void start(saved);
else showLogin();
