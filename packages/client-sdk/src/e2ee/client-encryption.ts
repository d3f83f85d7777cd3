import { ErrorCode, type Message, type MessageEntry, NatterError } from '@natter/protocol';
import { fromBase64, toBase64 } from '../base64.js';
import type { ChatCache } from '../cache.js';
import type { ChatClientEvents, MutationResult } from '../client-types.js';
import type { Emitter } from '../emitter.js';
import type { HttpClient } from '../http.js';
import type { ClientStore, OutboxSendItem } from '../store.js';
import { DEFAULT_CACHE_LIMITS } from '../store.js';
import type { EntrySource } from '../sync.js';
import { DeliveryClient } from './delivery-client.js';
import { applyEncryptedChange, type EncryptedChangeDeps } from './encrypted-changes.js';
import { EncryptedChannels } from './encrypted-channels.js';
import { encryptedPayloadOf } from './encrypted-send.js';
import type { EncryptedPayload } from './payload.js';
import { type ReadEncryptedMessage, ReadEntries } from './read-entries.js';

/** What the client hands its encryption part. */
export interface ClientEncryptionDeps {
  http: HttpClient;
  store: ClientStore;
  cache: ChatCache;
  events: Emitter<ChatClientEvents>;
  /** The signed-in user (whose own reactions are marked `me`). */
  me(): string | undefined;
  onError(err: Error): void;
  keyPackageTarget?: number;
}

/**
 * The `ChatClient`'s end-to-end encryption glue (option `e2ee`): starts the device's encrypted channels at each
 * `hello`, routes MLS entries to them, sends the outbox's encrypted items and encrypted changes, and emits
 * decrypted messages and changes as the client's usual events. Kept apart so the client stays a facade.
 */
export class ClientEncryption {
  readonly channels: EncryptedChannels;
  /** The decrypted form of every encrypted entry this device read, in the client store. */
  readonly read: ReadEntries;
  private started: Promise<void>;
  private firstStart: ((run: Promise<void>) => void) | undefined;

  constructor(private readonly deps: ClientEncryptionDeps) {
    // Calls made before the first connection wait for it.
    this.started = new Promise((resolve) => {
      this.firstStart = resolve;
    });
    this.started.catch(() => undefined);
    this.read = new ReadEntries(deps.store);
    this.channels = new EncryptedChannels({
      http: deps.http,
      delivery: new DeliveryClient(deps.http),
      store: deps.store,
      read: this.read,
      onMessage: (entry, message, info, source) => {
        if (info.payload.t !== 'msg') return applyEncryptedChange(this.changes(), entry, info, source);
        deps.events.emit('message', { message, pos: entry.pos, source, encrypted: info });
        return deps.cache.putMessages([message]);
      },
      onDecryptionFailed: (event) => deps.events.emit('decryptionFailed', event),
      onError: deps.onError,
      ...(deps.keyPackageTarget !== undefined ? { keyPackageTarget: deps.keyPackageTarget } : {}),
    });
  }

  /** The encrypted channels once this device's engine is open and published. */
  async ready(): Promise<EncryptedChannels> {
    await this.started;
    return this.channels;
  }

  /** At each `hello`, before sync: the engine opens first, so entries are read with it, in order. */
  onOpen(userId: string, deviceId: string): void {
    const run = this.channels.start({ userId, deviceId });
    run.catch((err: unknown) => this.deps.onError(err instanceof Error ? err : new Error(String(err))));
    if (this.firstStart) this.firstStart(run);
    else this.started = run;
    this.firstStart = undefined;
  }

  /** A commit or ciphertext from sync. */
  onEntry(entry: MessageEntry, source: EntrySource): void {
    this.markEncrypted(entry.message.channelId);
    void this.channels.onEntry(entry, source).catch(this.deps.onError);
  }

  /** A page (server history, cache, thread) with each ciphertext entry replaced by what this device read. */
  substitute(messages: readonly Message[]): Promise<ReadEncryptedMessage[]> {
    return this.read.substitute(messages);
  }

  /** True for a channel whose sends and changes must be encrypted. */
  isEncrypted(channelId: string): boolean {
    return this.channels.has(channelId) || !!this.deps.cache.getChannel(channelId)?.encrypted;
  }

  /** The outbox's way out for an encrypted send (see `OutboxDeps.sendEncrypted`). */
  async sendOutboxItem(item: OutboxSendItem, persist: (item: OutboxSendItem) => Promise<void>) {
    const channels = await this.ready();
    return channels.send(item.channelId, encryptedPayloadOf(item), item.clientMsgId, {
      ...(item.e2ee?.ciphertext ? { ciphertext: fromBase64(item.e2ee.ciphertext) } : {}),
      persist: (ciphertext) => persist({ ...item, e2ee: { ...item.e2ee, ciphertext: toBase64(ciphertext) } }),
    });
  }

  /**
   * An edit, delete or reaction in an encrypted channel: encrypted like a message, naming its target by
   * `clientMsgId`. Settles with `entry: null` (the server's entry is a ciphertext, delivered through sync).
   */
  async change(
    channelId: string,
    target: number | string,
    make: (clientMsgId: string) => EncryptedPayload,
  ): Promise<MutationResult> {
    let clientMsgId = typeof target === 'string' ? target : undefined;
    if (typeof target === 'number') {
      const [found] = await this.deps.cache.getMessages(channelId, { afterSeq: target - 1, limit: 1 });
      clientMsgId = found?.seq === target ? (found.clientMsgId ?? undefined) : undefined;
    }
    if (!clientMsgId)
      throw new NatterError(ErrorCode.NOT_FOUND, 'the message to change is not known on this device');
    await (await this.ready()).send(channelId, make(clientMsgId));
    return { entry: null, duplicate: false };
  }

  /**
   * The `created` entry does not say a channel is encrypted, so a channel met through sync is marked when its
   * first MLS entry arrives: sends written offline later still leave encrypted.
   */
  private markEncrypted(channelId: string): void {
    const cached = this.deps.cache.getChannel(channelId);
    if (cached && !cached.encrypted) void this.deps.cache.putChannel({ ...cached, encrypted: true });
  }

  private changes(): EncryptedChangeDeps {
    const { cache, events } = this.deps;
    return {
      find: async (channelId, clientMsgId) =>
        (await cache.getMessages(channelId, { limit: DEFAULT_CACHE_LIMITS.maxMessagesPerChannel })).find(
          (m) => m.clientMsgId === clientMsgId,
        ),
      // The stored decrypted form follows its changes: an edit, a reaction, a delete (which erases it).
      put: async (message) => {
        await this.read.update(message);
        await cache.putMessages([message]);
      },
      me: () => this.deps.me(),
      edited: (message, pos, source, encrypted) =>
        events.emit('messageEdited', { message, pos, source, encrypted }),
      deleted: (message, pos, source, encrypted) =>
        events.emit('messageDeleted', { message, pos, source, encrypted }),
      reaction: (event) => events.emit('reactionChanged', event),
    };
  }
}
