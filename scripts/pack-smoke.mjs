// What users install is what is tested: packs every public package (each `prepack` builds it), checks each
// tarball with `attw` (types resolve under node10, node16 and bundlers), installs the tarballs into a fresh
// app in a temporary directory outside the workspace (third-party dependencies from the registry), then runs
// the README's quick start there (server and two clients over a real WebSocket on 127.0.0.1) and `npx natter`.
// Never publishes anything. Usage: node scripts/pack-smoke.mjs [--keep]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const log = (message) => process.stdout.write(`pack-smoke: ${message}\n`);

/** Runs a command, failing the script with its output when it fails. */
function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  } catch (err) {
    process.stderr.write(`${err.stdout ?? ''}${err.stderr ?? ''}`);
    throw new Error(`${command} ${args.join(' ')} failed`);
  }
}

function publicPackages() {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const found = [];
  for (const pattern of workspaces) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => join(pattern.slice(0, -2), d.name))
      : [pattern];
    for (const dir of dirs) {
      let manifest;
      try {
        manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      if (!manifest.private) found.push({ dir, manifest });
    }
  }
  return found;
}

/** The first ```js block after the README's quick-start marker: exactly what the README shows. */
function quickStart() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = /<!-- quick-start[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no quick-start block');
  return match[1];
}

function waitForOutput(child, pattern, timeoutMs) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = (chunk) => {
      out += chunk;
      const found = pattern.exec(out);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!pattern.test(out)) reject(new Error(`exited with ${code} before ${pattern}:\n${out}`));
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'natter-pack-smoke-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(tarballs);
mkdirSync(app);
try {
  const packages = publicPackages();
  log(`packing ${packages.length} packages into ${tarballs}`);
  for (const { dir, manifest } of packages) {
    run('npm', ['pack', '--silent', '--pack-destination', tarballs], { cwd: join(root, dir) });
    // A bin-only package (the CLI) has no types to check.
    if (manifest.exports) {
      const file = readdirSync(tarballs).find((f) =>
        f.startsWith(`${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}`),
      );
      run('npx', ['attw', join(tarballs, file), '--format', 'ascii'], { cwd: root });
      log(`attw: ${manifest.name} clean`);
    }
  }

  log(`installing the tarballs into ${app}`);
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'natter-smoke-app', private: true, type: 'module' }, null, 2)}\n`,
  );
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], { cwd: app });

  log("running the README's quick start");
  writeFileSync(join(app, 'quickstart.mjs'), quickStart());
  const secret = randomBytes(48).toString('base64');
  const quick = spawn(process.execPath, ['quickstart.mjs'], {
    cwd: app,
    env: { ...process.env, NATTER_TOKEN_SECRET: secret, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(quick, /Bob got: hello, Bob/, 60_000);
  const code = await new Promise((resolve) =>
    quick.exitCode !== null ? resolve(quick.exitCode) : quick.once('exit', resolve),
  );
  if (code !== 0) throw new Error(`the quick start exited with ${code}`);
  log('quick start: Bob got the message');

  log('loading @natter/react (ESM and CommonJS; npm installs its React peer)');
  const reactCheck =
    "const m = await import('@natter/react'); const c = (await import('node:module')).createRequire(import.meta.url)('@natter/react');" +
    " for (const k of ['NatterProvider', 'useMessages', 'MessageList']) if (typeof m[k] !== 'function' || typeof c[k] !== 'function') throw new Error(k);";
  run(process.execPath, ['--input-type=module', '-e', reactCheck], { cwd: app });
  log('@natter/react: loads');

  log('running npx natter');
  // npx runs the bin in a child of its own and does not pass SIGTERM on, so the server gets its own
  // process group and the whole group is stopped; otherwise the server outlives this script and holds
  // its pipes open, and the script never exits.
  const cli = spawn('npx', ['natter', '--port', '0', '--data-dir', join(app, 'cli-data')], {
    cwd: app,
    env: { ...process.env, NATTER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const [, health] = await waitForOutput(cli, /Health\s+(http:\S+)/, 60_000);
  const res = await fetch(health);
  if (res.status !== 200) throw new Error(`npx natter: /healthz answered ${res.status}`);
  const page = await fetch(health.replace('/healthz', '/'));
  if (!(await page.text()).includes('<div id="app">')) throw new Error('npx natter: no web demo at /');
  const exited = new Promise((resolve) => cli.once('close', resolve));
  process.kill(-cli.pid, 'SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(15_000, false, { ref: false })]);
  if (!stopped) {
    process.kill(-cli.pid, 'SIGKILL');
    throw new Error('npx natter did not stop within 15 s of SIGTERM');
  }
  log('npx natter: healthy, web demo served, stopped');
  log('ok');
} finally {
  if (keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
