/**
 * Runs the real reference server (`packages/cli/dist/cli.js`, what `npm start` runs) with the
 * built web demo, on a fresh data directory and a free port.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = join(root, 'packages/cli/dist/cli.js');
const demo = join(root, 'examples/web-demo/dist/index.html');

/** A running reference server. */
export interface ReferenceServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Builds the server and the demo when they have not been built yet (CI builds before testing). */
export function ensureBuilt(): void {
  if (existsSync(main) && existsSync(demo)) return;
  execFileSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only', '--filter=@natter/cli...'], {
    cwd: root,
    stdio: 'ignore',
  });
}

/** Starts the server; resolves once it printed its URLs. */
export async function startReferenceServer(env: Record<string, string> = {}): Promise<ReferenceServer> {
  ensureBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), 'natter-demo-e2e-'));
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { ...process.env, PORT: '0', NATTER_DATA_DIR: dataDir, NATTER_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the reference server did not start:\n${out}`)), 30_000);
    const check = () => {
      const match = /Web demo\s+(http:\/\/\S+?)\/?\s/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve(match[1]!);
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`the reference server exited with ${code}:\n${out}`)));
  });
  return {
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
