/**
 * `npm run cluster`: starts an API node and three chat nodes as child processes on this machine, against
 * Redis (broker, presence, discovery) and PostgreSQL (messages). Ctrl-C stops them all: chat nodes drain
 * first. Configuration by environment variable, see README.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfig } from './config.js';

const config = readConfig();
const nodeScript = fileURLToPath(new URL('./node.js', import.meta.url));
// Every node must verify every other node's tokens: one secret for the whole cluster.
const secret = process.env.NATTER_TOKEN_SECRET ?? randomBytes(48).toString('base64url');
const children = new Map<ChildProcess, string>();
let stopping = false;

function start(role: 'api' | 'chat', port: number): void {
  const name = `${role}:${port}`;
  const child = spawn(process.execPath, [nodeScript], {
    env: { ...process.env, NATTER_ROLE: role, NATTER_PORT: String(port), NATTER_TOKEN_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(child, name);
  const prefix = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) => {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) out.write(`[${name.padEnd(9)}] ${line}\n`);
    });
  };
  prefix(child.stdout!, process.stdout);
  prefix(child.stderr!, process.stderr);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) process.stderr.write(`[${name}] exited (${signal ?? code}); the others keep running\n`);
    if (stopping && children.size === 0) process.exit(0);
  });
}

function stopAll(): void {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nstopping: chat nodes drain, then everything exits\n');
  if (children.size === 0) process.exit(0);
  for (const child of children.keys()) child.kill('SIGTERM');
  // Whatever has not exited after the drain window and a margin is killed.
  setTimeout(() => {
    for (const child of children.keys()) child.kill('SIGKILL');
    process.exit(1);
  }, 10_000).unref();
}

if (config.store === 'sqlite') mkdirSync(dirname(config.sqlitePath), { recursive: true });
start('api', config.apiPort);
for (const port of config.chatPorts) start('chat', port);
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

const api = `http://${config.publicHost}:${config.apiPort}`;
process.stdout.write(
  [
    '',
    'natter cluster',
    `  API + discovery  ${api}/v1   (GET ${api}/v1/discovery)`,
    ...config.chatPorts.map((p) => `  chat node        ws://${config.publicHost}:${p}/v1/ws`),
    `  broker           ${config.broker === 'redis' ? config.redisUrl : config.natsUrl} (${config.broker})`,
    `  presence, nodes  ${config.redisUrl}`,
    `  messages         ${config.store === 'postgres' ? `${config.pgUrl} schema ${config.pgSchema}` : config.sqlitePath}`,
    '  ctrl-c stops all',
    '',
    '',
  ].join('\n'),
);
