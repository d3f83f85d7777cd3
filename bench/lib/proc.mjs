import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runScratchOf } from './ipc.mjs';

/**
 * Parent side: forks bench children and talks to them with bounded request/response calls.
 * Every child started here is tracked so `killAll` can end them even when the run fails half-way.
 */
const live = new Set();

const benchDir = fileURLToPath(new URL('..', import.meta.url));

/** Forks `bench/<file>`; resolves once the child has installed its request handler. */
export async function spawn(file, { execArgv = [], label = file, startTimeoutMs = 15_000 } = {}) {
  const child = fork(`${benchDir}${file}`, [], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  const pending = new Map();
  let nextId = 1;
  let fatal;
  const failAll = (why) => {
    for (const { reject, timer } of pending.values()) {
      clearTimeout(timer);
      reject(new Error(`${label}: ${why}`));
    }
    pending.clear();
  };
  child.on('message', (msg) => {
    if (msg?.fatal) fatal = msg.fatal;
    const call = msg && pending.get(msg.id);
    if (!call) return;
    pending.delete(msg.id);
    clearTimeout(call.timer);
    if (msg.ok) call.resolve(msg.result);
    else call.reject(new Error(`${label}: ${msg.error}`));
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      failAll(`exited (${code ?? signal})${fatal ? `: ${fatal}` : ''}`);
      resolve({ code, signal });
    });
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: did not start`)), startTimeoutMs);
    child.on('message', (msg) => {
      if (msg?.ready) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${label}: exited while starting${fatal ? `: ${fatal}` : ''}`));
    });
  });

  return {
    pid: child.pid,
    label,
    /** Sends a request; rejects after `timeoutMs` so no step of the run can hang. */
    call(type, args = {}, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        if (!child.connected) {
          reject(new Error(`${label}: not running`));
          return;
        }
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${label}: ${type} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, type, ...args });
      });
    },
    /** Ends the child: a polite SIGTERM (lets --cpu-prof write its profile), SIGKILL if it lingers. */
    async stop(graceMs = 3_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Stops several children in parallel. */
export async function stopAll(children, graceMs) {
  await Promise.all(children.filter(Boolean).map((c) => c.stop(graceMs)));
}

/** Last resort on exit or error: kill every child still running. Synchronous, so it works in 'exit'. */
export function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
  rmSync(runScratchOf(process.pid), { recursive: true, force: true });
}
