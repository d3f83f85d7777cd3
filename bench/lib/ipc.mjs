import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where a run's files go: one directory per orchestrator (named after its pid), so the orchestrator can
 * remove everything at exit even when a child was killed before it could clean up after itself.
 */
export const runScratchOf = (orchestratorPid) => join(tmpdir(), `natter-bench-${orchestratorPid}`);

/** A fresh directory for this child inside its orchestrator's scratch directory. */
export function scratchDir(prefix) {
  const parent = runScratchOf(process.ppid);
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Child side of the orchestrator's request/response protocol over the Node IPC channel.
 * Every bench child (server or load process) answers `{ id, type, ...args }` with `{ id, ok, result | error }`.
 */

/** The shared wall clock: high resolution and comparable across processes on one machine. */
export const now = () => performance.timeOrigin + performance.now();

/**
 * Serves requests from the parent. `handlers[type](msg)` may be async. The process exits when the parent
 * goes away, so no child outlives an orchestrator that crashed.
 */
export function serve(handlers) {
  handlers = { heapSnapshot, ...handlers };
  if (!process.send)
    throw new Error('bench children must be started with an IPC channel (child_process.fork)');
  process.on('disconnect', () => process.exit(0));
  // A normal exit (not death by signal) lets `--cpu-prof` write its profile.
  process.on('SIGTERM', () => process.exit(0));
  process.on('message', async (msg) => {
    if (!msg || typeof msg.id !== 'number') return;
    const handler = handlers[msg.type];
    try {
      if (!handler) throw new Error(`unknown request ${msg.type}`);
      const result = await handler(msg);
      process.send({ id: msg.id, ok: true, result });
    } catch (err) {
      process.send({ id: msg.id, ok: false, error: err instanceof Error ? err.stack : String(err) });
    }
  });
  process.send({ ready: true });
}

/** Debugging aid for memory findings: writes a heap snapshot (after a GC) to `path`. */
async function heapSnapshot({ path }) {
  globalThis.gc?.();
  const { writeHeapSnapshot } = await import('node:v8');
  return writeHeapSnapshot(path);
}

/** CPU time (user + system, µs) and memory of this process; `gc` first when exposed, so the heap is settled. */
export function processStats({ collect = false } = {}) {
  if (collect && typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    at: now(),
    cpuMicros: cpu.user + cpu.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
  };
}

/** Stops a bench child on a fatal error, after telling the parent why. */
export function dieOnError() {
  const die = (err) => {
    try {
      process.send?.({ fatal: err instanceof Error ? err.stack : String(err) });
    } finally {
      setTimeout(() => process.exit(1), 50).unref();
    }
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}
