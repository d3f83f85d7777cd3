/**
 * The message list: day separators, grouped messages, receipts, pending and failed outbox messages with
 * retry; loads older history when scrolled to the top, keeps the reading position while it does, and
 * scrolls to a message after a jump.
 */
import type { Message, PendingMessage, UserProfile } from '@natter/client';
import type { ChatController } from '../controller.js';
import { type Child, h, type KeyedItem, patchKeyed } from '../dom.js';
import { clockTime, joinNames, nameOf, systemText } from '../format.js';
import type { AppState } from '../state.js';
import { windowMessages } from '../state.js';
import { buildTimeline, type OwnReceipt, type TimelineRow } from '../timeline.js';
import { attachmentsOf } from './attachments.js';
import { avatar, srOnly } from './bits.js';

/** Pixels from the edge that count as "at the edge". */
const EDGE = 48;
const PRELOAD = 400;

/** Splits text into plain parts and `@username` mentions of known users. */
function textWithMentions(text: string, mentions: readonly string[], state: AppState): Child[] {
  const byName = new Map<string, UserProfile>();
  for (const id of mentions) {
    const user = state.users.get(id);
    if (user) byName.set(user.username.toLowerCase(), user);
  }
  if (byName.size === 0) return [text];
  const parts: Child[] = [];
  let last = 0;
  for (const match of text.matchAll(/@([a-z0-9_.-]{3,32})/gi)) {
    const user = byName.get(match[1]!.toLowerCase().replace(/[.-]+$/, ''));
    if (!user || match.index === undefined) continue;
    parts.push(text.slice(last, match.index));
    const isMe = user.id === state.me.id;
    parts.push(h('span', { class: `mention${isMe ? ' is-me' : ''}` }, `@${user.username}`));
    last = match.index + 1 + user.username.length;
  }
  parts.push(text.slice(last));
  return parts;
}

const DELIVERY_LABEL = { sent: 'Sent', delivered: 'Delivered', read: 'Read' } as const;

function ticks(receipt: OwnReceipt): HTMLElement {
  return h(
    'span',
    { class: `ticks ${receipt.delivery}`, title: DELIVERY_LABEL[receipt.delivery] },
    h('span', { 'aria-hidden': 'true' }, receipt.delivery === 'sent' ? '✓' : '✓✓'),
    srOnly(DELIVERY_LABEL[receipt.delivery]),
  );
}

function readLine(receipt: OwnReceipt, isGroup: boolean, state: AppState): string {
  if (!isGroup) return receipt.delivery === 'read' ? 'Seen' : DELIVERY_LABEL[receipt.delivery];
  if (receipt.readBy.length === 0) return DELIVERY_LABEL[receipt.delivery];
  return `Read by ${joinNames(receipt.readBy.map((id) => nameOf(state.users, id)))}`;
}

function pendingStatus(pending: PendingMessage, online: boolean): string {
  if (pending.status === 'failed') return `Not sent: ${pending.error?.message ?? 'failed'}`;
  if (!online) return 'Waiting for network…';
  if (pending.status === 'sending') return 'Sending…';
  return pending.error ? 'Retrying…' : 'Waiting to send…';
}

/** The message list of the active conversation. */
export class MessageList {
  readonly root: HTMLElement;
  private readonly rows: HTMLOListElement;
  private readonly top: HTMLElement;
  readonly latestButton: HTMLButtonElement;
  private channelId: string | undefined;
  private stick = true;

  constructor(private readonly ctrl: ChatController) {
    this.rows = h('ol', { class: 'rows' });
    this.top = h('div', { class: 'history-top', 'aria-live': 'polite' });
    this.root = h(
      'div',
      {
        class: 'messages',
        id: 'messages',
        role: 'log',
        'aria-label': 'Messages',
        tabindex: '0',
        onscroll: () => this.onScroll(),
      },
      this.top,
      this.rows,
    );
    this.latestButton = h(
      'button',
      {
        type: 'button',
        class: 'jump-latest',
        hidden: true,
        onclick: () => this.toLatest(),
      },
      '↓ Latest messages',
    );
  }

  /** Sticks to the bottom (after the user sent a message). */
  followNewest(): void {
    this.stick = true;
    this.root.scrollTop = this.root.scrollHeight;
  }

  render(): void {
    const { ctrl } = this;
    const s = ctrl.state;
    const channel = ctrl.active;
    if (channel?.id !== this.channelId) {
      this.channelId = channel?.id;
      this.rows.replaceChildren();
      this.stick = true;
    }
    if (!channel) return;
    const win = s.windows.get(channel.id);
    const messages = windowMessages(win);
    const timeline = buildTimeline({
      messages,
      pending: ctrl.pendingIn(channel.id),
      me: s.me.id,
      memberIds: channel.memberIds,
      receipts: s.receipts.get(channel.id) ?? new Map(),
      atNewest: !win?.hasMoreAfter,
      now: Date.now(),
    });
    const anchor = this.stick ? undefined : this.firstVisible();
    const anchorTop = anchor?.getBoundingClientRect().top;
    patchKeyed(
      this.rows,
      timeline.map((row) => this.item(row, channel.kind === 'group')),
    );
    this.top.textContent = win?.loadingBefore
      ? 'Loading older messages…'
      : win && !win.hasMoreBefore && win.fromServer
        ? 'This is the beginning of the conversation.'
        : '';

    const jump = s.jump;
    if (jump && jump.channelId === channel.id) {
      const target = this.rows.querySelector<HTMLElement>(`[data-seq="${jump.seq}"]`);
      if (target) {
        s.jump = undefined;
        this.stick = false;
        target.scrollIntoView({ block: 'center' });
        target.classList.add('highlight');
        target.focus({ preventScroll: true });
        setTimeout(() => target.classList.remove('highlight'), 2_500);
      }
    } else if (this.stick) {
      this.root.scrollTop = this.root.scrollHeight;
    } else if (anchor?.isConnected && anchorTop !== undefined) {
      this.root.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
    }
    this.latestButton.hidden = !(win?.hasMoreAfter || !this.stick);
    // Too few messages to scroll: fetch older ones until the list fills the view or the start is reached.
    if (win?.fromServer && win.hasMoreBefore && this.root.scrollHeight <= this.root.clientHeight + EDGE)
      void ctrl.loadOlder(channel.id);
    ctrl.viewingBottom = this.stick && !win?.hasMoreAfter;
  }

  private item(row: TimelineRow, isGroup: boolean): KeyedItem {
    const s = this.ctrl.state;
    if (row.kind === 'day')
      return {
        key: row.key,
        sig: row.label,
        render: () => h('li', { class: 'day', role: 'separator' }, h('span', null, row.label)),
      };
    if (row.kind === 'pending') {
      const p = row.pending;
      const status = pendingStatus(p, s.networkOnline);
      return {
        key: row.key,
        sig: `${p.status}|${status}`,
        render: () =>
          h(
            'li',
            {
              class: `message own ${p.status === 'failed' ? 'failed' : 'pending'}`,
              'data-pending': p.clientMsgId,
            },
            h(
              'div',
              { class: 'bubble' },
              h('p', { class: 'text' }, p.text),
              h(
                'span',
                { class: 'meta' },
                h('span', { class: 'pending-status' }, status),
                p.status === 'failed'
                  ? [
                      h(
                        'button',
                        { type: 'button', class: 'link', onclick: () => this.ctrl.retry(p.clientMsgId) },
                        'Retry',
                      ),
                      h(
                        'button',
                        { type: 'button', class: 'link', onclick: () => this.ctrl.discard(p.clientMsgId) },
                        'Discard',
                      ),
                    ]
                  : null,
              ),
            ),
          ),
      };
    }
    const m = row.message;
    if (m.kind === 'system') {
      const text = systemText(m, s.users, s.me.id);
      return {
        key: row.key,
        sig: text,
        render: () => h('li', { class: 'system', 'data-seq': m.seq, tabindex: '-1' }, h('span', null, text)),
      };
    }
    const sender = nameOf(s.users, m.senderId);
    const mentionsMe = m.mentions.includes(s.me.id);
    const mentionNames = m.mentions.map((id) => s.users.get(id)?.username ?? '').join(',');
    const receipt = row.receipt;
    const line = receipt && row.showReadLine ? readLine(receipt, isGroup, s) : '';
    const sig = [sender, row.startsGroup, receipt?.delivery, line, mentionNames].join('|');
    return {
      key: row.key,
      sig,
      render: () => this.messageRow(m, row.own, row.startsGroup, isGroup, sender, mentionsMe, receipt, line),
    };
  }

  private messageRow(
    m: Message,
    own: boolean,
    startsGroup: boolean,
    isGroup: boolean,
    sender: string,
    mentionsMe: boolean,
    receipt: OwnReceipt | undefined,
    line: string,
  ): HTMLElement {
    const s = this.ctrl.state;
    const showSender = !own && isGroup && startsGroup;
    return h(
      'li',
      {
        class: `message${own ? ' own' : ''}${startsGroup ? ' starts' : ''}${mentionsMe ? ' mentions-me' : ''}`,
        'data-seq': m.seq,
        tabindex: '-1',
      },
      !own && isGroup
        ? startsGroup
          ? avatar(m.senderId, sender, undefined, 28)
          : h('span', { class: 'avatar-gap' })
        : null,
      h(
        'div',
        { class: 'stack' },
        h(
          'div',
          { class: 'bubble' },
          showSender ? h('span', { class: 'sender' }, sender) : srOnly(own ? 'You: ' : `${sender}: `),
          attachmentsOf(this.ctrl, m),
          m.text ? h('p', { class: 'text' }, textWithMentions(m.text, m.mentions, s)) : null,
          h(
            'span',
            { class: 'meta' },
            h('time', { datetime: new Date(m.createdAt).toISOString() }, clockTime(m.createdAt)),
            receipt ? ticks(receipt) : null,
          ),
        ),
        line ? h('span', { class: 'read-line' }, line) : null,
      ),
    );
  }

  private firstVisible(): HTMLElement | undefined {
    const top = this.root.getBoundingClientRect().top;
    for (const row of this.rows.children as HTMLCollectionOf<HTMLElement>) {
      if (row.getBoundingClientRect().bottom > top) return row;
    }
    return undefined;
  }

  private onScroll(): void {
    const { ctrl } = this;
    const el = this.root;
    const fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
    this.stick = fromBottom < EDGE;
    const channel = ctrl.active;
    const win = channel && ctrl.state.windows.get(channel.id);
    if (!channel || !win) return;
    if (el.scrollTop < PRELOAD && win.hasMoreBefore && win.fromServer) void ctrl.loadOlder(channel.id);
    if (fromBottom < PRELOAD && win.hasMoreAfter) void ctrl.loadNewer(channel.id);
    const wasViewing = ctrl.viewingBottom;
    ctrl.viewingBottom = this.stick && !win.hasMoreAfter;
    if (ctrl.viewingBottom) ctrl.markReadIfViewing(true);
    this.latestButton.hidden = !(win.hasMoreAfter || !this.stick);
    if (wasViewing !== ctrl.viewingBottom) ctrl.changed();
  }

  private toLatest(): void {
    const channel = this.ctrl.active;
    if (!channel) return;
    this.stick = true;
    const win = this.ctrl.state.windows.get(channel.id);
    if (win?.hasMoreAfter) void this.ctrl.jumpToLatest(channel.id);
    else this.followNewest();
    this.latestButton.hidden = true;
    this.ctrl.markReadIfViewing(true);
  }
}
