import type { WebSocketConstructor } from '@natter/client';
import type { ClientConnection, ConnectionHandler, Principal } from '@natter/server-core';
import type { Prng } from './prng.js';
import { SimLink } from './sim-link.js';
import { SimSocket } from './sim-socket.js';

/** The server side of the simulated network: what `NatterServer.accept` is. */
export interface SimServerEndpoint {
  accept(principal: Principal, deviceId: string | undefined, connection: ClientConnection): ConnectionHandler;
}

/** How the network behaves; all randomness comes from the run's PRNG. */
export interface NetworkProfile {
  /** One-way delay of a frame, ms (uniform in the range). */
  latencyMs: { min: number; max: number };
  /** Time to open a socket (or to learn it was refused), ms. */
  connectMs: { min: number; max: number };
  /** Probability that a client frame reaches the server twice (tests idempotency). */
  dupClientFrame: number;
  /** Probability that a server `msg`/`ack` frame reaches the client twice (tests client dedupe). */
  dupServerEntry: number;
  /** Probability per frame that the connection dies carrying it (a reset: both sides see 1006). */
  dropFrame: number;
}

/** Counters of what the network did, for the report. */
export interface NetworkStats {
  connects: number;
  refusedConnects: number;
  framesToServer: number;
  framesToClient: number;
  duplicatedToServer: number;
  duplicatedToClient: number;
  /** Connections killed by a dropped frame. */
  drops: number;
  /** Connections killed by a scheduled fault (reset, device offline, server crash). */
  resets: number;
  stalls: number;
  serverCloses: number;
  /** `ack` frames with `duplicate: true`: the server answered a repeated send with the original. */
  duplicateAcks: number;
  /** Sends answered `NATTER_RATE_LIMITED`. */
  rateLimited: number;
  /** Server closes with 1008 (slow consumer, among others). */
  policyCloses: number;
  /** Server closes with 4008 (the server's heartbeat sweep found a silent connection). */
  heartbeatCloses: number;
}

/** The identity a device instance's sockets carry; `alive` false makes every connect fail (the app died). */
export interface SimDeviceTag {
  readonly key: string;
  alive: boolean;
}

const STAT_KEYS: readonly (keyof NetworkStats)[] = [
  'connects',
  'refusedConnects',
  'framesToServer',
  'framesToClient',
  'duplicatedToServer',
  'duplicatedToClient',
  'drops',
  'resets',
  'stalls',
  'serverCloses',
  'duplicateAcks',
  'rateLimited',
  'policyCloses',
  'heartbeatCloses',
];

/**
 * A simulated network between `ChatClient`s and one server incarnation, on the (fake) global timers.
 * Each connection is an ordered stream per direction: frames are delivered after a seeded delay but never
 * reordered, and a lost frame means the connection dies (both sides see 1006), never a silent hole.
 * Frames go through the real MessagePack codec both ways.
 */
export class SimNetwork {
  readonly stats: NetworkStats = Object.fromEntries(STAT_KEYS.map((k) => [k, 0])) as unknown as NetworkStats;
  /** A rolling digest of everything delivered, to check that a seed replays exactly. */
  digest = 0x811c9dc5;
  private server: SimServerEndpoint | undefined;
  private readonly links = new Set<SimLink>();
  private readonly offlineUntil = new Map<string, number>();
  private nextLinkId = 1;

  constructor(
    readonly rng: Prng,
    readonly profile: NetworkProfile,
    /** Parses the `access_token` of a connect URL; undefined refuses it (401). */
    readonly authenticate: (token: string) => Principal | undefined,
  ) {}

  /** The WebSocket constructor to give one device instance's `ChatClient`. */
  webSocketFor(tag: SimDeviceTag): WebSocketConstructor {
    const network = this;
    return class extends SimSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, network, tag);
      }
    };
  }

  /** Points new connections at a server (after a restart), or at nothing (while it is down). */
  setServer(server: SimServerEndpoint | undefined): void {
    this.server = server;
  }

  get serverUp(): boolean {
    return this.server !== undefined;
  }

  /** The server process died: every connection to it is reset; the clients learn after a delay. */
  crashServer(): void {
    const server = this.server;
    this.server = undefined;
    for (const link of [...this.links]) if (link.server === server) link.reset({ notifyServer: false });
  }

  /** Takes a device off the network until `until` (sim time): its connections reset, connects fail. */
  setOffline(deviceKey: string, until: number): void {
    this.offlineUntil.set(deviceKey, Math.max(until, this.offlineUntil.get(deviceKey) ?? 0));
    for (const link of [...this.links]) if (link.tag.key === deviceKey) link.reset({});
  }

  /** Ends every partition at once (used when healing). */
  healPartitions(): void {
    this.offlineUntil.clear();
  }

  /** Open, live connections, for faults to pick from. */
  openLinks(): SimLink[] {
    return [...this.links].filter((l) => l.state === 'open' && !l.stalled);
  }

  /** Resets every connection of one device instance (its process died). */
  resetDevice(deviceKey: string): void {
    for (const link of [...this.links]) if (link.tag.key === deviceKey) link.reset({});
  }

  /** @internal */
  record(...parts: (string | number)[]): void {
    let h = this.digest;
    for (const part of parts) {
      const s = String(part);
      for (let i = 0; i < s.length; i++) {
        h ^= s.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
      }
      h = Math.imul(h ^ 0x7c, 0x01000193) >>> 0;
    }
    this.digest = h;
  }

  /** @internal */
  delay(range: { min: number; max: number }): number {
    return this.rng.int(range.min, range.max);
  }

  /** @internal A socket was constructed: connect it after a delay, or refuse it. */
  open(socket: SimSocket): void {
    const link = new SimLink(this.nextLinkId++, this, socket);
    socket.link = link;
    this.links.add(link);
    setTimeout(() => {
      if (link.state !== 'connecting') return;
      const server = this.server;
      const offline = (this.offlineUntil.get(socket.tag.key) ?? 0) > Date.now();
      const params = new URL(socket.url).searchParams;
      const principal = this.authenticate(params.get('access_token') ?? '');
      if (!server || offline || !socket.tag.alive || !principal) {
        this.stats.refusedConnects++;
        this.record('refused', link.id);
        link.fail(principal ? 'connect ECONNREFUSED' : 'Unexpected server response: 401');
        return;
      }
      this.stats.connects++;
      this.record('open', link.id);
      link.accept(server, principal, params.get('device') ?? undefined);
    }, this.delay(this.profile.connectMs));
  }

  /** @internal */
  forget(link: SimLink): void {
    this.links.delete(link);
  }
}
