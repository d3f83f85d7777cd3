import {
  createMetrics,
  createNatterServer,
  ErrorCode,
  NatterError,
  type NatterServer,
  type Principal,
  type StorageAdapter,
  silentLogger,
} from '@natter/server-core';
import { internalsOf } from '@natter/server-core/internals';
import { createMemoryStorage } from '@natter/storage-memory';
import { CrashableStorage } from './crashable-storage.js';
import { Prng } from './prng.js';
import { type Fault, type FaultKind, type Scenario, SHAPE } from './scenario.js';
import { SimDevice } from './sim-device.js';
import { SimNetwork } from './sim-network.js';

/** Server limits of the simulation: quick heartbeats so half-open connections are found within a run. */
export const SIM_LIMITS = { heartbeatIntervalMs: 5_000, heartbeatTimeoutMs: 15_000 } as const;

/** A channel of the run and its members. */
export interface SimChannel {
  id: string;
  memberIds: string[];
}

/** Parses the simulation's tokens (`sim:<userId>`); the network authenticates with it. */
function principalOf(token: string): Principal | undefined {
  const userId = /^sim:(u_\w+)$/.exec(token)?.[1];
  return userId ? { userId } : undefined;
}

/**
 * Everything of one simulation run: the disk (a memory store that outlives server incarnations), the
 * current server incarnation, the network and the devices. Faults are applied here.
 */
export class SimWorld {
  readonly rng: Prng;
  readonly network: SimNetwork;
  readonly disk: StorageAdapter = createMemoryStorage();
  readonly devices: SimDevice[] = [];
  readonly userIds: string[] = [];
  readonly channels: SimChannel[] = [];
  readonly faults: Record<FaultKind, number> = {
    reset: 0,
    stall: 0,
    serverClose: 0,
    offline: 0,
    crash: 0,
    deviceRestart: 0,
  };
  server: NatterServer | undefined;
  private view: CrashableStorage | undefined;
  private readonly views: CrashableStorage[] = [];
  private ready = false;
  /** A crash waiting for the next send's commit. */
  private armedCrash: { phase: 'before' | 'after'; downMs: number } | undefined;
  /** Restarts scheduled but not yet done (server and devices), so healing can wait for them. */
  pendingRestarts = 0;

  constructor(
    readonly scenario: Scenario,
    /** Wraps the storage each server incarnation sees (to plant a bug and check the checker). */
    private readonly serverStorage: (adapter: StorageAdapter) => StorageAdapter = (adapter) => adapter,
  ) {
    const root = new Prng(scenario.seed);
    this.rng = root.fork();
    this.network = new SimNetwork(root.fork(), { ...scenario.profile }, principalOf);
    const clientRng = root.fork();
    for (let u = 0; u < SHAPE.users; u++) this.userIds.push(`u_${u}`);
    for (let u = 0; u < SHAPE.users; u++) {
      for (let d = 0; d < SHAPE.devicesPerUser; d++) {
        const key = `u${u}/d${d}`;
        this.devices.push(
          new SimDevice(
            key,
            `u_${u}`,
            `dev_${u}_${d}`,
            this.network,
            clientRng.fork(),
            d === 0 ? 'first' : 'second',
            scenario.clientStoreDelayMs,
          ),
        );
      }
    }
  }

  /** Users, channels (through the service, so their system messages are in the logs), server, devices. */
  async setUp(): Promise<void> {
    await this.disk.open();
    for (const id of this.userIds) {
      await this.disk.accounts.createUser({
        id,
        username: id,
        displayName: id,
        passwordHash: null,
        createdAt: 0,
      });
    }
    const server = await this.startServer();
    const [a, b, c] = this.userIds as [string, string, string];
    const direct = await internalsOf(server).service.openDirect(a, b);
    const group = await internalsOf(server).service.createGroup(a, 'all', [b, c]);
    this.channels.push({ id: direct.id, memberIds: [a, b] }, { id: group.id, memberIds: [a, b, c] });
    for (const device of this.devices) device.start();
    this.ready = true;
  }

  /** Creates a server incarnation on a fresh view of the disk and points the network at it. */
  private async startServer(): Promise<NatterServer> {
    const view = new CrashableStorage(this.disk, {
      // Setup runs before simulated time moves: its writes commit at once.
      commitDelayMs: () => (this.ready ? this.rng.int(0, this.scenario.commitDelayMs) : 0),
      onCommit: (phase, hint) => {
        const armed = this.armedCrash;
        // Sends and changes (edit, delete, react) are the writes that carry a channel hint.
        if (!armed || hint?.channelId === undefined || armed.phase !== phase) return;
        this.armedCrash = undefined;
        this.crashServer(armed.downMs);
        this.faults.crash++;
      },
    });
    this.views.push(view);
    const server = createNatterServer({
      storage: this.serverStorage(view.adapter),
      authenticator: {
        authenticate: async (token) => {
          const principal = principalOf(token);
          if (!principal) throw new NatterError(ErrorCode.UNAUTHORIZED, 'invalid token');
          return principal;
        },
      },
      limits: {
        ...SIM_LIMITS,
        sendsPerSecond: this.scenario.server.sendsPerSecond,
        sendBurst: this.scenario.server.sendBurst,
      },
      maxBufferedBytes: this.scenario.server.maxBufferedBytes,
      logger: silentLogger(),
      // Process metrics start event-loop monitors per registry: not wanted for hundreds of incarnations.
      metrics: createMetrics({ defaults: false }),
    });
    await server.start();
    this.view = view;
    this.server = server;
    this.network.setServer(server);
    return server;
  }

  /** Applies one fault of the scenario. */
  apply(fault: Fault): void {
    switch (fault.kind) {
      case 'reset':
      case 'stall': {
        const links = this.network.openLinks();
        if (links.length === 0) return;
        const link = links[fault.target % links.length]!;
        if (fault.kind === 'reset') link.reset({});
        else link.stall();
        break;
      }
      case 'serverClose': {
        const device = this.devices[fault.device]!;
        if (!this.server) return;
        const reason = fault.code === 1013 ? 'retryAfterMs=1500' : 'simulated';
        this.server.closeSessions(device.userId, device.deviceId, fault.code, reason);
        break;
      }
      case 'offline': {
        const device = this.devices[fault.device]!;
        this.network.setOffline(device.key, Date.now() + fault.forMs);
        break;
      }
      case 'crash': {
        if (fault.moment !== 'now') {
          const phase = fault.moment === 'beforeCommit' ? 'before' : 'after';
          this.armedCrash = { phase, downMs: fault.downMs };
          return; // counted when it fires
        }
        if (!this.server) return;
        this.crashServer(fault.downMs);
        break;
      }
      case 'deviceRestart': {
        const device = this.devices[fault.device]!;
        if (!device.alive) return;
        this.pendingRestarts++;
        const restart = () =>
          setTimeout(() => {
            this.pendingRestarts--;
            device.start();
          }, fault.downMs);
        if (fault.graceful) void device.stop().then(restart);
        else {
          device.kill();
          restart();
        }
        break;
      }
    }
    this.faults[fault.kind]++;
  }

  /**
   * `kill -9` of the server: its connections reset (clients learn after a delay), writes still running
   * roll back, and nothing the dead incarnation does afterwards reaches the disk. A new incarnation starts
   * on the same disk after `downMs`.
   */
  private crashServer(downMs: number): void {
    const dead = this.server!;
    this.network.crashServer();
    this.view!.crash();
    this.server = undefined;
    // Only to stop the dead incarnation's timers: its sockets and storage are already cut off, so nothing
    // of this shutdown is visible to clients or the disk.
    void dead.close().catch(() => {});
    this.pendingRestarts++;
    setTimeout(() => {
      void this.startServer().finally(() => {
        this.pendingRestarts--;
      });
    }, downMs);
  }

  /** Writes that a server crash rolled back, over all incarnations. */
  get rolledBackWrites(): number {
    return this.views.reduce((sum, view) => sum + view.rolledBack, 0);
  }

  /** Stops injecting faults: no more drops, duplicates or partitions (pending restarts still happen). */
  heal(): void {
    this.armedCrash = undefined;
    this.network.healPartitions();
    Object.assign(this.network.profile, { dropFrame: 0, dupClientFrame: 0, dupServerEntry: 0 });
  }

  /** True when every device is running, open, caught up with its user's log and has nothing pending. */
  async settled(): Promise<boolean> {
    if (!this.server || this.pendingRestarts > 0) return false;
    for (const device of this.devices) {
      const client = device.client;
      if (client?.status !== 'open' || client.pending().length > 0) return false;
      if (device.dismissFailedChanges() > 0 || client.pendingChanges().length > 0) return false;
      const head = await this.disk.chat.syncHead(device.userId);
      if ((device.emitted.at(-1)?.pos ?? 0) < head) return false;
    }
    return true;
  }
}
