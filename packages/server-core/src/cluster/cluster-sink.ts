import { msgpackCodec, type ServerFrame } from '@natter/protocol';
import type { LocalHub } from '../chat/local-hub.js';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';
import { type Broker, BrokerErrorCode } from '../ports/broker.js';
import type { Delivery, DeliveryOrigin, DeliverySink, EphemeralSink } from '../ports/delivery.js';
import type { ChatStore } from '../ports/storage.js';

/**
 * Close a user's sockets on every node: after a logout, a password change or a deactivation, a socket
 * opened earlier on another node must not stay open until its token expires.
 */
export interface SessionCloseOrder {
  userId: string;
  /** Only this device's sockets; all of the user's when absent. */
  deviceId?: string;
  /** Every socket but this device's (the one that changed the password). */
  exceptDeviceId?: string;
  code: number;
  reason: string;
}

/** What travels on a user's topic. */
type Envelope =
  | { o: string; k: 'd'; d: Delivery }
  | { o: string; k: 'f'; u: string; f: ServerFrame; x?: string }
  | { o: string; k: 'c'; c: SessionCloseOrder };

/** Topic of one user's live traffic. */
export const userTopic = (userId: string) => `natter.u.${userId}`;

/**
 * Live delivery across chat nodes. Local connections are served at once; every user's traffic is also
 * published on the user's topic, and each node subscribes to the topics of the users connected to it.
 * The broker is a doorbell: the sync log stays the record, so a dropped publish costs a gap fill, never a
 * message.
 */
export class ClusterSink implements DeliverySink, EphemeralSink {
  private readonly subscriptions = new Map<string, Promise<() => Promise<void>>>();
  private closeLocal: ((order: SessionCloseOrder) => void) | undefined;

  constructor(
    private readonly nodeId: string,
    private readonly hub: LocalHub,
    private readonly broker: Broker,
    private readonly logger: Logger,
    private readonly metrics: NatterMetrics,
    private readonly chat?: ChatStore,
  ) {
    broker.onError((err) => {
      const code = (err as { code?: unknown }).code;
      metrics.errors.inc({ code: typeof code === 'string' ? code : 'broker_error' });
      if (code === BrokerErrorCode.RECONNECTED) {
        logger.info('broker reconnected; nudging devices to check for gaps');
        void this.nudgeFollowedUsers();
      } else {
        logger.warn({ err }, 'broker error');
      }
    });
  }

  /**
   * After a broker blip, publishes dropped in between are gone; a device detects a gap only when a later entry
   * arrives. Re-sending each followed user's newest entry to their local devices makes that happen now: devices
   * that have it drop it as a duplicate, the others see the gap and sync.
   */
  private async nudgeFollowedUsers(): Promise<void> {
    if (!this.chat) return;
    for (const userId of this.subscriptions.keys()) {
      try {
        const head = await this.chat.syncHead(userId);
        if (head === 0) continue;
        const [entry] = await this.chat.readSync(userId, head - 1, 1);
        if (entry) this.hub.deliver([{ userId, entry }]);
      } catch (err) {
        this.fail('nudge', err);
      }
    }
  }

  /** Starts receiving a user's traffic from other nodes (first local connection of the user). */
  async follow(userId: string): Promise<void> {
    let sub = this.subscriptions.get(userId);
    if (!sub) {
      sub = this.broker.subscribe(userTopic(userId), (payload) => this.receive(payload));
      this.subscriptions.set(userId, sub);
      sub.catch((err: unknown) => {
        this.subscriptions.delete(userId);
        this.fail('subscribe', err);
      });
    }
    await sub;
  }

  /** Stops receiving a user's traffic (their last local connection closed). */
  unfollow(userId: string): void {
    const sub = this.subscriptions.get(userId);
    if (!sub || this.hub.endpointsOf(userId).size > 0) return;
    this.subscriptions.delete(userId);
    sub.then((unsubscribe) => unsubscribe()).catch((err: unknown) => this.fail('unsubscribe', err));
  }

  deliver(deliveries: readonly Delivery[], origin?: DeliveryOrigin): void {
    this.hub.deliver(deliveries, origin);
    for (const d of deliveries) this.publish(d.userId, { o: this.nodeId, k: 'd', d });
  }

  sendToUsers(userIds: Iterable<string>, frame: ServerFrame, exceptConnectionId?: string): void {
    const users = [...userIds];
    this.hub.sendToUsers(users, frame, exceptConnectionId);
    for (const u of users) {
      this.publish(u, {
        o: this.nodeId,
        k: 'f',
        u,
        f: frame,
        ...(exceptConnectionId ? { x: exceptConnectionId } : {}),
      });
    }
  }

  /** How this node closes its own sockets for an order (set once by the server's wiring). */
  onCloseOrder(closeLocal: (order: SessionCloseOrder) => void): void {
    this.closeLocal = closeLocal;
  }

  /**
   * Closes the matching sockets here and on every node that holds one: the order travels on the user's
   * topic, which exactly the nodes with a connection of the user follow. Best effort like all broker
   * traffic: a node that misses it still refuses the revoked token at the next handshake or API call.
   */
  closeSessions(order: SessionCloseOrder): void {
    this.closeLocal?.(order);
    this.publish(order.userId, { o: this.nodeId, k: 'c', c: order });
  }

  async close(): Promise<void> {
    const subs = [...this.subscriptions.values()];
    this.subscriptions.clear();
    await Promise.allSettled(subs.map(async (s) => (await s)()));
  }

  private publish(userId: string, envelope: Envelope): void {
    this.broker
      .publish(userTopic(userId), msgpackCodec.encode(envelope) as Uint8Array)
      .catch((err: unknown) => this.fail('publish', err));
  }

  private receive(payload: Uint8Array): void {
    let envelope: Envelope;
    try {
      envelope = msgpackCodec.decode(payload, true) as Envelope;
    } catch (err) {
      this.fail('decode', err);
      return;
    }
    if (envelope.o === this.nodeId) return; // served locally already
    if (envelope.k === 'd') this.hub.deliver([envelope.d]);
    else if (envelope.k === 'c') this.closeLocal?.(envelope.c);
    else this.hub.sendToUsers([envelope.u], envelope.f, envelope.x);
  }

  private fail(what: string, err: unknown): void {
    this.metrics.errors.inc({ code: `broker_${what}_failed` });
    this.logger.warn({ err }, `broker ${what} failed`);
  }
}
