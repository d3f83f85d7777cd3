import type { ChatClient, SendHandle } from '@natter/client';
import { ChannelUiStore } from './channel-ui.js';
import { ChannelsStore } from './channels.js';
import { ConnectionStore } from './connection.js';
import { EncryptedEntries } from './encrypted-entries.js';
import type { ExternalStore } from './external-store.js';
import { LifecycleFeed } from './lifecycle-feed.js';
import { MediaUrls } from './media-urls.js';
import type { Attachment, SendExtras } from './message-items.js';
import { MessagesStore, type MessagesStoreOptions, type SharedParts } from './messages.js';
import { PresenceStore, UsersStore } from './people.js';
import { ReceiptsStore } from './receipts.js';
import { ThreadStore } from './thread.js';
import { TypingStore } from './typing.js';

/** A send through the kit: the SDK's options, with uploads as the kit shows them while pending. */
export interface KitSendOptions {
  /** User ids @-mentioned in the text. */
  mentions?: readonly string[];
  /** The `seq` of the message this one answers, in the same channel. */
  replyTo?: number;
  /** The `seq` of the thread root this message is posted in. */
  threadRoot?: number;
  /** Uploads of the user's (`useUpload`, `client.upload`) the message carries. */
  attachments?: readonly Attachment[];
}

/** Options of the stores behind the hooks. */
export interface ChatStoresOptions extends MessagesStoreOptions {
  /**
   * Channels whose message lists are kept while no component shows them, so switching back shows them at
   * once; the least recently created idle ones go first. @default 20
   */
  keptChannels?: number;
  /**
   * Offer "Report" in the actions of others' messages (a dialog that calls `client.report`). Apps with
   * their own reporting flow, or none, turn it off. @default true
   */
  reportMessages?: boolean;
}

/**
 * Every store of one client. Stores per channel are made on first use and kept (bounded) while idle; the
 * whole set lives as long as the provider's client.
 */
export class ChatStores {
  readonly connection: ConnectionStore;
  readonly channels: ChannelsStore;
  readonly typing: TypingStore;
  readonly users: UsersStore;
  readonly presence: PresenceStore;
  /** Per-channel UI state: the message edited, answered, or with its thread open. */
  readonly ui: ChannelUiStore;
  /** Edits, deletes and reactions, each applied once. */
  readonly feed: LifecycleFeed;
  /** Signed media URLs, reused while fresh. */
  readonly mediaUrls: MediaUrls;
  /** What this device decrypted of encrypted channels (or could not), by channel and seq. */
  readonly encrypted: EncryptedEntries;
  /** Whether message rows offer "Report" (`ChatStoresOptions.reportMessages`). */
  readonly reportMessages: boolean;
  private readonly extras = new Map<string, SendExtras>();
  private readonly extrasOffs: Array<() => void> = [];
  private readonly shared: SharedParts;
  private readonly messageStores = new Map<string, MessagesStore>();
  private readonly receiptStores = new Map<string, ReceiptsStore>();
  private readonly threadStores = new Map<string, ThreadStore>();

  constructor(
    readonly client: ChatClient,
    private readonly options: ChatStoresOptions = {},
  ) {
    this.connection = new ConnectionStore(client);
    this.channels = new ChannelsStore(client);
    this.typing = new TypingStore(client);
    this.users = new UsersStore(client);
    this.presence = new PresenceStore(client);
    this.ui = new ChannelUiStore();
    this.feed = new LifecycleFeed(client);
    this.mediaUrls = new MediaUrls(client);
    this.reportMessages = options.reportMessages ?? true;
    this.encrypted = new EncryptedEntries(client);
    this.shared = { feed: this.feed, extras: this.extras, encrypted: this.encrypted };
  }

  /**
   * Keeps a pending send's extras until its stored copy (which carries them) replaces it; the client is
   * listened to only while some are kept, so a provider that goes away leaves no listener behind.
   */
  private keepExtras(clientMsgId: string, extras: SendExtras): void {
    this.extras.set(clientMsgId, extras);
    if (this.extrasOffs.length > 0) return;
    const forget = (id: string) => {
      this.extras.delete(id);
      if (this.extras.size === 0) for (const off of this.extrasOffs.splice(0)) off();
    };
    this.extrasOffs.push(
      this.client.on('ack', ({ clientMsgId: id }) => forget(id)),
      this.client.on('outbox', ({ message }) => {
        if (message.status === 'discarded') forget(message.clientMsgId);
      }),
    );
  }

  /**
   * Sends through the outbox and shows the message as pending at once, in the channel's list or, for a
   * thread reply, in its thread.
   * @throws NatterError for input that can never be sent (empty, too large)
   */
  send(channelId: string, text: string, options: KitSendOptions = {}): SendHandle {
    const { mentions, replyTo, threadRoot, attachments } = options;
    const handle = this.client.send(channelId, text, {
      ...(mentions ? { mentions } : {}),
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(threadRoot !== undefined ? { threadRoot } : {}),
      ...(attachments?.length ? { attachments: attachments.map((a) => ({ mediaId: a.mediaId })) } : {}),
    });
    const parent = replyTo === undefined ? undefined : this.messageStores.get(channelId)?.find(replyTo);
    const extras: SendExtras = Object.freeze({
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(parent
        ? {
            replyPreview: {
              senderId: parent.senderId,
              text: parent.text,
              deleted: parent.deletedAt !== undefined,
            },
          }
        : {}),
      ...(threadRoot !== undefined ? { threadRoot } : {}),
      ...(attachments?.length ? { attachments } : {}),
    });
    if (Object.keys(extras).length > 0) this.keepExtras(handle.message.clientMsgId, extras);
    // A list showing the channel shows the message now; one made later reads it from the outbox.
    this.messageStores.get(channelId)?.addPending(handle);
    if (threadRoot !== undefined)
      this.threadStores.get(`${channelId}:${threadRoot}`)?.showPending(handle.message);
    return handle;
  }

  /** The store of one thread. */
  thread(channelId: string, rootSeq: number): ThreadStore {
    const key = `${channelId}:${rootSeq}`;
    return this.perChannel(
      this.threadStores,
      key,
      () => new ThreadStore(this.client, channelId, rootSeq, this.options.pageSize ?? 50, this.shared),
    );
  }

  /** The message store of a channel. */
  messages(channelId: string): MessagesStore {
    return this.perChannel(
      this.messageStores,
      channelId,
      () => new MessagesStore(this.client, channelId, this.options, this.shared),
    );
  }

  /** The message store of a channel if one exists (something showed the channel). */
  existingMessages(channelId: string): MessagesStore | undefined {
    return this.messageStores.get(channelId);
  }

  /** The receipts store of a channel. */
  receipts(channelId: string): ReceiptsStore {
    return this.perChannel(this.receiptStores, channelId, () => new ReceiptsStore(this.client, channelId));
  }

  private perChannel<S extends ExternalStore<unknown>>(
    stores: Map<string, S>,
    channelId: string,
    make: () => S,
  ): S {
    const existing = stores.get(channelId);
    if (existing) return existing;
    const made = make();
    stores.set(channelId, made);
    const limit = this.options.keptChannels ?? 20;
    if (stores.size > limit) {
      for (const [id, store] of stores) {
        if (stores.size <= limit) break;
        if (!store.isActive && id !== channelId) stores.delete(id);
      }
    }
    return made;
  }
}
