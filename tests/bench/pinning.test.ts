import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
// @ts-expect-error The bench is plain ESM JavaScript without type declarations.
import { allowedCpus, pinProcess, planPinning, tasksetAvailable } from '../../bench/lib/pinning.mjs';

interface Plan {
  pinned: boolean;
  cores: number;
  serverCpus: number[];
  loadCpus: number[];
  notes: string[];
}
const plan = planPinning as (loads: number, cores?: number, hasTaskset?: boolean) => Plan;

describe('bench --pin-load', () => {
  it('puts the load on the last cores and the server on the others, at most half of them for the load', () => {
    expect(plan(1, 8, true)).toMatchObject({
      pinned: true,
      serverCpus: [0, 1, 2, 3, 4, 5, 6],
      loadCpus: [7],
    });
    expect(plan(6, 8, true)).toMatchObject({ serverCpus: [0, 1, 2, 3], loadCpus: [4, 5, 6, 7] });
    expect(plan(6, 8, true).notes.join(' ')).toMatch(/6 load processes share 4 core/);
  });

  it('says what it could not do: one core for the server, a single core, no taskset', () => {
    const two = plan(1, 2, true);
    expect(two).toMatchObject({ pinned: true, serverCpus: [0], loadCpus: [1] });
    expect(two.notes.join(' ')).toMatch(/server gets 1 core/);
    expect(plan(1, 1, true)).toMatchObject({
      pinned: false,
      notes: [expect.stringMatching(/cannot run on separate cores/)],
    });
    expect(plan(1, 8, false)).toMatchObject({ pinned: false, notes: ['taskset not found: nothing pinned'] });
  });

  it.skipIf(process.platform !== 'linux' || !tasksetAvailable())(
    'pins a running process to the planned cores (Linux with taskset)',
    async () => {
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
      try {
        await new Promise((resolve) => child.once('spawn', resolve));
        const cpus = (allowedCpus as (pid: number) => number[] | undefined)(child.pid!)!;
        const last = cpus.at(-1)!;
        expect((pinProcess as (pid: number, cpus: number[]) => string | null)(child.pid!, [last])).toBeNull();
        expect((allowedCpus as (pid: number) => number[] | undefined)(child.pid!)).toEqual([last]);
      } finally {
        child.kill('SIGKILL');
      }
    },
  );
});
