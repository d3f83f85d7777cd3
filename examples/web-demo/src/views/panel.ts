/**
 * The side panel: conversation details (rename a group, members with the member limit, add and remove
 * people, leave), message search and "mentions of me". Results jump to the message in its conversation.
 */
import type { CachedChannel, Message } from '@natter/client';
import { type ChatController, describeError } from '../controller.js';
import { h, region } from '../dom.js';
import { clockTime, dayLabel, nameOf, presenceLabel } from '../format.js';
import { avatar, channelTitle, presenceKnown, statusOf, userLine } from './bits.js';
import { peopleFinder } from './people-finder.js';

/** The panel's persistent element. */
export interface PanelView {
  root: HTMLElement;
  render(now: number): void;
}

function panelHead(ctrl: ChatController, title: string): HTMLElement {
  return h(
    'header',
    { class: 'panel-head' },
    h('h2', { id: 'panel-title' }, title),
    h(
      'button',
      {
        type: 'button',
        class: 'icon-button',
        'aria-label': 'Close panel',
        onclick: () => ctrl.showPanel('none'),
      },
      '✕',
    ),
  );
}

/** Whether the signed-in user may remove members. Channels do not list admins, so: the creator, or anyone
 * once the creator has left (admin passes on); the server has the last word. */
function mayRemove(channel: CachedChannel, me: string): boolean {
  return channel.createdBy === me || !channel.memberIds.includes(channel.createdBy);
}

function resultList(
  ctrl: ChatController,
  results: Message[] | undefined,
  empty: string,
  now: number,
): HTMLElement {
  const s = ctrl.state;
  if (!results) return h('p', { class: 'hint' }, 'Loading…');
  if (results.length === 0) return h('p', { class: 'hint' }, empty);
  return h(
    'ul',
    { class: 'results' },
    results.map((m) => {
      const channel = s.channels.find((ch) => ch.id === m.channelId);
      const where = channel ? channelTitle(channel, s) : 'Conversation';
      return h(
        'li',
        null,
        h(
          'button',
          {
            type: 'button',
            class: 'result',
            'data-result-seq': m.seq,
            onclick: () => void ctrl.jumpTo(m.channelId, m.seq),
          },
          h(
            'span',
            { class: 'result-top' },
            h('span', { class: 'result-where' }, `${where} · ${nameOf(s.users, m.senderId, s.me.id)}`),
            h(
              'time',
              { datetime: new Date(m.createdAt).toISOString() },
              `${dayLabel(m.createdAt, now)} ${clockTime(m.createdAt)}`,
            ),
          ),
          h('span', { class: 'result-text' }, m.text),
        ),
      );
    }),
  );
}

/** Builds the panel. */
export function createPanel(ctrl: ChatController): PanelView {
  const root = h('aside', { class: 'panel', id: 'panel', 'aria-labelledby': 'panel-title', hidden: true });
  let mounted = '';
  let update: (now: number) => void = () => {};

  const mountDetails = (channel: CachedChannel) => {
    const s = ctrl.state;
    if (channel.kind === 'direct') {
      const body = h('div', { class: 'panel-body' });
      root.replaceChildren(panelHead(ctrl, 'Contact'), body);
      update = (now) => {
        const peerId = channel.memberIds.find((id) => id !== s.me.id) ?? '';
        const peer = s.users.get(peerId);
        const label = presenceKnown(s) ? presenceLabel(s.presence.get(peerId), now) : 'waiting for network…';
        region(body, `${peer?.displayName}|${label}`, () => [
          h(
            'div',
            { class: 'profile' },
            avatar(peerId, peer?.displayName ?? '?', statusOf(s, peerId), 72),
            h('h3', null, peer?.displayName ?? '…'),
            peer ? h('p', { class: 'user-handle' }, `@${peer.username}`) : null,
            h('p', { class: 'subtitle' }, label),
          ),
        ]);
      };
      return;
    }

    const nameInput = h('input', {
      id: 'group-name',
      required: true,
      maxlength: '100',
      value: channel.name ?? '',
    });
    const rename = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const name = nameInput.value.trim();
          if (!name) return;
          ctrl.renameGroup(channel.id, name).catch((err: unknown) => ctrl.notify(describeError(err)));
        },
      },
      h('label', { for: 'group-name' }, 'Group name'),
      h('div', { class: 'row' }, nameInput, h('button', { type: 'submit', class: 'small' }, 'Rename')),
    );
    const count = h('span', { class: 'member-count', id: 'member-count' });
    const meter = h('meter', {
      id: 'member-meter',
      min: '0',
      low: '80',
      high: '95',
      'aria-labelledby': 'member-count',
    });
    const members = h('ul', { class: 'members', 'aria-labelledby': 'members-heading' });
    const current = () => ctrl.state.channels.find((ch) => ch.id === channel.id) ?? channel;
    const full = () => {
      const ch = current();
      const max = ctrl.state.limits.maxGroupMembers;
      return ch.memberIds.length >= max ? `The group is full: ${max} of ${max} members.` : undefined;
    };
    const finder = peopleFinder(ctrl, {
      id: 'add-member',
      label: 'Add people',
      action: 'Add',
      exclude: () => new Set(current().memberIds),
      disabledReason: full,
      onPick: (user) => {
        ctrl.addMembers(channel.id, [user.id]).then(
          () => finder.reset(),
          (err: unknown) => ctrl.notify(describeError(err)),
        );
      },
    });
    const leave = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: () => {
          if (confirm(`Leave “${current().name}”? You will stop receiving its messages.`))
            ctrl.leaveGroup(channel.id).catch((err: unknown) => ctrl.notify(describeError(err)));
        },
      },
      'Leave group',
    );
    const fullNote = h('p', { class: 'hint', id: 'group-full', role: 'status' });
    root.replaceChildren(
      panelHead(ctrl, 'Group info'),
      h(
        'div',
        { class: 'panel-body' },
        rename,
        h('h3', { id: 'members-heading', class: 'members-heading' }, 'Members ', count),
        meter,
        fullNote,
        members,
        finder.root,
        leave,
      ),
    );
    update = (now) => {
      const ch = current();
      const max = ctrl.state.limits.maxGroupMembers;
      if (document.activeElement !== nameInput) nameInput.value = ch.name ?? '';
      count.textContent = `${ch.memberIds.length} of ${max}`;
      meter.max = max;
      meter.value = ch.memberIds.length;
      meter.low = Math.floor(max * 0.8);
      meter.high = Math.floor(max * 0.95);
      fullNote.textContent = full() ?? `Groups can have up to ${max} members.`;
      const canRemove = mayRemove(ch, s.me.id);
      const sig = ch.memberIds
        .map(
          (id) => `${id}:${nameOf(s.users, id)}:${statusOf(s, id)}:${presenceLabel(s.presence.get(id), now)}`,
        )
        .join(',');
      region(members, `${sig}|${canRemove}|${ch.createdBy}`, () =>
        [...ch.memberIds]
          .sort((a, b) =>
            a === s.me.id ? -1 : b === s.me.id ? 1 : nameOf(s.users, a).localeCompare(nameOf(s.users, b)),
          )
          .map((id) => {
            const user = s.users.get(id);
            const name = user?.displayName ?? '…';
            return h(
              'li',
              null,
              avatar(id, name, statusOf(s, id), 32),
              h(
                'span',
                { class: 'member-main' },
                user ? userLine(user) : h('span', null, name),
                h(
                  'span',
                  { class: 'hint' },
                  id === s.me.id ? 'you' : presenceKnown(s) ? presenceLabel(s.presence.get(id), now) : '',
                  id === ch.createdBy ? ' · admin' : '',
                ),
              ),
              canRemove && id !== s.me.id
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'small',
                      'aria-label': `Remove ${name}`,
                      onclick: () =>
                        ctrl.removeMember(ch.id, id).catch((err: unknown) => ctrl.notify(describeError(err))),
                    },
                    'Remove',
                  )
                : null,
            );
          }),
      );
    };
  };

  const mountSearch = () => {
    const input = h('input', {
      id: 'search-input',
      type: 'search',
      placeholder: 'Words to find',
      required: true,
    });
    const results = h('div', { class: 'panel-results', 'aria-live': 'polite' });
    root.replaceChildren(
      panelHead(ctrl, 'Search messages'),
      h(
        'div',
        { class: 'panel-body' },
        h(
          'form',
          {
            class: 'inline-form',
            role: 'search',
            onsubmit: (event: Event) => {
              event.preventDefault();
              void ctrl.search(input.value);
            },
          },
          h('label', { for: 'search-input', class: 'sr-only' }, 'Search messages'),
          h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'small' }, 'Search')),
        ),
        results,
      ),
    );
    input.focus();
    update = (now) => {
      const panel = ctrl.state.panel;
      if (panel.kind !== 'search') return;
      const sig = `${panel.query}|${panel.loading}|${panel.results?.map((m) => m.id).join(',')}|${panel.error}`;
      region(results, sig, () => {
        if (!panel.query) return h('p', { class: 'hint' }, 'Search the conversations you are in.');
        if (panel.error) return h('p', { class: 'form-error' }, panel.error);
        return resultList(
          ctrl,
          panel.loading ? undefined : panel.results,
          `Nothing found for “${panel.query}”.`,
          now,
        );
      });
    };
  };

  const mountMentions = () => {
    const results = h('div', { class: 'panel-results', 'aria-live': 'polite' });
    root.replaceChildren(panelHead(ctrl, 'Mentions of me'), h('div', { class: 'panel-body' }, results));
    update = (now) => {
      const panel = ctrl.state.panel;
      if (panel.kind !== 'mentions') return;
      region(results, `${panel.loading}|${panel.results?.map((m) => m.id).join(',')}|${panel.error}`, () =>
        panel.error
          ? h('p', { class: 'form-error' }, panel.error)
          : resultList(ctrl, panel.results, 'Nobody has mentioned you yet. Mentions look like @alice.', now),
      );
    };
  };

  const render = (now: number) => {
    const s = ctrl.state;
    const channel = ctrl.active;
    const kind = s.panel.kind === 'details' && !channel ? 'none' : s.panel.kind;
    const key = kind === 'details' ? `details:${channel?.id}:${channel?.kind}` : kind;
    root.hidden = kind === 'none';
    if (key !== mounted) {
      mounted = key;
      update = () => {};
      root.replaceChildren();
      if (kind === 'details' && channel) mountDetails(channel);
      else if (kind === 'search') mountSearch();
      else if (kind === 'mentions') mountMentions();
    }
    update(now);
  };

  root.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') ctrl.showPanel('none');
  });
  return { root, render };
}
