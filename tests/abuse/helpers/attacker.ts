import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What an attacker process did. */
export interface FloodStats {
  opened: number;
  framesSent: number;
  /** Sockets closed by the server, by close code. */
  closes: Record<string, number>;
  /** Upgrades refused, by HTTP status. */
  refused: Record<string, number>;
  /** Most sockets open at once. */
  maxOpen: number;
  openAtEnd: number;
}

/** Options of one attack, run by flood.mjs in its own process. */
export interface FloodConfig {
  wsUrl: string;
  token: string;
  mode: 'read' | 'history' | 'connect';
  sockets: number;
  frames: number;
  channelId?: string;
  durationMs: number;
  /** Never read from the sockets. */
  pause?: boolean;
}

const script = fileURLToPath(new URL('./flood.mjs', import.meta.url));

/** Starts an attack; resolves with its counts when `durationMs` is over. */
export function flood(config: FloodConfig): Promise<FloodStats> {
  // At the lowest CPU priority: a real attacker is on another machine, and on a small test machine its
  // own CPU use would otherwise be what slows the server down, not the attack.
  const child = spawn('nice', ['-n', '19', process.execPath, script, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as FloodStats);
      else reject(new Error(`flood exited with ${code} and no stats`));
    });
  });
}
