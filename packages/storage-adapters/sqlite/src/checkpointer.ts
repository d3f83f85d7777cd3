import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints on a worker thread. A checkpoint copies committed pages from the WAL back into the
 * database file and fsyncs it: tens of milliseconds that, run by SQLite's auto-checkpoint inside a
 * COMMIT, would block the event loop of the process serving every socket. The write connection turns
 * auto-checkpoint off and this worker, with its own connection to the same file, runs a PASSIVE
 * checkpoint (never waits for the writer, never blocks it) every `intervalMs`.
 */
export interface Checkpointer {
  /** Stops the worker after its current checkpoint; resolves when its connection is closed. */
  close(): Promise<void>;
}

export interface CheckpointerOptions {
  path: string;
  intervalMs: number;
  busyTimeoutMs: number;
  /** Called with an error of the worker; the adapter then returns to SQLite's own auto-checkpoint. */
  onError: (error: Error) => void;
}

// CommonJS source evaluated by the worker (`eval: true`), so the package needs no separate worker file
// that bundlers and test runners would have to find.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
let closed = false;
const checkpoint = () => {
  if (closed) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); }
  catch (error) { parentPort.postMessage({ error: String(error && error.message || error) }); }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  closed = true;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** The better-sqlite3 entry point, resolved from this package so the worker loads the same driver. */
const driverPath = (): string => createRequire(import.meta.url).resolve('better-sqlite3');

/** Starts the checkpoint worker for the store at `options.path`. */
export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: driverPath(),
      path: options.path,
      intervalMs: options.intervalMs,
      busyTimeoutMs: options.busyTimeoutMs,
    },
  });
  // The worker must never keep a process alive on its own; close() ends it deterministically.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (m: { error?: string }) => {
    if (m?.error) options.onError(new Error(`sqlite checkpoint failed: ${m.error}`));
  });
  worker.on('error', (error) => options.onError(error));
  return {
    async close() {
      worker.postMessage('close');
      const timeout = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
