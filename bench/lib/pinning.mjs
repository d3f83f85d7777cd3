import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * `--pin-load`: the load processes run on their own cores and the server processes on the rest, with
 * `taskset`, so the load neither steals the server's cores nor is starved by them. A plan needs at least
 * one core for the server besides the load's; what could not be pinned is said in the plan's `notes` and in
 * the report.
 */

/** How the cores are shared: the load on the last `loads` cores, the server on the others. */
export function planPinning(loads, cores = availableParallelism(), hasTaskset = tasksetAvailable()) {
  const all = Array.from({ length: cores }, (_, i) => i);
  if (!hasTaskset)
    return {
      pinned: false,
      cores,
      serverCpus: all,
      loadCpus: all,
      notes: ['taskset not found: nothing pinned'],
    };
  if (cores < 2)
    return {
      pinned: false,
      cores,
      serverCpus: all,
      loadCpus: all,
      notes: [`${cores} core: the load and the server cannot run on separate cores; nothing pinned`],
    };
  // At most half of the cores for the load: the server is what is measured.
  const loadCount = Math.min(loads, Math.floor(cores / 2));
  const notes = [];
  if (loadCount < loads)
    notes.push(`${loads} load processes share ${loadCount} core(s): a load process may saturate its core`);
  const serverCpus = all.slice(0, cores - loadCount);
  if (serverCpus.length === 1)
    notes.push('the server gets 1 core: the multicore system runs one worker and cannot show scaling here');
  return { pinned: true, cores, serverCpus, loadCpus: all.slice(cores - loadCount), notes };
}

/** True when the `taskset` command runs here. */
export function tasksetAvailable() {
  return spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Pins every thread of process `pid` to `cpus` (its later threads and children inherit it). Returns null,
 * or why it could not.
 */
export function pinProcess(pid, cpus) {
  const result = spawnSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(pid)], { encoding: 'utf8' });
  if (result.status === 0) return null;
  return (result.stderr || result.error?.message || `taskset exited ${result.status}`).trim();
}

/** The cores process `pid` may run on, from /proc (Linux); undefined elsewhere. */
export function allowedCpus(pid) {
  try {
    const list = readFileSync(`/proc/${pid}/status`, 'utf8').match(/Cpus_allowed_list:\s*(\S+)/)?.[1];
    if (!list) return undefined;
    return list.split(',').flatMap((part) => {
      const [a, b = a] = part.split('-').map(Number);
      return Array.from({ length: b - a + 1 }, (_, i) => a + i);
    });
  } catch {
    return undefined;
  }
}
