import type {
  ChosenStatus,
  MessageEntry,
  PresenceInfo,
  ReceiptFrame,
  ServerFrame,
  TypingEventFrame,
} from '@natter/protocol';
import type { ChatCache } from './cache.js';
import type { Connection, RequestSender } from './connection.js';
import { toError } from './errors.js';
import type { HttpClient } from './http.js';

export type { ChosenStatus };

/** Payload of the `typing` event: someone in a channel is typing (or stopped). */
export type TypingEvent = Omit<TypingEventFrame, 't'>;

/** Payload of the `receipt` event: a member's read or delivery marker rose. */
export type ReceiptEvent = Omit<ReceiptFrame, 't'>;

/** What {@link Realtime} needs from the client. */
export interface RealtimeDeps {
  request: RequestSender;
  /** Sends a frame the server answers only on error; false when not connected. */
  notify: Connection['notify'];
  isOpen(): boolean;
  userId(): string | undefined;
  http: HttpClient;
  cache: ChatCache;
  /** Report received messages to the server (delivery receipts). */
  deliveryReceipts: boolean;
  onTyping(event: TypingEvent): void;
  onPresence(user: PresenceInfo): void;
  onReceipt(event: ReceiptEvent): void;
  onError(err: Error): void;
}

// The server expires a typing signal after 5 s; repeating it every 3 s keeps it alive without flooding.
const TYPING_REPEAT_MS = 3_000;
// Delivery receipts are batched: one frame per channel per second at most, whatever the message rate.
const RECEIPT_FLUSH_MS = 1_000;

/**
 * The ephemeral side of chat: typing indicators, presence, read markers and delivery receipts. Nothing here
 * is part of the sync log; all of it may be lost with a connection and is re-established on the next one.
 */
export class Realtime {
  private readonly typingSentAt = new Map<string, number>();
  private readonly toReport = new Map<string, number>();
  private readonly reported = new Map<string, number>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private status: ChosenStatus | undefined;

  constructor(private readonly deps: RealtimeDeps) {}

  /** Says the user is typing in a channel (repeat calls are throttled), or stopped with `active: false`. */
  setTyping(channelId: string, active = true, now = Date.now()): void {
    if (!active) {
      if (this.typingSentAt.delete(channelId)) this.deps.notify({ t: 'typing', channelId, active: false });
      return;
    }
    const last = this.typingSentAt.get(channelId);
    if (last !== undefined && now - last < TYPING_REPEAT_MS) return;
    if (this.deps.notify({ t: 'typing', channelId, active: true })) this.typingSentAt.set(channelId, now);
  }

  /** Marks a channel read up to `seq` on every device of the user; updates the cached unread count. */
  async markRead(channelId: string, seq: number): Promise<{ readSeq: number; unread: number }> {
    let result: { readSeq: number; unread: number };
    if (this.deps.isOpen()) {
      const answer = await this.deps.request({ t: 'read', channelId, seq });
      result = { readSeq: answer.readSeq, unread: answer.unread };
    } else {
      result = await this.deps.http.markRead(channelId, seq);
    }
    await this.updateChannel(channelId, result.readSeq, result.unread);
    return result;
  }

  /** Presence of some users or of a channel's members. */
  async getPresence(query: { userIds: readonly string[] } | { channelId: string }): Promise<PresenceInfo[]> {
    if (!this.deps.isOpen()) return this.deps.http.presence(query);
    const answer = await this.deps.request(
      'channelId' in query
        ? { t: 'presence.get', channelId: query.channelId }
        : { t: 'presence.get', userIds: [...query.userIds] },
    );
    return answer.users;
  }

  /** Sets the user's chosen status; kept and sent again on every reconnect. */
  async setStatus(status: ChosenStatus): Promise<void> {
    this.status = status;
    if (!this.deps.isOpen()) return;
    await this.deps.request({ t: 'status', status });
  }

  /** A session opened: restore the chosen status and report deliveries that waited for it. */
  onOpen(): void {
    this.typingSentAt.clear();
    if (this.status) {
      this.deps
        .request({ t: 'status', status: this.status })
        .catch((err: unknown) => this.deps.onError(toError(err)));
    }
    this.scheduleFlush();
  }

  /** Entries were delivered to the app: remember what to acknowledge as received. */
  onDelivered(entries: readonly MessageEntry[]): void {
    if (!this.deps.deliveryReceipts) return;
    const me = this.deps.userId();
    for (const { message } of entries) {
      if (message.senderId === me) continue;
      const known = Math.max(
        this.toReport.get(message.channelId) ?? 0,
        this.reported.get(message.channelId) ?? 0,
      );
      if (message.seq > known) this.toReport.set(message.channelId, message.seq);
    }
    if (this.toReport.size > 0) this.scheduleFlush();
  }

  /** A pushed frame: typing, presence and receipts become events; own receipts update the cache. */
  onFrame(frame: ServerFrame): void {
    if (frame.t === 'typing') {
      const { t: _t, ...event } = frame;
      this.deps.onTyping(event);
    } else if (frame.t === 'presence') {
      this.deps.onPresence(frame.user);
    } else if (frame.t === 'receipt') {
      const { t: _t, ...event } = frame;
      // Another device of the user read the channel: the unread count here must follow.
      if (event.userId === this.deps.userId()) void this.updateChannel(event.channelId, event.readSeq);
      this.deps.onReceipt(event);
    }
  }

  /** Stops timers. */
  close(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.toReport.size === 0) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, RECEIPT_FLUSH_MS);
  }

  private flush(): void {
    for (const [channelId, seq] of [...this.toReport]) {
      if (!this.deps.notify({ t: 'received', channelId, seq })) return;
      this.toReport.delete(channelId);
      this.reported.set(channelId, seq);
    }
  }

  private async updateChannel(channelId: string, readSeq: number, unread?: number): Promise<void> {
    const channel = this.deps.cache.getChannel(channelId);
    if (!channel || (channel.readSeq ?? 0) > readSeq) return;
    const lastSeq = channel.lastSeq ?? readSeq;
    const next = { ...channel, readSeq, unread: unread ?? (readSeq >= lastSeq ? 0 : channel.unread) };
    await this.deps.cache.putChannel(next).catch((err: unknown) => this.deps.onError(toError(err)));
  }
}
