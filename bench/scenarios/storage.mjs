import { spawn } from '../lib/proc.mjs';
import { round } from '../lib/runner.mjs';

/**
 * Scenario 5: appends/s per storage adapter, 1 and 100 concurrent senders, each configuration in a fresh
 * process, against raw better-sqlite3 batched inserts (full and normal sync) as the limit.
 */
export async function storage({ quick, progress }) {
  const count = quick ? 3_000 : 50_000;
  const maxMs = quick ? 600 : 8_000;
  const warmup = quick ? 200 : 1_000;
  const out = { title: 'Storage appends', params: { count, maxMs, channels: 1_000 }, systems: {} };
  const run = async (key, type, args) => {
    progress(key);
    const child = await spawn('load/storage-bench.mjs', { label: key });
    try {
      const r = await child.call(type, args, maxMs * 4 + 60_000);
      out.systems[key] = r.skipped
        ? { error: r.skipped }
        : { ...r, seconds: round(r.seconds, 2), cpuUsPerAppend: round(r.cpuUsPerAppend, 1) };
    } catch (err) {
      out.systems[key] = { error: String(err?.message ?? err).slice(0, 500) };
    } finally {
      await child.stop();
    }
  };
  // sharded-1 / sharded-3: @natter/storage-postgres-sharded on one and on three PostgreSQL servers
  // (NATTER_PG_SHARD_URLS, 5433-5435), on the same machine as everything else.
  for (const adapter of [
    'sqlite-full',
    'sqlite-normal',
    'level',
    'postgres',
    'sharded-1',
    'sharded-3',
    'memory',
  ])
    for (const senders of [1, 100]) {
      // The quick run keeps 1 sender for SQLite only: the slow adapters' single-sender runs just wait out maxMs.
      if (quick && senders === 1 && ['level', 'postgres', 'sharded-1', 'sharded-3'].includes(adapter))
        continue;
      await run(`${adapter} x${senders}`, 'adapterRun', { adapter, senders, count, maxMs, warmup });
    }
  // Whole sends through ChatService.sendMessage (idempotency and membership checked in the same write):
  // what a chat send costs the store. PostgreSQL does it in one statement (appendChecked), the others
  // through the port's reads and appendMessage.
  for (const adapter of ['sqlite-full', 'postgres', 'sharded-1', 'sharded-3'])
    for (const senders of quick ? [100] : [1, 100])
      await run(`${adapter} send x${senders}`, 'adapterRun', {
        adapter,
        senders,
        count,
        maxMs,
        warmup,
        path: 'send',
      });
  await run('raw-sqlite full', 'rawRun', { synchronous: 'FULL', count, maxMs });
  await run('raw-sqlite normal', 'rawRun', { synchronous: 'NORMAL', count, maxMs });
  await run('raw-sqlite rows full', 'rawRowsRun', { synchronous: 'FULL', count, maxMs });
  if (!quick) await run('raw-sqlite rows normal', 'rawRowsRun', { synchronous: 'NORMAL', count, maxMs });
  // Random access at scale: p99 of "latest 50" and "around a message" with 1M stored (20k in quick mode,
  // which only checks that the path works: filling takes most of the scenario's time).
  const stored = quick ? 20_000 : 1_000_000;
  out.reads = {};
  for (const adapter of ['sqlite-normal', 'memory']) {
    const key = `${adapter} reads @${stored}`;
    progress(key);
    const child = await spawn('load/storage-bench.mjs', { label: key });
    try {
      const r = await child.call(
        'readRun',
        { adapter, messages: stored, queries: quick ? 300 : 2_000 },
        15 * 60_000,
      );
      out.reads[adapter] = {
        stored: r.stored,
        fillSeconds: round(r.fillSeconds, 1),
        latest50P50Ms: round(r.latest50.p50Ms, 3),
        latest50P99Ms: round(r.latest50.p99Ms, 3),
        around50P50Ms: round(r.around50.p50Ms, 3),
        around50P99Ms: round(r.around50.p99Ms, 3),
      };
    } catch (err) {
      out.reads[adapter] = { error: String(err?.message ?? err).slice(0, 500) };
    } finally {
      await child.stop();
    }
  }
  return out;
}
