import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

/** What the run happened on, and which versions it measured: ratios are only comparable with these. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.versions.node,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    fdLimit: fdLimit(),
  };
}

function fdLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    return Number(line?.split(/\s+/)[3]) || null;
  } catch {
    return null;
  }
}

const require = createRequire(import.meta.url);
const NAMES = [
  '@natter/protocol',
  '@natter/server-core',
  '@natter/storage-sqlite',
  '@natter/storage-memory',
  'ws',
  'socket.io',
  'socket.io-client',
  'better-sqlite3',
  'msgpackr',
];

export function packageVersions() {
  const out = {};
  for (const name of NAMES) {
    try {
      out[name] = require(`${name}/package.json`).version;
    } catch {
      out[name] = null;
    }
  }
  return out;
}
