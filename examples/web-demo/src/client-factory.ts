/** Creates the demo's `ChatClient` for one account: IndexedDB cache and outbox, tokens shared across tabs. */
import {
  ChatClient,
  type ChatClientOptions,
  HttpClient,
  IndexedDbStore,
  type MemberReceipt,
  type Session,
} from '@natter/client';
import { ReceiptMemory } from './receipt-memory.js';
import { sharedTokenProvider } from './tokens.js';

/** The server the page was loaded from: the reference server serves the demo beside its API. */
export function serverUrl(): string {
  return location.origin;
}

/**
 * A `ChatClient` whose `receipts()` falls back to the markers last seen when the server cannot be asked
 * (offline after a reload), and remembers every marker it sees. The kit's receipts store calls it.
 */
export class DemoChatClient extends ChatClient {
  private readonly memory: ReceiptMemory;

  constructor(options: ChatClientOptions, account: string) {
    super(options);
    this.memory = new ReceiptMemory(account);
    this.on('receipt', (r) => this.memory.remember(r.channelId, [r]));
  }

  override async receipts(channelId: string): Promise<MemberReceipt[]> {
    try {
      const receipts = await super.receipts(channelId);
      this.memory.remember(channelId, receipts);
      return receipts;
    } catch (err) {
      const remembered = this.memory.get(channelId);
      if (remembered.length > 0) return remembered;
      throw err;
    }
  }
}

/**
 * A client for `username`. Each account has its own IndexedDB database, so two accounts in one browser never
 * share a sync cursor or an outbox, while two tabs of one account do (and stay in sync through it).
 */
export function createClient(
  username: string,
  session: Session | undefined,
  onEnded: () => void,
): DemoChatClient {
  const url = serverUrl();
  return new DemoChatClient(
    {
      url,
      store: new IndexedDbStore({ name: `natter-demo.${username.toLowerCase()}` }),
      getToken: sharedTokenProvider(username, new HttpClient({ baseUrl: url }), onEnded),
      // Tells the outbox whose pending messages to show before the server's `hello` (offline after a reload).
      ...(session ? { session } : {}),
      // Browsers keep a socket "open" when the network drops; frequent pings notice it within ~8 s.
      heartbeatIntervalMs: 5_000,
      pongTimeoutMs: 3_000,
      backoff: { baseMs: 500, maxMs: 10_000 },
      // A reloaded tab takes over the old page's pending messages after this; resending early is safe
      // because the server deduplicates by clientMsgId.
      outboxLeaseMs: 5_000,
      // End-to-end encrypted channels (docs/e2ee.md): the device's keys live in this account's IndexedDB
      // database. A demo user has a handful of contacts, so 10 single-use KeyPackages keep sign-in light.
      e2ee: { keyPackageTarget: 10 },
    },
    username,
  );
}
