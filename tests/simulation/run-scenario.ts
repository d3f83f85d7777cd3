import { writeFileSync } from 'node:fs';
import type { StorageAdapter } from '@natter/server-core';
import { vi } from 'vitest';
import { checkInvariants } from './invariants.js';
import { Prng } from './prng.js';
import { BURST_SPACING_MS, type FaultKind, type Scenario, SHAPE } from './scenario.js';
import type { NetworkStats } from './sim-network.js';
import { SimWorld } from './sim-world.js';

/** What one run did and found. */
export interface RunReport {
  violations: string[];
  sends: number;
  /** Edits, deletes and reactions the apps made. */
  changes: number;
  /** Of those, failed for good with a typed code (a target deleted meanwhile, or lost to an app kill). */
  changeFailures: number;
  eventsChecked: number;
  faults: Record<FaultKind, number>;
  network: NetworkStats;
  /** Sends lost because their app was killed before the outbox write landed. */
  lostToKills: number;
  /** Server writes rolled back by crashes. */
  rolledBackWrites: number;
  /** Resends answered `duplicate: true` (the ack of the first attempt was lost). */
  duplicateAcks: number;
  /** Outbox resends after retryable failures. */
  retries: number;
  /** Simulated time from the last fault to everything settled, ms. */
  settleMs: number;
  /** Digest of every delivery, reset and close: equal digests mean the run replayed exactly. */
  digest: number;
  /** Client errors seen (diagnostics for a failure report). */
  clientErrors: string[];
}

/** Options of {@link runScenario}. */
export interface RunOptions {
  /** Wraps the storage each server incarnation sees, e.g. to plant a bug the checker must catch. */
  serverStorage?: (adapter: StorageAdapter) => StorageAdapter;
}

/** Simulated time allowed to settle after healing before the run counts as stuck, ms. */
const SETTLE_BUDGET_MS = 180_000;
const SETTLE_STEP_MS = 250;
/** Every run starts at the same simulated instant. */
const SIM_EPOCH = Date.UTC(2030, 0, 1);

/**
 * Runs one scenario on simulated time: the server core and the SDK clients in this process, over the
 * simulated network, sends and faults at their scheduled moments, then heal, settle and check.
 */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunReport> {
  // For a run that never ends (a livelock the timer budget does not catch): the scenario to replay it.
  if (process.env.NATTER_SIM_CURRENT) writeFileSync(process.env.NATTER_SIM_CURRENT, JSON.stringify(scenario));
  vi.useFakeTimers({
    toFake: [
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'setImmediate',
      'clearImmediate',
      'Date',
      'performance',
    ],
    now: SIM_EPOCH,
  });
  const storm = guardTimerStorm();
  // The SDK's sync/outbox retry delays and the server's drain use Math.random: pin it to the seed.
  const jitter = new Prng(scenario.seed ^ 0x5eed);
  const random = vi.spyOn(Math, 'random').mockImplementation(() => jitter.next());
  const world = new SimWorld(scenario, options.serverStorage);
  try {
    await world.setUp();
    const steps = [
      ...scenario.sends.flatMap((send, i) =>
        Array.from({ length: send.burst }, (_, k) => ({
          at: send.at + k * BURST_SPACING_MS,
          order: i,
          run: () => sendStep(world, i, k),
        })),
      ),
      ...scenario.changes.map((change, i) => ({
        at: change.at,
        order: scenario.sends.length + i,
        run: () => void world.devices[change.device]!.change(change),
      })),
      ...scenario.faults.map((fault, i) => ({
        at: fault.at,
        order: scenario.sends.length + scenario.changes.length + i,
        run: () => world.apply(fault),
      })),
    ].sort((a, b) => a.at - b.at || a.order - b.order);
    let elapsed = 0;
    for (const step of steps) {
      await vi.advanceTimersByTimeAsync(step.at - elapsed);
      elapsed = step.at;
      step.run();
    }
    await vi.advanceTimersByTimeAsync(Math.max(0, SHAPE.activityMs - elapsed));
    world.heal();
    let settleMs = 0;
    while (!(await world.settled())) {
      if (settleMs >= SETTLE_BUDGET_MS) break;
      await vi.advanceTimersByTimeAsync(SETTLE_STEP_MS);
      settleMs += SETTLE_STEP_MS;
    }
    // A little longer: anything still to come (a late duplicate, a stray emit) must show up now.
    await vi.advanceTimersByTimeAsync(2_000);
    const checked = await checkInvariants(world);
    if (storm.tripped) checked.violations.unshift(storm.message);
    if (settleMs >= SETTLE_BUDGET_MS) {
      checked.violations.unshift(`did not settle within ${SETTLE_BUDGET_MS / 1000} s of simulated time`);
    }
    return {
      violations: checked.violations,
      sends: checked.sendsChecked,
      changes: world.devices.reduce((sum, d) => sum + d.made.length, 0),
      changeFailures: world.devices.reduce((sum, d) => sum + d.changeFailures.length, 0),
      eventsChecked: checked.eventsChecked,
      faults: { ...world.faults },
      network: { ...world.network.stats },
      lostToKills: checked.lostToKills,
      rolledBackWrites: world.rolledBackWrites,
      duplicateAcks: world.devices.reduce((sum, d) => sum + d.duplicateAcks, 0),
      retries: world.devices.reduce((sum, d) => sum + d.retries + (d.client?.stats().retries ?? 0), 0),
      settleMs,
      digest: world.network.digest,
      clientErrors: world.devices.flatMap((d) => d.errors),
    };
  } finally {
    vi.clearAllTimers();
    random.mockRestore();
    vi.useRealTimers();
  }
}

/** Timers one run may schedule; a normal run schedules a few thousand. */
const TIMER_BUDGET = 500_000;

/**
 * Counts `setTimeout` calls on the fake clock. A livelock (something rescheduling itself without end) would
 * otherwise spin `advanceTimersByTimeAsync` forever; past the budget `setTimeout` throws, which breaks the
 * loop, and the run reports it.
 */
function guardTimerStorm(): { tripped: boolean; message: string } {
  const fake = globalThis.setTimeout;
  const state = { tripped: false, message: '' };
  let count = 0;
  const guarded = (...args: Parameters<typeof setTimeout>) => {
    if (++count > TIMER_BUDGET) {
      if (!state.tripped) {
        state.tripped = true;
        const where = new Error().stack?.split('\n').slice(2, 8).join(' <- ') ?? '';
        state.message = `timer storm: more than ${TIMER_BUDGET} timers in one run (livelock?) at ${where}`;
      }
      throw new Error('simulation timer budget exhausted');
    }
    return fake(...args);
  };
  // vi.useRealTimers() restores the real setTimeout, so this wrapper lives exactly as long as the run.
  globalThis.setTimeout = Object.assign(guarded, fake) as typeof setTimeout;
  return state;
}

/** Send step `i` of the scenario: a device sends to a channel it belongs to (else to the group). */
function sendStep(world: SimWorld, i: number, k: number): void {
  const step = world.scenario.sends[i]!;
  const device = world.devices[step.device]!;
  let channel = world.channels[step.channel]!;
  if (!channel.memberIds.includes(device.userId)) channel = world.channels[1]!;
  device.send(channel.id, `${device.key} #${i}.${k}`);
}
