import type { ChatClient } from '@natter/client';
import { ChannelsStore } from './channels.js';
import { ConnectionStore } from './connection.js';
import type { ExternalStore } from './external-store.js';
import { MessagesStore, type MessagesStoreOptions } from './messages.js';
import { PresenceStore, UsersStore } from './people.js';
import { ReceiptsStore } from './receipts.js';
import { TypingStore } from './typing.js';

/** Options of the stores behind the hooks. */
export interface ChatStoresOptions extends MessagesStoreOptions {
  /**
   * Channels whose message lists are kept while no component shows them, so switching back shows them at
   * once; the least recently created idle ones go first. @default 20
   */
  keptChannels?: number;
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
  private readonly messageStores = new Map<string, MessagesStore>();
  private readonly receiptStores = new Map<string, ReceiptsStore>();

  constructor(
    readonly client: ChatClient,
    private readonly options: ChatStoresOptions = {},
  ) {
    this.connection = new ConnectionStore(client);
    this.channels = new ChannelsStore(client);
    this.typing = new TypingStore(client);
    this.users = new UsersStore(client);
    this.presence = new PresenceStore(client);
  }

  /** The message store of a channel. */
  messages(channelId: string): MessagesStore {
    return this.perChannel(
      this.messageStores,
      channelId,
      () => new MessagesStore(this.client, channelId, this.options),
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
