/** The sign-in screen: log in, sign up, one-click demo users, and accounts already signed in here. */
import { isNatterError, type Session } from '@natter/client';
import { h } from '../dom.js';
import { avatar } from './bits.js';

/** The users the reference server seeds (see the README). */
export const DEMO_USERS = [
  { username: 'alice', name: 'Alice' },
  { username: 'bob', name: 'Bob' },
  { username: 'carol', name: 'Carol' },
] as const;
/** Their password. */
export const DEMO_PASSWORD = 'natter-demo';

/** What the login screen needs from the app. */
export interface LoginActions {
  signIn(mode: 'login' | 'signup', username: string, password: string, displayName?: string): Promise<void>;
  resume(session: Session): void;
  saved: Session[];
  /** Why the previous session ended, if it did. */
  notice?: string;
}

function message(err: unknown): string {
  const code = isNatterError(err) ? err.code : undefined;
  if (code === 'NATTER_INVALID_CREDENTIALS') return 'Wrong username or password.';
  if (code === 'NATTER_CONFLICT') return 'That username is taken. Pick another one.';
  if (code === 'NATTER_RATE_LIMITED') return 'Too many attempts. Wait a minute and try again.';
  if (code === 'NATTER_FORBIDDEN') return 'This server does not allow sign-ups.';
  if (code === 'NATTER_UNAVAILABLE') return 'The server cannot be reached. Check your connection.';
  return err instanceof Error ? err.message.replace(/^[a-zA-Z]+: /, '') : 'Sign-in failed.';
}

/** Renders the login screen into `root`. */
export function renderLogin(root: HTMLElement, actions: LoginActions): void {
  let mode: 'login' | 'signup' = 'login';
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const username = h('input', {
    id: 'login-username',
    name: 'username',
    autocomplete: 'username',
    required: true,
    minlength: '1',
    maxlength: '32',
    autocapitalize: 'none',
    spellcheck: 'false',
  });
  const displayName = h('input', { id: 'login-display-name', name: 'displayName', autocomplete: 'name' });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const nameField = h(
    'div',
    { class: 'field', hidden: true },
    h('label', { for: 'login-display-name' }, 'Display name ', h('span', { class: 'hint' }, '(optional)')),
    displayName,
  );
  const submit = h('button', { type: 'submit', class: 'primary wide' }, 'Sign in');
  const toggle = h('button', { type: 'button', class: 'link' }, 'Create an account');
  const heading = h('h2', { id: 'login-heading' }, 'Sign in');
  const busy = (on: boolean) => {
    for (const el of root.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button, input'))
      el.disabled = on;
  };
  const run = async (fn: () => Promise<void>) => {
    error.textContent = '';
    busy(true);
    try {
      await fn();
    } catch (err) {
      busy(false);
      error.textContent = message(err);
    }
  };

  toggle.addEventListener('click', () => {
    mode = mode === 'login' ? 'signup' : 'login';
    heading.textContent = mode === 'login' ? 'Sign in' : 'Create an account';
    submit.textContent = mode === 'login' ? 'Sign in' : 'Create account';
    toggle.textContent = mode === 'login' ? 'Create an account' : 'I already have an account';
    nameField.hidden = mode === 'login';
    password.autocomplete = mode === 'login' ? 'current-password' : 'new-password';
    password.minLength = mode === 'login' ? 0 : 8;
    error.textContent = '';
    username.focus();
  });

  const form = h(
    'form',
    {
      class: 'login-form',
      'aria-labelledby': 'login-heading',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void run(() =>
          actions.signIn(
            mode,
            username.value.trim(),
            password.value,
            mode === 'signup' && displayName.value.trim() ? displayName.value.trim() : undefined,
          ),
        );
      },
    },
    heading,
    h('div', { class: 'field' }, h('label', { for: 'login-username' }, 'Username'), username),
    nameField,
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    error,
    submit,
    h('p', { class: 'center' }, toggle),
  );

  const saved =
    actions.saved.length > 0
      ? h(
          'section',
          { class: 'login-section', 'aria-labelledby': 'saved-heading' },
          h('h2', { id: 'saved-heading' }, 'Continue as'),
          h(
            'div',
            { class: 'user-buttons' },
            actions.saved.map((session) =>
              h(
                'button',
                { type: 'button', class: 'user-button', onclick: () => actions.resume(session) },
                avatar(session.user.id, session.user.displayName, undefined, 32),
                session.user.displayName,
              ),
            ),
          ),
        )
      : null;

  const demo = h(
    'section',
    { class: 'login-section', 'aria-labelledby': 'demo-heading' },
    h('h2', { id: 'demo-heading' }, 'Try a demo user'),
    h(
      'p',
      { class: 'hint' },
      'Password ',
      h('code', null, DEMO_PASSWORD),
      '. Sign in as another user in a second window (or a private window) and chat between the two.',
    ),
    h(
      'div',
      { class: 'user-buttons' },
      DEMO_USERS.map((user) =>
        h(
          'button',
          {
            type: 'button',
            class: 'user-button',
            'data-demo-user': user.username,
            onclick: () => void run(() => actions.signIn('login', user.username, DEMO_PASSWORD)),
          },
          avatar(`demo:${user.username}`, user.name, undefined, 32),
          `Sign in as ${user.name}`,
        ),
      ),
    ),
  );

  root.replaceChildren(
    h(
      'main',
      { class: 'login' },
      h(
        'div',
        { class: 'login-card' },
        h('h1', { class: 'brand' }, 'natter', h('span', { class: 'brand-tag' }, 'demo')),
        h('p', { class: 'lead' }, 'A small chat app on the natter client SDK.'),
        actions.notice ? h('p', { class: 'notice-inline', role: 'status' }, actions.notice) : null,
        saved,
        form,
        demo,
      ),
    ),
  );
  username.focus();
}
