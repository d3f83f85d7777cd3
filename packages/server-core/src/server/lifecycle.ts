import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode } from '@natter/protocol';
import type { NatterServerOptions } from '../config.js';
import type { NodeInfo } from '../ports/registry.js';
import { checkStorageManifest } from '../storage/manifest.js';
import type { NodeParts } from './wiring.js';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The running node's state as one union: what runs in each status lives in that status only. */
type LifecycleState =
  | { status: 'idle' }
  | { status: 'starting'; done: Promise<void> }
  | { status: 'running'; timers: ReturnType<typeof setInterval>[] }
  | { status: 'draining'; timers: ReturnType<typeof setInterval>[] }
  | { status: 'closed' };

/** Starts, drains and stops a node's parts; `listen()` adds an HTTP server of its own. */
export class NodeLifecycle {
  private state: LifecycleState = { status: 'idle' };
  private readonly httpServers: Server[] = [];
  /** Set once storage has been opened by `start()`, so `close()` knows to close it. */
  private storageOpened = false;

  constructor(
    private readonly parts: NodeParts,
    private readonly options: NatterServerOptions,
    /** The Node listener `listen()` serves. */
    private readonly requestListener: RequestListener,
  ) {}

  /** Checks and opens storage, starts push and the timers. Idempotent; a failed start can be retried. */
  start(): Promise<void> {
    switch (this.state.status) {
      case 'running':
      case 'draining':
        return Promise.resolve();
      case 'starting':
        return this.state.done;
      case 'closed':
        return Promise.reject(new Error('the server was closed; create a new one'));
      case 'idle': {
        const done = this.run().catch(async (err: unknown) => {
          // Back to idle with nothing left open, so the caller can fix the cause and call start() again.
          await this.releaseStorage();
          if (this.state.status === 'starting') this.state = { status: 'idle' };
          throw err;
        });
        this.state = { status: 'starting', done };
        return done;
      }
    }
  }

  private async run(): Promise<void> {
    const { parts } = this;
    checkStorageManifest(parts.storage);
    await parts.storage.open();
    this.storageOpened = true;
    await parts.push?.start();
    await parts.eventSink?.start();
    await parts.media?.start();
    const timers: ReturnType<typeof setInterval>[] = [];
    const shortest = Math.min(parts.config.limits.heartbeatTimeoutMs, parts.presence.graceMs);
    const every = Math.max(100, Math.min(5_000, Math.floor(shortest / 4)));
    timers.push(setInterval(() => void this.sweep(), every));
    if (this.options.cluster?.registry) {
      timers.push(setInterval(() => void this.announce(), Math.max(200, Math.floor(this.registryTtlMs / 3))));
    }
    for (const timer of timers) timer.unref?.();
    if (this.state.status !== 'starting') {
      // close() ran while starting: stop what was just started.
      for (const timer of timers) clearInterval(timer);
      return;
    }
    this.state = { status: 'running', timers };
  }

  /** Starts, then serves HTTP and WebSocket on `port` (0 picks one). */
  async listen(port: number, host = '127.0.0.1'): Promise<{ server: Server; port: number; url: string }> {
    await this.start();
    const httpServer = createServer(this.requestListener);
    this.parts.transport.attach(httpServer);
    this.httpServers.push(httpServer);
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, host, () => resolve());
    });
    const actual = (httpServer.address() as AddressInfo).port;
    // The Host allowlist learns the bound address (unless `allowedHosts` fixed it): see HostAllowlist.
    const publicHost = this.options.publicWsUrl ? [new URL(this.options.publicWsUrl).host] : [];
    this.parts.config.hosts.addListening(host, actual, publicHost);
    const shownHost = host.includes(':') ? `[${host}]` : host;
    const url = `http://${shownHost}:${actual}`;
    this.parts.announcedWsUrl ??= `${url.replace(/^http/, 'ws')}${this.parts.config.wsPath}`;
    await this.announce();
    return { server: httpServer, port: actual, url };
  }

  /**
   * Refuses new sockets, deregisters from discovery, and closes every client with 1001 at a random moment
   * within the drain window, so they reconnect elsewhere without a stampede.
   */
  async drain(): Promise<void> {
    if (this.state.status !== 'running') return;
    this.state = { status: 'draining', timers: this.state.timers };
    this.parts.draining = true;
    await this.deregister();
    const windowMs = this.options.cluster?.drainWindowMs ?? 3_000;
    await Promise.all(
      [...this.parts.hub.all()].map(
        (session) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              session.close(CloseCode.GOING_AWAY, 'draining');
              resolve();
            }, Math.random() * windowMs);
            timer.unref?.();
          }),
      ),
    );
  }

  /** Closes sockets, the HTTP servers `listen()` started, push and the storage. */
  async close(): Promise<void> {
    const previous = this.state;
    if (previous.status === 'closed') return;
    this.state = { status: 'closed' };
    this.parts.draining = true;
    if (previous.status === 'starting') await previous.done.catch(() => undefined);
    if (previous.status === 'running' || previous.status === 'draining') {
      for (const timer of previous.timers) clearInterval(timer);
    }
    this.parts.discovery?.close();
    await this.deregister();
    await this.parts.cluster?.close();
    for (const endpoint of [...this.parts.hub.all()]) endpoint.close(CloseCode.GOING_AWAY, 'server closing');
    await this.parts.transport.close();
    await Promise.all(
      this.httpServers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    await this.parts.push?.stop();
    await this.parts.eventSink?.stop();
    await this.parts.media?.stop();
    await this.releaseStorage();
  }

  private async releaseStorage(): Promise<void> {
    if (!this.storageOpened) return;
    this.storageOpened = false;
    await this.parts.storage.close();
  }

  private get registryTtlMs(): number {
    return this.options.cluster?.registryTtlMs ?? 6_000;
  }

  private nodeInfo(): NodeInfo | undefined {
    const { parts } = this;
    return parts.announcedWsUrl === undefined
      ? undefined
      : {
          id: parts.nodeId,
          wsUrl: parts.announcedWsUrl,
          region: parts.config.region,
          capacity: parts.capacity,
          load: parts.transport.size,
        };
  }

  /** The heartbeat in flight, if any: deregistering must wait for it, or it would re-create the entry. */
  private announcing: Promise<void> | undefined;

  private announce(): Promise<void> {
    const registry = this.options.cluster?.registry;
    const info = this.nodeInfo();
    if (!registry || !info || this.parts.draining || this.options.cluster?.announce === false) {
      return Promise.resolve();
    }
    if (this.announcing) return this.announcing;
    this.announcing = registry
      .heartbeat(info, this.registryTtlMs)
      .catch((err: unknown) => {
        this.parts.metrics.errors.inc({ code: 'registry_heartbeat_failed' });
        this.parts.logger.warn({ err }, 'registry heartbeat failed');
      })
      .finally(() => {
        this.announcing = undefined;
      });
    return this.announcing;
  }

  private async deregister(): Promise<void> {
    // `draining` is set before this runs, so no new heartbeat starts; one already sent could land after
    // the removal and bring the entry back (seen in CI with ZooKeeper), so it is awaited first.
    await this.announcing;
    await this.options.cluster?.registry
      ?.deregister(this.parts.nodeId)
      .catch((err: unknown) => this.parts.logger.warn({ err }, 'deregister failed'));
  }

  private sweeping = false;

  /** Closes sessions that stopped heartbeating and lets presence expire silent devices. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    const { hub, presence, config, logger } = this.parts;
    try {
      const deadline = config.now() - config.limits.heartbeatTimeoutMs;
      for (const session of [...hub.all()]) {
        if (session.lastSeenAt < deadline) session.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
      }
      await presence.sweep(hub.all());
    } catch (err) {
      logger.warn({ err }, 'sweep failed');
    } finally {
      this.sweeping = false;
    }
  }
}
