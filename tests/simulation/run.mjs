#!/usr/bin/env node
// `npm run test:sim -- --seeds 1000`: the simulation suite with more seeded runs.
// `npm run test:sim -- --seed <n> --path <p>`: replays (and shrinks) the failure a run printed.
// `--seed <n>` alone reruns a whole suite with that fast-check seed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const env = { ...process.env };
const names = { '--seeds': 'NATTER_SIM_SEEDS', '--seed': 'NATTER_SIM_SEED', '--path': 'NATTER_SIM_PATH' };
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split('=', 2);
  const name = names[flag];
  const value = inline ?? args[++i];
  if (!name || value === undefined || value === '') {
    console.error('usage: npm run test:sim -- [--seeds N] [--seed S [--path P]]');
    process.exit(2);
  }
  env[name] = value;
}
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const result = spawnSync(process.execPath, [vitest, 'run', 'tests/simulation/simulation.test.ts'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
