import type { SyncEntry } from '@natter/protocol';
import type { Delivery, DeliveryOrigin, DeliverySink } from './delivery.js';

/** A connection as the hub sees it: somewhere to push a user's live entries. */
export interface LiveEndpoint {
  readonly connectionId: string;
  readonly userId: string;
  readonly deviceId: string;
  pushEntry(entry: SyncEntry): void;
}

/**
 * The registry of this node's live connections, by user. It is the node-local {@link DeliverySink};
 * a broker adapter feeds it deliveries committed on other nodes.
 */
export class LocalHub implements DeliverySink {
  private readonly byUser = new Map<string, Set<LiveEndpoint>>();

  /** Registers a connection; from now on it receives every entry committed for its user. */
  add(endpoint: LiveEndpoint): void {
    let set = this.byUser.get(endpoint.userId);
    if (!set) {
      set = new Set();
      this.byUser.set(endpoint.userId, set);
    }
    set.add(endpoint);
  }

  remove(endpoint: LiveEndpoint): void {
    const set = this.byUser.get(endpoint.userId);
    if (!set) return;
    set.delete(endpoint);
    if (set.size === 0) this.byUser.delete(endpoint.userId);
  }

  /** Live connections of a user on this node. */
  endpointsOf(userId: string): ReadonlySet<LiveEndpoint> {
    return this.byUser.get(userId) ?? EMPTY;
  }

  /** All live connections on this node. */
  *all(): IterableIterator<LiveEndpoint> {
    for (const set of this.byUser.values()) yield* set;
  }

  deliver(deliveries: readonly Delivery[], origin?: DeliveryOrigin): void {
    for (const { userId, entry } of deliveries) {
      const set = this.byUser.get(userId);
      if (!set) continue;
      for (const endpoint of set) {
        if (origin && endpoint.connectionId === origin.connectionId) continue;
        endpoint.pushEntry(entry);
      }
    }
  }
}

const EMPTY: ReadonlySet<LiveEndpoint> = new Set();
