import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo, packageVersions } from './lib/machine.mjs';
import { renderMarkdown } from './lib/markdown.mjs';
import { killAll } from './lib/proc.mjs';
import { progressFor } from './lib/progress.mjs';
import { computeRatios, evaluateGoals } from './lib/ratios.mjs';
import { DEFAULT_SYSTEMS, enablePinning, runOptions, SYSTEMS } from './lib/runner.mjs';
import { renderSvg } from './lib/svg.mjs';
import { catchup } from './scenarios/catchup.mjs';
import { direct, group } from './scenarios/chat.mjs';
import { crossNode } from './scenarios/cross-node.mjs';
import { idle } from './scenarios/idle.mjs';
import { media } from './scenarios/media.mjs';
import { storage } from './scenarios/storage.mjs';

/**
 * `npm run bench [-- --quick] [--only=idle,direct] [--systems=ws,natter-sqlite] [--profile] [--sqlite-module=path]
 *   [--pin-load]` (`--pin-load`: the load on its own cores with taskset, the server on the others)
 * Runs every scenario for natter (SQLite and memory stores), Socket.IO 4 and a bare ws relay, each in a
 * fresh server process, with load from separate processes on 127.0.0.1, then writes
 * bench/results/latest.{json,md} and ratios.svg.
 */
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    systems: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'sqlite-module': { type: 'string' },
    render: { type: 'boolean', default: false },
    'pin-load': { type: 'boolean', default: false },
  },
});

const SCENARIOS = { idle, direct, group, catchup, storage, crossNode, media };
const selected = args.only ? args.only.split(',') : Object.keys(SCENARIOS);
const systems = args.systems ? args.systems.split(',') : DEFAULT_SYSTEMS;
for (const name of [...selected.filter((s) => !SCENARIOS[s]), ...systems.filter((s) => !SYSTEMS[s])]) {
  console.error(
    `unknown scenario or system: ${name} (scenarios: ${Object.keys(SCENARIOS)}; systems: ${Object.keys(SYSTEMS)})`,
  );
  process.exit(2);
}

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
if (args.profile) runOptions.profileDir = `${resultsDir}profiles`;
if (args['sqlite-module']) runOptions.sqliteModule = resolve(args['sqlite-module']);
if (args['pin-load']) {
  const plan = enablePinning();
  console.log(
    plan.pinned
      ? `bench: server on cores ${plan.serverCpus}, load on cores ${plan.loadCpus}`
      : 'bench: --pin-load could not pin anything',
  );
  for (const note of plan.notes) console.log(`bench: --pin-load: ${note}`);
}

// --render: recompute ratios and goals of the last run and rewrite the reports (no measuring).
if (args.render) {
  const last = JSON.parse(readFileSync(`${resultsDir}latest.json`, 'utf8'));
  writeReports(last);
  process.exit(0);
}

const results = {
  generatedAt: new Date().toISOString(),
  mode: args.quick ? 'quick' : 'full',
  machine: machineInfo(),
  packages: packageVersions(),
  systems: Object.fromEntries(
    systems.map((s) => [s, { file: `bench/${SYSTEMS[s].file}`, ...SYSTEMS[s].options }]),
  ),
  ...(runOptions.sqliteModule ? { sqliteModule: runOptions.sqliteModule } : {}),
  ...(runOptions.pinning ? { pinning: runOptions.pinning } : {}),
  scenarios: {},
};

const started = Date.now();
let current;
// The whole run ends by itself: a hard deadline well above the budgets (2 min quick, 20 min full). What was
// measured until then is still written, marked incomplete.
const deadlineMs = (args.quick ? 5 : 30) * 60_000;
const deadline = setTimeout(() => {
  console.error(`\nbench: run exceeded ${deadlineMs / 60_000} min during ${current}; stopping`);
  killAll();
  finish(`stopped after ${deadlineMs / 60_000} min during scenario ${current}`);
  process.exit(1);
}, deadlineMs);
deadline.unref();
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

try {
  for (const key of selected) {
    current = key;
    const progress = progressFor(key);
    const t0 = Date.now();
    try {
      results.scenarios[key] = await SCENARIOS[key]({ quick: args.quick, systems, progress });
    } catch (err) {
      // One broken scenario must not cost the others' figures.
      results.scenarios[key] = { title: key, error: String(err?.stack ?? err).slice(0, 1000) };
    }
    progress.done(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
} finally {
  killAll();
}
finish();
console.log(
  `\nbench: ${results.mode} run took ${results.durationSeconds} s; wrote bench/results/latest.{json,md} and ratios.svg`,
);
for (const g of results.goals) {
  const verdict = g.met === null ? 'n/a ' : g.met ? 'met ' : 'MISS';
  console.log(`  ${verdict} ${g.system}: ${g.goal} (value ${g.value ?? '–'}, target ${g.target})`);
}
process.exit(0);

function finish(incomplete) {
  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  // A busy machine at the end as at the start means the absolute numbers carry other tenants' load.
  results.machine.loadAvgEnd = machineInfo().loadAvg;
  if (results.pinning && runOptions.pinFailures.length)
    results.pinning.notes = [
      ...results.pinning.notes,
      ...runOptions.pinFailures.map((f) => `taskset failed: ${f}`),
    ];
  if (incomplete) results.incomplete = incomplete;
  writeReports(results);
}

function writeReports(results) {
  results.ratios = computeRatios(results);
  results.goals = evaluateGoals(results, results.ratios);
  writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${resultsDir}latest.md`, renderMarkdown(results));
  writeFileSync(`${resultsDir}ratios.svg`, renderSvg(results));
}
