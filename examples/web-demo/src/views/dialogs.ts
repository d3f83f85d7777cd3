/** Modal dialogs (native `<dialog>`: focus trap and Escape for free): new 1-1 chat and new group. */
import type { UserProfile } from '@natter/client';
import { type ChatController, describeError } from '../controller.js';
import { h } from '../dom.js';
import { peopleFinder } from './people-finder.js';

function dialogShell(id: string, title: string, ...content: HTMLElement[]): HTMLDialogElement {
  const dialog = h(
    'dialog',
    { id, class: 'dialog', 'aria-labelledby': `${id}-title` },
    h(
      'header',
      { class: 'panel-head' },
      h('h2', { id: `${id}-title` }, title),
      h(
        'button',
        { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close() },
        '✕',
      ),
    ),
    ...content,
  );
  // Escape closes the dialog even from a search field (whose own Escape only clears the text).
  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      dialog.close();
    }
  });
  return dialog;
}

/** "New chat": find a person, open the 1-1 conversation. */
export function newChatDialog(ctrl: ChatController): { dialog: HTMLDialogElement; open(): void } {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const finder = peopleFinder(ctrl, {
    id: 'new-chat-search',
    label: 'Find a person by username',
    action: 'Chat',
    exclude: () => new Set(),
    onPick: (user) => {
      ctrl.startDirect(user.id).then(
        () => dialog.close(),
        (err: unknown) => {
          error.textContent = describeError(err);
        },
      );
    },
  });
  const dialog = dialogShell('new-chat', 'New chat', h('div', { class: 'panel-body' }, finder.root, error));
  return {
    dialog,
    open: () => {
      finder.reset();
      error.textContent = '';
      dialog.showModal();
      finder.input.focus();
    },
  };
}

/** "New group": a name and members, with the member limit shown as people are picked. */
export function newGroupDialog(ctrl: ChatController): { dialog: HTMLDialogElement; open(): void } {
  const picked = new Map<string, UserProfile>();
  const error = h('p', { class: 'form-error', role: 'alert' });
  const name = h('input', { id: 'new-group-name', required: true, maxlength: '100', autocomplete: 'off' });
  const chips = h('ul', { class: 'chips', 'aria-label': 'People in the new group' });
  const counter = h('p', { class: 'hint', id: 'new-group-count', role: 'status' });
  const max = () => ctrl.state.limits.maxGroupMembers;
  // The creator counts towards the limit.
  const size = () => picked.size + 1;
  const renderPicked = () => {
    counter.textContent = `${size()} of ${max()} members, you included.`;
    chips.replaceChildren(
      ...[...picked.values()].map((user) =>
        h(
          'li',
          { class: 'chip' },
          user.displayName,
          h(
            'button',
            {
              type: 'button',
              'aria-label': `Remove ${user.displayName}`,
              onclick: () => {
                picked.delete(user.id);
                renderPicked();
              },
            },
            '✕',
          ),
        ),
      ),
    );
  };
  const finder = peopleFinder(ctrl, {
    id: 'new-group-search',
    label: 'Add people',
    action: 'Add',
    exclude: () => new Set(picked.keys()),
    disabledReason: () => (size() >= max() ? `A group can have at most ${max()} members.` : undefined),
    onPick: (user) => {
      picked.set(user.id, user);
      renderPicked();
    },
  });
  const form = h(
    'form',
    {
      class: 'panel-body',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const groupName = name.value.trim();
        if (!groupName) return;
        ctrl.createGroup(groupName, [...picked.keys()]).then(
          () => dialog.close(),
          (err: unknown) => {
            error.textContent = describeError(err);
          },
        );
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'new-group-name' }, 'Group name'), name),
    finder.root,
    counter,
    chips,
    error,
    h('button', { type: 'submit', class: 'primary wide' }, 'Create group'),
  );
  const dialog = dialogShell('new-group', 'New group', form);
  return {
    dialog,
    open: () => {
      picked.clear();
      name.value = '';
      error.textContent = '';
      finder.reset();
      renderPicked();
      dialog.showModal();
      name.focus();
    },
  };
}
