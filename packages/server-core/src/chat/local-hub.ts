import type { ServerFrame, SyncEntry } from '@natter/protocol';
import type { EphemeralSink } from '../presence/presence-service.js';
import type { Delivery, DeliveryOrigin, DeliverySink } from './delivery.js';

/** A connection as the hub sees it: somewhere to push a user's live entries. */
export interface LiveEndpoint {
  readonly connectionId: string;
  readonly userId: string;
  readonly deviceId: string;
  pushEntry(entry: SyncEntry): void;
  /** Sends an ephemeral frame (presence, typing, receipts); dropped for slow consumers. */
  pushFrame(frame: ServerFrame): void;
}

/**
 * The registry of this node's live connections, by user. It is the node-local {@link DeliverySink};
 * a broker adapter feeds it deliveries committed on other nodes.
 */
export class LocalHub<E extends LiveEndpoint = LiveEndpoint> implements DeliverySink, EphemeralSink {
  private readonly byUser = new Map<string, Set<E>>();

  /** Registers a connection; from now on it receives every entry committed for its user. */
  add(endpoint: E): void {
    let set = this.byUser.get(endpoint.userId);
    if (!set) {
      set = new Set();
      this.byUser.set(endpoint.userId, set);
    }
    set.add(endpoint);
  }

  remove(endpoint: E): void {
    const set = this.byUser.get(endpoint.userId);
    if (!set) return;
    set.delete(endpoint);
    if (set.size === 0) this.byUser.delete(endpoint.userId);
  }

  /** Live connections of a user on this node. */
  endpointsOf(userId: string): ReadonlySet<E> {
    return this.byUser.get(userId) ?? (EMPTY as ReadonlySet<E>);
  }

  /** All live connections on this node. */
  *all(): IterableIterator<E> {
    for (const set of this.byUser.values()) yield* set;
  }

  sendToUsers(userIds: Iterable<string>, frame: ServerFrame, exceptConnectionId?: string): void {
    for (const userId of userIds) {
      const set = this.byUser.get(userId);
      if (!set) continue;
      for (const endpoint of set) if (endpoint.connectionId !== exceptConnectionId) endpoint.pushFrame(frame);
    }
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
