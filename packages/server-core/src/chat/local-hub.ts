import type { ServerFrame, SyncEntry } from '@natter/protocol';
import type { Delivery, DeliveryOrigin, DeliverySink, EphemeralSink } from '../ports/delivery.js';

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
 *
 * A user with one live connection (the common case) maps straight to it; a Set is made only for a
 * second one, which saves a Set and its table on every such idle connection.
 */
export class LocalHub<E extends LiveEndpoint = LiveEndpoint> implements DeliverySink, EphemeralSink {
  private readonly byUser = new Map<string, E | Set<E>>();

  /** Registers a connection; from now on it receives every entry committed for its user. */
  add(endpoint: E): void {
    const current = this.byUser.get(endpoint.userId);
    if (current === undefined || current === endpoint) this.byUser.set(endpoint.userId, endpoint);
    else if (current instanceof Set) current.add(endpoint);
    else this.byUser.set(endpoint.userId, new Set([current, endpoint]));
  }

  remove(endpoint: E): void {
    const current = this.byUser.get(endpoint.userId);
    if (current === endpoint) {
      this.byUser.delete(endpoint.userId);
    } else if (current instanceof Set) {
      current.delete(endpoint);
      // Back to the single form; a `deliver` iterating the Set still sees the one that is left.
      const [only] = current;
      if (only === undefined) this.byUser.delete(endpoint.userId);
      else if (current.size === 1) this.byUser.set(endpoint.userId, only);
    }
  }

  /** Live connections of a user on this node, as they are now (a copy or a live view: do not keep it). */
  endpointsOf(userId: string): ReadonlySet<E> {
    const current = this.byUser.get(userId);
    if (current === undefined) return EMPTY as ReadonlySet<E>;
    return current instanceof Set ? current : new Set([current]);
  }

  /** All live connections on this node. */
  *all(): IterableIterator<E> {
    for (const current of this.byUser.values()) {
      if (current instanceof Set) yield* current;
      else yield current;
    }
  }

  sendToUsers(userIds: Iterable<string>, frame: ServerFrame, exceptConnectionId?: string): void {
    for (const userId of userIds) {
      const current = this.byUser.get(userId);
      if (current === undefined) continue;
      if (!(current instanceof Set)) {
        if (current.connectionId !== exceptConnectionId) current.pushFrame(frame);
        continue;
      }
      for (const endpoint of current)
        if (endpoint.connectionId !== exceptConnectionId) endpoint.pushFrame(frame);
    }
  }

  deliver(deliveries: readonly Delivery[], origin?: DeliveryOrigin): void {
    for (const { userId, entry } of deliveries) {
      const current = this.byUser.get(userId);
      if (current === undefined) continue;
      if (!(current instanceof Set)) {
        if (!origin || current.connectionId !== origin.connectionId) current.pushEntry(entry);
        continue;
      }
      for (const endpoint of current) {
        if (origin && endpoint.connectionId === origin.connectionId) continue;
        endpoint.pushEntry(entry);
      }
    }
  }
}

const EMPTY: ReadonlySet<LiveEndpoint> = new Set();
