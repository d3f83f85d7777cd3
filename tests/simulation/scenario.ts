import fc from 'fast-check';
import type { NetworkProfile } from './sim-network.js';

/** Users, devices and channels of every run: 3 users × 2 devices, one direct and one group channel. */
export const SHAPE = {
  users: 3,
  devicesPerUser: 2,
  /** Channel 0: direct between users 0 and 1. Channel 1: group of all users. */
  channels: 2,
  /** Sends and faults happen within this much simulated time, ms. */
  activityMs: 30_000,
} as const;

/** Close codes a server may close a healthy session with (4003 revoked is terminal, so not here). */
export const SERVER_CLOSE_CODES = [1001, 1011, 1013, 4001, 4008] as const;

/** `burst` back-to-back `send()`s by a device, 4 ms apart from `at` (simulated time). */
export interface SendStep {
  at: number;
  device: number;
  channel: number;
  burst: number;
}

/**
 * A change a device makes at `at`: an edit or delete of one of its own messages (picked by `pick` among what
 * it sent, acknowledged or still pending), or a reaction added or removed on a message it has seen.
 */
export interface ChangeStep {
  at: number;
  device: number;
  kind: 'edit' | 'delete' | 'react' | 'unreact';
  pick: number;
  emoji: number;
}

/** The emojis of the simulation's reactions. */
export const SIM_EMOJIS = ['👍', '🎉', '👀'] as const;

/** Simulated time between the sends of a burst, ms. */
export const BURST_SPACING_MS = 4;

/** A fault injected at a moment of simulated time. Targets are taken modulo what exists then. */
export type Fault =
  /** A live connection dies (TCP reset). */
  | { kind: 'reset'; at: number; target: number }
  /** A live connection goes half-open: silence both ways, nobody told. */
  | { kind: 'stall'; at: number; target: number }
  /** The server closes one device's session with a close code. */
  | { kind: 'serverClose'; at: number; device: number; code: (typeof SERVER_CLOSE_CODES)[number] }
  /** A device loses the network for a while. */
  | { kind: 'offline'; at: number; device: number; forMs: number }
  /**
   * The server process is killed and started again on the same store after `downMs`: at once (`now`), or
   * at the next send's or change's commit, right before it (the write rolls back) or right after it (never
   * acked: the resend after the reconnect is answered with the original result).
   */
  | { kind: 'crash'; at: number; downMs: number; moment: 'now' | 'beforeCommit' | 'afterCommit' }
  /**
   * A device's app stops (killed, or `close()`d when `graceful`) and starts again on the same local store
   * after `downMs`.
   */
  | { kind: 'deviceRestart'; at: number; device: number; downMs: number; graceful: boolean };

export type FaultKind = Fault['kind'];
export const FAULT_KINDS: readonly FaultKind[] = [
  'reset',
  'stall',
  'serverClose',
  'offline',
  'crash',
  'deviceRestart',
];

/** Everything a run depends on: replaying a scenario replays the run. */
export interface Scenario {
  /** Seeds the PRNG behind delays, duplicates, drops and backoff jitter. */
  seed: number;
  profile: NetworkProfile;
  /** Longest simulated time a server write spends before its commit, ms (0: commits are instant). */
  commitDelayMs: number;
  /** Longest simulated time a device's local store call takes, ms (0: the store answers at once). */
  clientStoreDelayMs: number;
  /**
   * Server limits: a small `maxBufferedBytes` closes slow consumers (1008) when frames pile up behind a
   * slow link; a tight send rate answers bursts with `NATTER_RATE_LIMITED` and a `retryAfterMs`.
   */
  server: { maxBufferedBytes: number; sendsPerSecond: number; sendBurst: number };
  sends: SendStep[];
  /** Edits, deletes and reactions, made online or offline, to stored messages or sends still pending. */
  changes: ChangeStep[];
  faults: Fault[];
}

const devices = SHAPE.users * SHAPE.devicesPerUser;
const at = fc.integer({ min: 0, max: SHAPE.activityMs });
const device = fc.nat(devices - 1);

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant('reset' as const), at, target: fc.nat(20) }),
  fc.record({ kind: fc.constant('stall' as const), at, target: fc.nat(20) }),
  fc.record({
    kind: fc.constant('serverClose' as const),
    at,
    device,
    code: fc.constantFrom(...SERVER_CLOSE_CODES),
  }),
  fc.record({
    kind: fc.constant('offline' as const),
    at,
    device,
    forMs: fc.integer({ min: 100, max: 10_000 }),
  }),
  fc.record({
    kind: fc.constant('crash' as const),
    at,
    downMs: fc.integer({ min: 0, max: 5_000 }),
    moment: fc.constantFrom('now' as const, 'beforeCommit' as const, 'afterCommit' as const),
  }),
  fc.record({
    kind: fc.constant('deviceRestart' as const),
    at,
    device,
    downMs: fc.integer({ min: 0, max: 5_000 }),
    graceful: fc.boolean(),
  }),
);

const profileArb: fc.Arbitrary<NetworkProfile> = fc
  .record({
    latencyMin: fc.integer({ min: 0, max: 20 }),
    latencySpread: fc.integer({ min: 0, max: 200 }),
    connectMax: fc.integer({ min: 1, max: 200 }),
    // constantFrom shrinks towards its first value: no duplicates, no drops.
    dupClientFrame: fc.constantFrom(0, 0.02, 0.1),
    dupServerEntry: fc.constantFrom(0, 0.02, 0.1),
    dropFrame: fc.constantFrom(0, 0.002, 0.01),
  })
  .map((p) => ({
    latencyMs: { min: p.latencyMin, max: p.latencyMin + p.latencySpread },
    connectMs: { min: 1, max: p.connectMax },
    dupClientFrame: p.dupClientFrame,
    dupServerEntry: p.dupServerEntry,
    dropFrame: p.dropFrame,
  }));

/**
 * Scenarios of the default suite: 20-40 send steps (about 60 sends), 5-20 changes and up to 8 faults in 30 s
 * of simulated time.
 */
export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
  profile: profileArb,
  commitDelayMs: fc.constantFrom(0, 5, 30),
  clientStoreDelayMs: fc.constantFrom(0, 3, 20),
  server: fc.record({
    maxBufferedBytes: fc.constantFrom(1024 * 1024, 1_500),
    sendsPerSecond: fc.constantFrom(20, 1),
    sendBurst: fc.constantFrom(40, 2),
  }),
  sends: fc.array(
    fc.record({
      at,
      device,
      channel: fc.nat(SHAPE.channels - 1),
      // Mostly single sends; some bursts, where a message waits behind the previous one of its channel.
      burst: fc.constantFrom(1, 1, 3, 6),
    }),
    {
      minLength: 20,
      maxLength: 40,
    },
  ),
  changes: fc.array(
    fc.record({
      at,
      device,
      // Reactions are the hot kind (many users on one message); deletes the rarest.
      kind: fc.constantFrom(
        'react' as const,
        'edit' as const,
        'react' as const,
        'unreact' as const,
        'delete' as const,
      ),
      pick: fc.nat(1_000),
      emoji: fc.nat(SIM_EMOJIS.length - 1),
    }),
    { minLength: 5, maxLength: 20 },
  ),
  faults: fc.array(faultArb, { maxLength: 8 }),
});
