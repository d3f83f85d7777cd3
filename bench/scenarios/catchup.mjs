import { round, sleep, startLoads, startSystem, stopAll, timed } from '../lib/runner.mjs';

/**
 * Scenario 4: a device comes back after N messages were sent to it while it was away, and syncs.
 * natter and the ws relay: connect, then `sync` pages from cursor 0 until `hasMore` is false (natter
 * reads them from its store; the relay from an in-memory array: the transport's limit).
 * Socket.IO has no log; its nearest feature is connection state recovery, which replays the missed
 * room broadcasts from memory after an abrupt disconnect. That is what it is timed on.
 */
export async function catchup({ quick, systems, progress }) {
  const messages = quick ? 2_000 : 10_000;
  const out = { title: 'Catch-up', params: { messages }, systems: {} };
  for (const name of systems) {
    progress(`${name}: ${messages} missed messages`);
    out.systems[name] = await timed(runCatchup, name, messages, progress);
  }
  return out;
}

async function runCatchup(name, messages, progress) {
  let system;
  let loads = [];
  try {
    system = await startSystem(name, { users: 2, directPairs: 1, preload: { messages } }, 1, 'catchup');
    loads = await startLoads(1);
    const [load] = loads;
    const [server] = system.servers;
    const user = system.users[0];
    let result;
    // Warm-up: user 1 (the sender) has the same backlog in its own log; catching it up first warms the
    // JIT and the page cache, then user 0's catch-up is timed.
    if (system.client === 'socketio') {
      await sioCycle(server, load, system.users[1], 1, Math.min(messages, 1_000));
      progress(`${name}: replaying ${messages}`);
      result = await sioCycle(server, load, user, 0, messages);
    } else {
      await load.call('catchupFrames', { user: system.users[1] }, 90_000);
      progress(`${name}: syncing ${messages}`);
      result = await load.call('catchupFrames', { user }, 90_000);
    }
    return {
      ...result,
      msgsPerSec: Math.round(result.entries / (result.totalMs / 1000)),
      totalMs: round(result.totalMs, 1),
    };
  } catch (err) {
    return { error: String(err?.message ?? err).slice(0, 500) };
  } finally {
    await stopAll([...(system?.servers ?? []), ...loads]);
  }
}

/**
 * Socket.IO recovery, end to end: connect, receive one message (the client then holds an offset), drop the
 * transport abruptly (a clean disconnect discards the session), let `count` messages reach the user's room,
 * reconnect; timed from reconnect until all `count` arrived.
 */
async function sioCycle(server, load, user, userIndex, count) {
  await load.call('sioPrepare', { user });
  await load.call('mark');
  await server.call('emitTo', { userIndex, fromIndex: 1 - userIndex, count: 1 });
  await load.call('waitDelivered', { count: 1 });
  await load.call('sioDrop');
  // The server must have seen the transport close (and kept the session) before the backlog is sent.
  for (let i = 0; i < 500 && (await server.call('stats')).connections > 0; i++) await sleep(10);
  await server.call('emitTo', { userIndex, fromIndex: 1 - userIndex, count });
  const result = await load.call('sioRecover', { expected: count }, 90_000);
  await load.call('closeAll');
  return result;
}
