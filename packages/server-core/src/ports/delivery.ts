import type { ServerFrame, SyncEntry } from '@natter/protocol';

/** The connection that issued a send, so its ack is sent in commit order with the live entries. */
export interface DeliveryOrigin {
  /** Connection id; it receives the ack instead of a `msg` frame for the sender's entry. */
  connectionId: string;
  /**
   * Called synchronously, in commit order, with the sender's entry; null for a mutation that changed
   * nothing (a reaction that was already there).
   */
  onAck(entry: SyncEntry | null, duplicate: boolean): void;
}

/** One committed sync entry for one user. */
export interface Delivery {
  userId: string;
  entry: SyncEntry;
}

/**
 * Where committed entries go for live delivery: the local connection registry on one node, a broker
 * when scaled out. Live delivery is a doorbell, never the record: a device that misses it recovers the
 * entry through sync, because positions are gap-free.
 */
export interface DeliverySink {
  deliver(deliveries: readonly Delivery[], origin?: DeliveryOrigin): void;
}

/**
 * Sends an ephemeral frame (typing, presence, receipts) to every connection of the given users: on this
 * node, or through the broker when scaled out. Best-effort by design: nothing ephemeral is in the record.
 */
export interface EphemeralSink {
  sendToUsers(userIds: Iterable<string>, frame: ServerFrame, exceptConnectionId?: string): void;
}
