import {
  CHAT_LOADS,
  connectAll,
  measure,
  sleep,
  startLoads,
  startSystem,
  stopAll,
  stopTraffic,
  timed,
} from '../lib/runner.mjs';

/**
 * Scenarios 2 (1-1) and 3 (group of 100). Each system, in a fresh server process, runs two phases:
 *   max: every sender keeps one send unacknowledged (closed loop): delivered msg/s and CPU per message;
 *   rate: a fixed offered load (open loop): latency percentiles and CPU per message at equal work.
 * Warm-up traffic runs before each measured window and is not counted.
 */

export async function direct({ quick, systems, progress }) {
  const pairs = quick ? 200 : 1_000;
  const rate = 5_000;
  const times = quick ? { warm: 400, max: 1_000, rate: 1_500 } : { warm: 2_000, max: 8_000, rate: 10_000 };
  const out = { title: '1-1 chat', params: { pairs, rateSendsPerSec: rate, ...times }, systems: {} };
  for (const name of systems) {
    progress(`${name}: ${pairs} pairs`);
    out.systems[name] = await timed(runChat, name, {
      plan: { users: 2 * pairs, directPairs: pairs },
      // Both users of a pair send into their direct channel.
      senders: (setup) =>
        setup.users.map((_, i) => ({ index: i, channelId: setup.direct[Math.floor(i / 2)] })),
      rate,
      times,
      progress,
      tag: 'direct',
    });
  }
  return out;
}

export async function group({ quick, systems, progress }) {
  const size = 100;
  const rate = 100; // sends/s, i.e. 9,900 deliveries/s: well inside every system's capacity
  const times = quick ? { warm: 300, max: 800, rate: 1_000 } : { warm: 2_000, max: 8_000, rate: 8_000 };
  const out = {
    title: 'Group of 100',
    params: { members: size, rateSendsPerSec: rate, ...times },
    systems: {},
  };
  for (const name of systems) {
    progress(`${name}: group of ${size}`);
    out.systems[name] = await timed(runChat, name, {
      plan: { users: size, group: size },
      senders: (setup) => setup.users.map((_, i) => ({ index: i, channelId: setup.groups[0] })),
      rate,
      times,
      progress,
      tag: 'group',
    });
  }
  return out;
}

async function runChat(name, { plan, senders, rate, times, progress, tag }) {
  let system;
  let loads = [];
  try {
    system = await startSystem(name, plan, 1, tag);
    // One load process: on 2 cores the server gets one core and the load the other.
    loads = await startLoads(CHAT_LOADS);
    const connect = await connectAll(loads, system.client, system.users);
    if (connect.failed)
      throw new Error(`only ${connect.connected} of ${system.users.length} connected: ${connect.errors}`);
    const senderList = senders(system);

    progress(`${name}: max throughput`);
    await loads[0].call('startChat', { senders: senderList, mode: 'closed', window: 1 });
    await sleep(times.warm);
    const max = await measure(system.servers, loads, times.max);
    await stopTraffic(loads);

    progress(`${name}: ${rate} sends/s`);
    // Half a second of sends may be outstanding; beyond that the system is overloaded and the shortfall
    // is counted (`skipped`) instead of queueing without bound.
    await loads[0].call('startChat', {
      senders: senderList,
      mode: 'rate',
      rate,
      maxInFlight: Math.max(100, rate / 2),
    });
    await sleep(times.warm);
    const fixed = await measure(system.servers, loads, times.rate);
    await stopTraffic(loads);
    return { max, rate: { sendsPerSec: rate, ...fixed } };
  } catch (err) {
    return { error: String(err?.message ?? err).slice(0, 500) };
  } finally {
    await stopAll([...(system?.servers ?? []), ...loads]);
  }
}
