/** The conversation column: header with presence, message list, typing indicator and composer. */
import type { ChatController } from '../controller.js';
import { h, region } from '../dom.js';
import { nameOf, presenceLabel, typingText } from '../format.js';
import { createAttachControls } from './attachments.js';
import { channelAvatar, channelTitle, peerOf, presenceKnown, statusOf } from './bits.js';
import { MessageList } from './messages.js';

/** The conversation column's persistent elements. */
export interface ConversationView {
  root: HTMLElement;
  render(now: number): void;
}

/** Builds the conversation column. `back` returns to the list on phones. */
export function createConversation(ctrl: ChatController, actions: { back(): void }): ConversationView {
  const list = new MessageList(ctrl);
  const header = h('header', { class: 'conversation-head' });
  const typing = h('div', { class: 'typing', 'aria-live': 'polite', id: 'typing' });
  const drafts = new Map<string, string>();
  let draftFor: string | undefined;

  const input = h('textarea', {
    id: 'composer-input',
    rows: '1',
    placeholder: 'Write a message…',
    'aria-describedby': 'composer-help',
    maxlength: String(ctrl.state.limits.maxMessageBytes),
  });
  const sendButton = h(
    'button',
    { type: 'submit', class: 'primary send', 'aria-label': 'Send message' },
    'Send',
  );
  const grow = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  };
  const submit = () => {
    if (!ctrl.send(input.value)) return;
    input.value = '';
    if (draftFor) drafts.delete(draftFor);
    grow();
    list.followNewest();
    input.focus();
  };
  input.addEventListener('keydown', (event) => {
    // Enter sends; Shift+Enter adds a line; keep IME composition (e.g. Japanese input) intact.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', () => {
    grow();
    if (draftFor) drafts.set(draftFor, input.value);
    ctrl.typing(input.value.trim().length > 0);
  });
  input.addEventListener('blur', () => ctrl.typing(false));
  const dropArea = h('div', { class: 'drop-area' });
  const attach = createAttachControls(ctrl, dropArea, {
    caption: () => input.value,
    sent: () => {
      input.value = '';
      if (draftFor) drafts.delete(draftFor);
      grow();
      list.followNewest();
    },
  });
  const composer = h(
    'form',
    {
      class: 'composer',
      'aria-label': 'Send a message',
      onsubmit: (event: Event) => {
        event.preventDefault();
        submit();
      },
    },
    h('label', { for: 'composer-input', class: 'sr-only' }, 'Message'),
    attach.input,
    attach.button,
    input,
    sendButton,
    attach.progress,
    h('span', { id: 'composer-help', class: 'sr-only' }, 'Enter sends, Shift+Enter starts a new line.'),
  );

  const emptyState = h(
    'div',
    { class: 'no-conversation' },
    h('p', null, 'Pick a conversation, or start a new one.'),
  );
  dropArea.append(header, list.root, list.latestButton, typing, composer);
  const body = h('div', { class: 'conversation-body' }, dropArea);
  const root = h(
    'main',
    { class: 'conversation', id: 'conversation', 'aria-label': 'Conversation' },
    emptyState,
    body,
  );

  const render = (now: number) => {
    const s = ctrl.state;
    const channel = ctrl.active;
    emptyState.hidden = channel !== undefined;
    body.hidden = channel === undefined;
    if (channel?.id !== draftFor) {
      if (draftFor) drafts.set(draftFor, input.value);
      draftFor = channel?.id;
      input.value = (draftFor && drafts.get(draftFor)) || '';
      grow();
    }
    if (!channel) return;
    const title = channelTitle(channel, s);
    const peer = peerOf(channel, s.me.id);
    const others = channel.memberIds.filter((id) => id !== s.me.id);
    const onlineCount = others.filter(
      (id) => statusOf(s, id) === 'online' || statusOf(s, id) === 'away',
    ).length;
    const subtitle = peer
      ? presenceKnown(s)
        ? presenceLabel(s.presence.get(peer), now)
        : 'waiting for network…'
      : `${channel.memberIds.length} members${onlineCount ? ` · ${onlineCount} online` : ''}`;
    const detailsOpen = s.panel.kind === 'details';
    region(
      header,
      [channel.id, title, subtitle, peer ? statusOf(s, peer) : '', detailsOpen].join('|'),
      () => [
        h(
          'button',
          { type: 'button', class: 'back', 'aria-label': 'Back to conversations', onclick: actions.back },
          '←',
        ),
        channelAvatar(channel, s, 40),
        h(
          'div',
          { class: 'conversation-title' },
          h('h2', { id: 'conversation-title' }, title),
          h('p', { class: 'subtitle', id: 'conversation-subtitle' }, subtitle),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'icon-button',
            id: 'details-toggle',
            'aria-expanded': String(detailsOpen),
            'aria-controls': 'panel',
            onclick: () => ctrl.showPanel(detailsOpen ? 'none' : 'details'),
          },
          channel.kind === 'group' ? 'Group info' : 'Info',
        ),
      ],
    );
    list.render();
    const names = [...(s.typing.get(channel.id) ?? new Map<string, number>())]
      .filter(([, until]) => until > now)
      .map(([id]) => nameOf(s.users, id));
    region(typing, names.join(','), () => typingText(names));
  };

  return { root, render };
}
