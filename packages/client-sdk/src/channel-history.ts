import { ErrorCode, type Message } from '@natter/protocol';
import type { ChatCache } from './cache.js';
import type { HistoryResult } from './client-types.js';
import type { Connection } from './connection.js';
import type { ClientEncryption } from './e2ee/client-encryption.js';
import { errorCodeOf } from './errors.js';
import type { HistoryPage, HistoryQuery, HttpClient } from './http.js';
import type { MessageActions } from './message-actions.js';
import type { Outbox } from './outbox.js';
import { withPendingChanges } from './pending-view.js';
import type { CachedMessagesQuery } from './store.js';

/** An anchor and size of a thread page. */
export interface ThreadQuery {
  before?: number;
  after?: number;
  around?: number;
  limit?: number;
}

interface ChannelHistoryDeps {
  connection: Connection;
  http: HttpClient;
  cache: ChatCache;
  outbox: Outbox;
  actions: MessageActions;
  encryption: ClientEncryption | undefined;
  userId: () => string | undefined;
  /** Resolves once the client store is loaded. */
  ready: () => Promise<void>;
}

/**
 * What the app shows of a channel: pages from the server (over the socket when open, else HTTP) or the
 * cache, each message in the form this device reads it (decrypted, with the user's pending changes
 * applied), and every page fetched added to the cache.
 */
export class ChannelHistory {
  constructor(private readonly deps: ChannelHistoryDeps) {}

  /** A page from the server; from the cache (`source: 'cache'`) when the server cannot be reached. */
  async page(channelId: string, query: HistoryQuery): Promise<HistoryResult> {
    let page: HistoryPage;
    try {
      page = await this.fetch(channelId, query);
    } catch (err) {
      if (errorCodeOf(err) !== ErrorCode.UNAVAILABLE) throw err;
      const messages = await this.cached(channelId, {
        ...(query.before !== undefined ? { beforeSeq: query.before } : {}),
        ...(query.after !== undefined ? { afterSeq: query.after } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
      });
      return { messages, hasMoreBefore: (messages[0]?.seq ?? 1) > 1, hasMoreAfter: false, source: 'cache' };
    }
    const messages = await this.decryptedForms(page.messages);
    await this.deps.cache.putMessages(messages);
    return { ...page, messages: this.withPending(messages), source: 'server' };
  }

  /** A page of a thread's replies (newest page without an anchor). Needs the connection. */
  async thread(channelId: string, rootSeq: number, query: ThreadQuery): Promise<HistoryPage> {
    const fetched = await this.deps.actions.threadHistory(channelId, rootSeq, query);
    const messages = await this.decryptedForms(fetched.messages);
    await this.deps.cache.putMessages(messages);
    return { ...fetched, messages };
  }

  /** Cached messages of a channel, ascending by `seq`, with the user's pending changes applied. */
  async cached(channelId: string, query?: CachedMessagesQuery): Promise<Message[]> {
    await this.deps.ready();
    return this.withPending(await this.decryptedForms(await this.deps.cache.getMessages(channelId, query)));
  }

  private withPending(messages: readonly Message[]): Message[] {
    return withPendingChanges(messages, this.deps.outbox.pendingChanges(), this.deps.userId());
  }

  /**
   * Encrypted entries as this device read them (docs/e2ee.md, "History after a restart"): the server and
   * the cache may hold the ciphertext, which MLS cannot decrypt a second time.
   */
  private async decryptedForms(messages: Message[]): Promise<Message[]> {
    const { encryption } = this.deps;
    if (!encryption || !messages.some((m) => m.system?.action === 'mls_message')) return messages;
    return encryption.substitute(messages);
  }

  private async fetch(channelId: string, query: HistoryQuery): Promise<HistoryPage> {
    const { connection } = this.deps;
    if (connection.status !== 'open') return this.deps.http.history(channelId, query);
    const answer = await connection.request({ t: 'history', channelId, ...query });
    return {
      messages: answer.messages,
      hasMoreBefore: answer.hasMoreBefore,
      hasMoreAfter: answer.hasMoreAfter,
    };
  }
}
