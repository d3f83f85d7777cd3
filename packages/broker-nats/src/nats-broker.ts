import {
  connect,
  type Msg,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription,
} from '@nats-io/transport-node';
import { type Broker, BrokerErrorListeners } from '@natter/server-core';
import { BrokerError, BrokerErrorCode, isBrokerError, messageOf } from './errors.js';

/** Options of {@link NatsBroker}. */
export interface NatsBrokerOptions {
  /**
   * NATS server(s), `host:port` or `nats://host:port`.
   * @default '127.0.0.1:4222'
   */
  servers?: string | string[];
  /** Extra options of `@nats-io/transport-node`'s `connect` (credentials, TLS, ...). */
  connectOptions?: Omit<NodeConnectionOptions, 'servers'>;
  /**
   * Prepended to every topic, so several natter clusters can share one NATS account.
   * @default ''
   */
  subjectPrefix?: string;
  /**
   * How long `publish` and `subscribe` wait for a (re)connection before rejecting, ms.
   * @default 2000
   */
  timeoutMs?: number;
}

type Handler = (payload: Uint8Array) => void;

/** A live subscription; re-created on a new connection if the old one had to be replaced. */
interface Entry {
  subject: string;
  handler: Handler;
  sub: Subscription | undefined;
}

/** NATS subjects are dot-separated tokens without whitespace; `*` and `>` are wildcards. */
const VALID_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/** Delay before retrying a failed first connection: 100 ms to 2 s, full jitter. */
const retryDelay = (attempt: number) => Math.round(Math.random() * Math.min(2_000, 100 * 2 ** attempt)) + 20;

/**
 * natter's {@link Broker} on core NATS publish/subscribe. One connection does both. Delivery is at-most-once:
 * a message published while a node is disconnected is not delivered to it, which the adapter reports
 * (`NATTER_BROKER_UNREACHABLE`, then `NATTER_BROKER_RECONNECTED`) and natter's sync log repairs. The client
 * reconnects forever with jitter and restores subscriptions; a first connection that fails is retried too.
 *
 * @example
 * ```ts
 * const broker = createNatsBroker({ servers: ['nats://10.0.0.7:4222'] });
 * const server = createNatterServer({ storage, tokens, cluster: { broker } });
 * ```
 */
export class NatsBroker implements Broker {
  private nc: NatsConnection | undefined;
  private connected = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly entries = new Set<Entry>();
  private readonly errors = new BrokerErrorListeners();
  private readonly waiters = new Set<() => void>();
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly whenClosed: Promise<never>;
  private rejectOnClose: (error: Error) => void = () => {};
  private wakeRetry: (() => void) | undefined;

  constructor(private readonly options: NatsBrokerOptions = {}) {
    this.prefix = options.subjectPrefix ?? '';
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.whenClosed = new Promise<never>((_, reject) => {
      this.rejectOnClose = reject;
    });
    this.whenClosed.catch(() => undefined);
    void this.run();
  }

  /** Resolves once connected; rejects after `timeoutMs`. */
  async ready(timeoutMs = 5_000): Promise<void> {
    await this.connection(timeoutMs);
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    const subject = this.subjectOf(topic);
    const nc = await this.connection(this.timeoutMs);
    try {
      nc.publish(subject, payload);
    } catch (err) {
      throw new BrokerError(
        nc.isClosed() ? BrokerErrorCode.UNREACHABLE : BrokerErrorCode.BAD_DATA,
        `nats publish failed: ${messageOf(err)}`,
        { cause: err },
      );
    }
  }

  async subscribe(topic: string, handler: Handler): Promise<() => Promise<void>> {
    const subject = this.subjectOf(topic);
    const nc = await this.connection(this.timeoutMs);
    const entry: Entry = { subject, handler, sub: undefined };
    this.attach(nc, entry);
    this.entries.add(entry);
    try {
      // The server has processed our SUB once it answers the PING that follows it.
      await this.bounded(nc.flush(), 'subscribe');
    } catch (err) {
      this.detach(entry);
      throw err;
    }
    return async () => this.detach(entry);
  }

  onError(listener: (error: Error) => void): void {
    this.errors.add(listener);
  }

  /** Drains and closes the connection; pending calls reject. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    this.rejectOnClose(closedError());
    this.wakeRetry?.();
    for (const wake of this.waiters) wake();
    this.closing ??= (async () => {
      const nc = this.nc;
      this.entries.clear();
      if (!nc || nc.isClosed()) return;
      try {
        if (this.connected) await this.bounded(nc.drain(), 'drain');
      } catch {
        // A drain that cannot finish (server gone) falls back to a plain close.
      }
      if (!nc.isClosed()) await nc.close();
    })();
    return this.closing;
  }

  private subjectOf(topic: string): string {
    if (this.closed) throw closedError();
    const subject = this.prefix + topic;
    if (!VALID_SUBJECT.test(subject)) {
      throw new BrokerError(BrokerErrorCode.BAD_DATA, `not a valid NATS subject: ${JSON.stringify(subject)}`);
    }
    return subject;
  }

  private attach(nc: NatsConnection, entry: Entry): void {
    entry.sub = nc.subscribe(entry.subject, {
      callback: (err: Error | null, msg: Msg) => {
        if (this.closed || !this.entries.has(entry)) return;
        if (err) {
          this.report(BrokerErrorCode.UNREACHABLE, `nats subscription error: ${err.message}`, err);
          return;
        }
        try {
          entry.handler(msg.data);
        } catch (error) {
          this.report(BrokerErrorCode.HANDLER_FAILED, `subscriber handler threw: ${messageOf(error)}`, error);
        }
      },
    });
  }

  private detach(entry: Entry): void {
    if (!this.entries.delete(entry)) return;
    try {
      entry.sub?.unsubscribe();
    } catch {
      // Already gone with its connection.
    }
  }

  /** The live connection; waits up to `timeoutMs` for one while (re)connecting. */
  private async connection(timeoutMs: number): Promise<NatsConnection> {
    if (this.closed) throw closedError();
    if (this.nc && this.connected) return this.nc;
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    this.waiters.add(wake);
    try {
      await this.bounded(woken, 'connection', timeoutMs);
    } finally {
      this.waiters.delete(wake);
    }
    if (this.closed) throw closedError();
    if (this.nc && this.connected) return this.nc;
    throw new BrokerError(BrokerErrorCode.UNREACHABLE, 'nats is not connected');
  }

  private async bounded<T>(promise: Promise<T>, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new BrokerError(BrokerErrorCode.UNREACHABLE, `nats ${what} timed out after ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([promise, timeout, this.whenClosed]);
    } catch (err) {
      if (isBrokerError(err)) throw err;
      throw new BrokerError(BrokerErrorCode.UNREACHABLE, `nats ${what} failed: ${messageOf(err)}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connects, retrying with backoff; when a connection closes for good while open, starts over. */
  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      let nc: NatsConnection;
      try {
        nc = await connect({
          servers: this.options.servers ?? '127.0.0.1:4222',
          name: 'natter-broker',
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          reconnectJitter: 250,
          timeout: 2_000,
          // Detect a half-open connection within ~15 s instead of the default minutes.
          pingInterval: 5_000,
          maxPingOut: 3,
          ...this.options.connectOptions,
        });
      } catch (err) {
        this.report(BrokerErrorCode.UNREACHABLE, `nats connect failed: ${messageOf(err)}`, err);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryDelay(attempt++));
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      if (this.closed) {
        await nc.close();
        return;
      }
      const replacing = attempt > 0 || this.entries.size > 0;
      attempt = 0;
      this.nc = nc;
      for (const entry of this.entries) this.attach(nc, entry);
      this.setConnected(true);
      if (replacing && this.entries.size > 0)
        this.report(BrokerErrorCode.RECONNECTED, 'nats connected again');
      void this.watch(nc);
      const ended = await nc.closed();
      this.setConnected(false);
      if (this.closed) return;
      this.report(
        BrokerErrorCode.UNREACHABLE,
        `nats connection closed${ended instanceof Error ? `: ${ended.message}` : ''}; reconnecting`,
        ended,
      );
    }
  }

  /** Reports the connection's status changes through `onError`. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.closed) return;
      switch (status.type) {
        case 'disconnect':
          this.setConnected(false);
          this.report(BrokerErrorCode.UNREACHABLE, `nats disconnected from ${status.server}`);
          break;
        case 'reconnect':
          // nats.js re-sends our subscriptions while reconnecting; the PING round trip confirms them.
          nc.flush()
            .then(() => {
              this.setConnected(true);
              this.report(BrokerErrorCode.RECONNECTED, `nats reconnected to ${status.server}`);
            })
            .catch((err: unknown) =>
              this.report(BrokerErrorCode.UNREACHABLE, `nats resubscribe failed: ${messageOf(err)}`, err),
            );
          break;
        case 'error':
          this.report(BrokerErrorCode.UNREACHABLE, `nats error: ${status.error.message}`, status.error);
          break;
        case 'staleConnection':
          this.report(BrokerErrorCode.UNREACHABLE, 'nats connection went stale (no PONG)');
          break;
        case 'slowConsumer':
          this.report(
            BrokerErrorCode.UNREACHABLE,
            `nats slow consumer: ${status.pending} pending, messages dropped`,
          );
          break;
        case 'ldm':
          this.report(BrokerErrorCode.UNREACHABLE, `nats server ${status.server} entered lame duck mode`);
          break;
        default:
          break;
      }
    }
  }

  private setConnected(value: boolean): void {
    this.connected = value;
    if (value) for (const wake of this.waiters) wake();
  }

  private report(code: BrokerErrorCode, message: string, cause?: unknown): void {
    this.errors.report(code, message, cause);
  }
}

const closedError = () => new BrokerError(BrokerErrorCode.CLOSED, 'the nats broker is closed');

/** Creates a {@link NatsBroker}; it connects in the background (await `ready()` to wait). */
export function createNatsBroker(options: NatsBrokerOptions = {}): NatsBroker {
  return new NatsBroker(options);
}
