import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the packages the harness imports (their dist/) before a run. turbo is used when the root
 * package.json names its packageManager (turbo 2 refuses to resolve npm workspaces without it);
 * otherwise each stale package is built with `npm run build -w`, in dependency order. A package is
 * stale when a file under src/ (or its package.json / tsup config) is newer than dist/index.js.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = [
  ['@natter/protocol', 'packages/protocol', []],
  ['@natter/server-core', 'packages/server-core', ['@natter/protocol']],
  ['@natter/storage-memory', 'packages/storage-adapters/memory', ['@natter/server-core']],
  ['@natter/storage-sqlite', 'packages/storage-adapters/sqlite', ['@natter/server-core']],
  ['@natter/storage-level', 'packages/storage-adapters/level', ['@natter/server-core']],
  // Scenario 6 (cross-node): the brokers between nodes and the shared PostgreSQL store.
  ['@natter/storage-postgres', 'packages/storage-adapters/postgres', ['@natter/server-core']],
  // Scenarios 5 and 6 on the sharded store (sharded-1, sharded-3).
  [
    '@natter/storage-postgres-sharded',
    'packages/storage-adapters/postgres-sharded',
    ['@natter/server-core', '@natter/storage-postgres'],
  ],
  ['@natter/broker-redis', 'packages/broker-redis', ['@natter/server-core']],
  ['@natter/broker-nats', 'packages/broker-nats', ['@natter/server-core']],
  // Scenario "media": the media service over the filesystem and the S3 blob stores.
  ['@natter/blob-fs', 'packages/storage-adapters/blob-fs', ['@natter/server-core']],
  ['@natter/blob-s3', 'packages/storage-adapters/blob-s3', ['@natter/server-core']],
  ['@natter/media', 'packages/media', ['@natter/server-core']],
  // natter-sqlite-multicore imports the CLI's multicore pieces from their build (dist/multicore.js).
  ['@natter/cli', 'packages/cli', ['@natter/server-core', '@natter/storage-sqlite'], 'dist/multicore.js'],
];

const run = (cmd, args) =>
  spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  }).status;

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (rootPkg.packageManager) {
  const filters = PACKAGES.map(([name]) => `--filter=${name}`);
  process.exit(run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only', ...filters]) ?? 1);
}

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
}
function built(dir, entry = 'dist/index.js') {
  try {
    return statSync(join(root, dir, entry)).mtimeMs;
  } catch {
    return 0;
  }
}

const rebuilt = new Set();
for (const [name, dir, deps, entry] of PACKAGES) {
  const sources = ['src', 'package.json', 'tsup.config.ts']
    .map((f) => join(root, dir, f))
    .filter((p) => {
      try {
        statSync(p);
        return true;
      } catch {
        return false;
      }
    });
  const stale = deps.some((d) => rebuilt.has(d)) || Math.max(...sources.map(newest)) > built(dir, entry);
  if (!stale) continue;
  console.log(`bench: building ${name}`);
  if (run('npm', ['run', 'build', '--silent', '-w', name]) !== 0) {
    console.error(`bench: building ${name} failed`);
    process.exit(1);
  }
  rebuilt.add(name);
}
