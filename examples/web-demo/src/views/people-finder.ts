/** A search box for users by username prefix, with a result list; used by dialogs and the group panel. */
import type { UserProfile } from '@natter/client';
import type { ChatController } from '../controller.js';
import { h } from '../dom.js';
import { avatar, userLine } from './bits.js';

/** Options of {@link peopleFinder}. */
export interface PeopleFinderOptions {
  id: string;
  label: string;
  /** Label of each result's button. */
  action: string;
  onPick(user: UserProfile): void;
  /** Users not to offer (members already in, people already picked). */
  exclude(): ReadonlySet<string>;
  /** When set, picking is disabled and this is shown instead. */
  disabledReason?: () => string | undefined;
}

/** A labelled search input with results; returns the element and a function to clear it. */
export function peopleFinder(
  ctrl: ChatController,
  options: PeopleFinderOptions,
): {
  root: HTMLElement;
  input: HTMLInputElement;
  reset(): void;
} {
  const input = h('input', {
    id: options.id,
    type: 'search',
    autocomplete: 'off',
    autocapitalize: 'none',
    spellcheck: 'false',
    placeholder: 'Type a username, e.g. bob',
    'aria-controls': `${options.id}-results`,
  });
  const results = h('ul', { class: 'people-results', id: `${options.id}-results`, 'aria-live': 'polite' });
  const status = h('p', { class: 'hint' });
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const show = (users: UserProfile[]) => {
    const excluded = options.exclude();
    const reason = options.disabledReason?.();
    const offered = users.filter((u) => !excluded.has(u.id));
    status.textContent = reason ?? (input.value.trim() && offered.length === 0 ? 'No one found.' : '');
    results.replaceChildren(
      ...offered.map((user) =>
        h(
          'li',
          null,
          avatar(user.id, user.displayName, undefined, 28),
          userLine(user),
          h(
            'button',
            {
              type: 'button',
              class: 'small',
              disabled: reason !== undefined,
              'aria-label': `${options.action} ${user.displayName}`,
              onclick: () => {
                options.onPick(user);
                show(users);
              },
            },
            options.action,
          ),
        ),
      ),
    );
  };

  const search = () => {
    const prefix = input.value.trim().replace(/^@/, '');
    const mine = ++seq;
    if (!prefix) {
      show([]);
      return;
    }
    ctrl.findUsers(prefix).then(
      (users) => {
        if (mine === seq) show(users);
      },
      () => {
        if (mine === seq) status.textContent = 'Search failed; are you offline?';
      },
    );
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });

  const root = h(
    'div',
    { class: 'people-finder' },
    h('label', { for: options.id }, options.label),
    input,
    status,
    results,
  );
  return {
    root,
    input,
    reset: () => {
      input.value = '';
      show([]);
    },
  };
}
