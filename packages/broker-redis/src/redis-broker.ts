import { type Broker, BrokerErrorListeners } from '@natter/server-core';
import type { Redis } from 'ioredis';
import { closeRedis, openRedis, type RedisConnectionOptions, whenReady } from './connection.js';
import { BrokerError, BrokerErrorCode, isBrokerError, messageOf } from './errors.js';

/** Options of {@link RedisBroker}. */
export interface RedisBrokerOptions extends RedisConnectionOptions {
  /**
   * Prepended to every topic, so several natter clusters can share one Redis.
   * @default ''
   */
  channelPrefix?: string;
  /**
   * Use sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7+). On a Redis Cluster, classic pub/sub copies
   * every message to every shard; sharded pub/sub keeps a topic on the shard that owns its slot.
   * @default false
   */
  sharded?: boolean;
}

type Handler = (payload: Uint8Array) => void;

/** One Redis channel this node listens to, shared by every local handler of the topic. */
interface Channel {
  handlers: Set<Handler>;
  /** Settles when the server confirmed the SUBSCRIBE. */
  active: Promise<void>;
}

/**
 * natter's {@link Broker} on Redis pub/sub (ioredis). Two connections, because a connection in subscriber
 * mode cannot publish. Delivery is at-most-once: a message published while the subscriber connection is
 * down is gone, which the adapter reports (`NATTER_BROKER_UNREACHABLE`, then `NATTER_BROKER_RECONNECTED`
 * once the subscriptions are back) and natter's sync log repairs. Reconnects use jittered exponential
 * backoff and restore every subscription.
 *
 * @example
 * ```ts
 * const broker = createRedisBroker({ url: 'redis://10.0.0.5:6379' });
 * const server = createNatterServer({ storage, tokens, cluster: { broker } });
 * ```
 */
export class RedisBroker implements Broker {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly sharded: boolean;
  private readonly channels = new Map<string, Channel>();
  private readonly errors = new BrokerErrorListeners();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Rejects at `close()`, so calls still queued for a dead connection settle at once. */
  private readonly whenClosed: Promise<never>;
  private rejectOnClose: (error: Error) => void = () => {};

  constructor(options: RedisBrokerOptions = {}) {
    this.prefix = options.channelPrefix ?? '';
    this.sharded = options.sharded ?? false;
    this.whenClosed = new Promise<never>((_, reject) => {
      this.rejectOnClose = reject;
    });
    this.whenClosed.catch(() => undefined);
    // A send publishes once per recipient in the same tick: auto-pipelining writes them in one system
    // call (and reads their replies in one), instead of a write per publish.
    this.publisher = openRedis(options, 'publisher', { enableAutoPipelining: true });
    this.subscriber = openRedis(options, 'subscriber', { autoResubscribe: true });
    this.watch(this.publisher, 'publisher');
    this.watch(this.subscriber, 'subscriber');
    this.subscriber.on(
      this.sharded ? 'smessageBuffer' : 'messageBuffer',
      (channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), message),
    );
  }

  /** Resolves once both connections are up; rejects after `timeoutMs`. */
  async ready(timeoutMs = 5_000): Promise<void> {
    await Promise.all([whenReady(this.publisher, timeoutMs), whenReady(this.subscriber, timeoutMs)]);
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    if (this.closed) throw closedError();
    const channel = this.prefix + topic;
    const data = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    try {
      const sent = this.sharded
        ? this.publisher.spublish(channel, data)
        : this.publisher.publish(channel, data);
      sent.catch(() => undefined); // settled through the race below; never unhandled
      await Promise.race([sent, this.whenClosed]);
    } catch (err) {
      if (isBrokerError(err)) throw err;
      throw new BrokerError(BrokerErrorCode.UNREACHABLE, `redis publish failed: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }

  async subscribe(topic: string, handler: Handler): Promise<() => Promise<void>> {
    if (this.closed) throw closedError();
    const name = this.prefix + topic;
    // A function of its own per subscription: the same handler subscribed twice is two subscriptions.
    const own: Handler = (payload) => handler(payload);
    let channel = this.channels.get(name);
    if (!channel) {
      // Commands on one connection run in order, so a SUBSCRIBE issued after a pending UNSUBSCRIBE of the
      // same channel wins; no extra locking is needed.
      channel = { handlers: new Set(), active: this.command('subscribe', name) };
      channel.active.catch(() => undefined); // every subscriber awaits it; none may leave it unhandled
      this.channels.set(name, channel);
    }
    channel.handlers.add(own);
    const joined = channel;
    try {
      await Promise.race([joined.active, this.whenClosed]);
    } catch (err) {
      await this.leave(name, joined, own).catch(() => undefined);
      if (isBrokerError(err)) throw err;
      throw new BrokerError(BrokerErrorCode.UNREACHABLE, `redis subscribe failed: ${messageOf(err)}`, {
        cause: err,
      });
    }
    let left = false;
    return async () => {
      if (left) return;
      left = true;
      await this.leave(name, joined, own);
    };
  }

  onError(listener: (error: Error) => void): void {
    this.errors.add(listener);
  }

  /** Closes both connections. Pending publishes reject; nothing is delivered afterwards. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    this.rejectOnClose(closedError());
    this.closing ??= (async () => {
      this.channels.clear();
      await Promise.all([closeRedis(this.publisher), closeRedis(this.subscriber)]);
    })();
    return this.closing;
  }

  private async leave(name: string, channel: Channel, handler: Handler): Promise<void> {
    channel.handlers.delete(handler);
    if (channel.handlers.size > 0 || this.channels.get(name) !== channel) return;
    this.channels.delete(name);
    if (this.closed) return;
    try {
      await this.command('unsubscribe', name);
    } catch (err) {
      // The handler is already detached; a channel left subscribed only costs unused traffic.
      this.report(BrokerErrorCode.UNREACHABLE, `redis unsubscribe failed: ${messageOf(err)}`, err);
    }
  }

  private async command(kind: 'subscribe' | 'unsubscribe', channel: string): Promise<void> {
    if (kind === 'subscribe') {
      await (this.sharded ? this.subscriber.ssubscribe(channel) : this.subscriber.subscribe(channel));
    } else {
      await (this.sharded ? this.subscriber.sunsubscribe(channel) : this.subscriber.unsubscribe(channel));
    }
  }

  private dispatch(name: string, message: Buffer): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    const payload = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    for (const handler of [...channel.handlers]) {
      try {
        handler(payload);
      } catch (err) {
        this.report(BrokerErrorCode.HANDLER_FAILED, `subscriber handler threw: ${messageOf(err)}`, err);
      }
    }
  }

  /** Reports errors, drops and recoveries of one connection through `onError`. */
  private watch(client: Redis, role: 'publisher' | 'subscriber'): void {
    let wasReady = false;
    let down = false;
    client.on('error', (err: Error) => {
      if (this.closed) return;
      this.report(BrokerErrorCode.UNREACHABLE, `redis ${role}: ${err.message}`, err);
    });
    client.on('close', () => {
      if (this.closed || !wasReady || down) return;
      down = true;
      this.report(BrokerErrorCode.UNREACHABLE, `redis ${role} connection lost`);
    });
    client.on('ready', () => {
      if (!wasReady) {
        wasReady = true;
        return;
      }
      down = false;
      if (role === 'publisher') {
        this.report(BrokerErrorCode.RECONNECTED, 'redis publisher reconnected');
        return;
      }
      // ioredis re-sends the SUBSCRIBEs on ready; a PING queued behind them answers once they are active.
      void client
        .ping()
        .then(() => {
          if (!this.closed)
            this.report(BrokerErrorCode.RECONNECTED, 'redis subscriber reconnected and resubscribed');
        })
        .catch((err: unknown) =>
          this.report(BrokerErrorCode.UNREACHABLE, `redis resubscribe failed: ${messageOf(err)}`, err),
        );
    });
  }

  private report(code: BrokerErrorCode, message: string, cause?: unknown): void {
    this.errors.report(code, message, cause);
  }
}

const closedError = () => new BrokerError(BrokerErrorCode.CLOSED, 'the redis broker is closed');

/** Creates a {@link RedisBroker}; it connects in the background (await `ready()` to wait). */
export function createRedisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  return new RedisBroker(options);
}
