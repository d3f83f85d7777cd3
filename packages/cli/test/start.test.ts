import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const main = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const demo = fileURLToPath(new URL('../dist/web/index.html', import.meta.url));

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in output:\n${out}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
}

describe('reference server (npm start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'natter-ref-'));
  let child: ChildProcess;

  beforeAll(() => {
    // `npm start` builds first; a test run straight after `npm install` may not have built yet.
    if (!existsSync(main) || !existsSync(demo))
      execFileSync('npx', ['turbo', 'run', 'build', '--filter=@natter/cli...'], {
        cwd: root,
        stdio: 'ignore',
      });
  }, 180_000);
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves /healthz, prints its URLs, keeps data across restarts and stops cleanly on SIGTERM', async () => {
    const env = { ...process.env, PORT: '0', NATTER_DATA_DIR: dataDir, NATTER_LOG_LEVEL: 'warn' };
    child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = await waitForOutput(child, /Health\s+(http:\S+)/);
    const health = out.match(/Health\s+(http:\S+)/)![1]!;
    expect(out).toMatch(/WebSocket\s+ws:\/\/127\.0\.0\.1:\d+\/v1\/ws/);
    const res = await fetch(health);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    // Web Push is on by default: browsers subscribe with this key.
    const vapid = await fetch(health.replace('/healthz', '/v1/push/vapid-key'));
    expect(vapid.status).toBe(200);
    expect(Buffer.from(((await vapid.json()) as { publicKey: string }).publicKey, 'base64url')).toHaveLength(
      65,
    );
    const base = health.replace('/healthz', '');

    // The web demo at `/`, beside the API, with the seeded demo users announced.
    expect(out).toMatch(/Web demo\s+http:\/\/127\.0\.0\.1:\d+\//);
    expect(out).toMatch(/Demo users\s+alice, bob, carol \(password natter-demo\)/);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<div id="app"></div>');
    const route = await fetch(`${base}/some/client/route`);
    expect(await route.text()).toContain('<div id="app"></div>');
    const demoLogin = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'natter-demo' }),
    });
    expect(demoLogin.status).toBe(200);
    const signup = await fetch(`${base}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'refuser', password: 'long enough password' }),
    });
    expect(signup.status).toBe(201);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    // Same data dir, same token secret: the account and its password survive.
    child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out2 = await waitForOutput(child, /Health\s+(http:\S+)/);
    const base2 = out2.match(/Health\s+(http:\S+)/)![1]!.replace('/healthz', '');
    const login = await fetch(`${base2}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'refuser', password: 'long enough password' }),
    });
    expect(login.status).toBe(200);
    const exited2 = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited2).toBe(0);
  }, 60_000);

  it('takes --port, --host and --data-dir flags, logs JSON lines when not on a terminal, and prints --help', async () => {
    const help = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--port <n>[\s\S]*--host <addr>[\s\S]*--data-dir <dir>/);
    const wrong = spawnSync(process.execPath, [main, '--nope'], { encoding: 'utf8' });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('natter --help');

    const flagsDir = mkdtempSync(join(tmpdir(), 'natter-cli-'));
    const env: NodeJS.ProcessEnv = { ...process.env, NATTER_DEMO_USERS: '0', NATTER_PUSH: '0' };
    delete env.PORT;
    delete env.NATTER_DATA_DIR;
    child = spawn(process.execPath, [main, '--port', '0', '--host', '127.0.0.1', '--data-dir', flagsDir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The banner and the JSON log line go out separately: wait for both, the log line complete.
    const out = await waitForOutput(
      child,
      /natter is listening[^\n]*\n[\s\S]*Health\s+http:|Health\s+http:[\s\S]*natter is listening[^\n]*\n/,
    );
    const listening = out.split('\n').find((line) => line.includes('natter is listening'));
    expect(JSON.parse(listening!)).toMatchObject({
      level: 30,
      msg: 'natter is listening',
      dataDir: flagsDir,
    });
    // The first start generated a secret into the data directory.
    expect(existsSync(join(flagsDir, 'token-secret'))).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    rmSync(flagsDir, { recursive: true, force: true });
  }, 60_000);
});
