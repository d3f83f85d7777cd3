import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** What the command runs with: flags first, then environment variables, then defaults. */
export interface CliOptions {
  port: number;
  host: string;
  dataDir: string;
  /** Human-readable logs (a terminal) or JSON lines (anything else). */
  prettyLogs: boolean;
  /**
   * Worker processes serving the port (`NATTER_WORKERS`); 1 is one process, more is the multicore mode
   * (docs/scaling.md). @default see {@link defaultWorkers}
   */
  workers: number;
}

/** The default's cap: past it the primary, the store's only writer, is the limit (docs/scaling.md). */
export const DEFAULT_WORKERS_CAP = 8;
/** The most workers `NATTER_WORKERS` may ask for. */
export const MAX_WORKERS = 64;

/**
 * Workers when `NATTER_WORKERS` is unset: the host's cores up to {@link DEFAULT_WORKERS_CAP}, but one while
 * media or push is on (each keeps a SQLite file and background work that one process must own; the
 * multicore mode runs without them).
 */
export function defaultWorkers(
  env: Readonly<Record<string, string | undefined>>,
  cores = availableParallelism(),
): number {
  if (env.NATTER_MEDIA !== '0' || env.NATTER_PUSH !== '0') return 1;
  return Math.max(1, Math.min(cores, DEFAULT_WORKERS_CAP));
}

/** The outcome of reading the command line: run, print help or the version, or refuse. */
export type ParsedCommand =
  | { kind: 'run'; options: CliOptions }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string };

/** `natter --help`. */
export const HELP = `natter: the natter reference server (chat API, WebSocket and web demo on embedded SQLite)

Usage: natter [options]

Options:
  -p, --port <n>        HTTP and WebSocket port (env PORT; default 8080; 0 picks a free one)
  -H, --host <addr>     address to bind (env NATTER_HOST; default 127.0.0.1; 0.0.0.0 exposes it)
  -d, --data-dir <dir>  SQLite store, generated token secret and keys (env NATTER_DATA_DIR; default ./data)
      --log-format <f>  pretty or json (default: pretty on a terminal, json otherwise)
  -h, --help            show this help
  -v, --version         show the version

On first start a token secret is generated into the data directory (or set NATTER_TOKEN_SECRET).
Every other setting is an environment variable: see the README of @natter/cli.
`;

/** Reads argv and the environment into options. */
export function parseCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  isTty: boolean,
): ParsedCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string', short: 'H' },
        'data-dir': { type: 'string', short: 'd' },
        'log-format': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: 'error', message: `${(err as Error).message}\nRun natter --help for the options.` };
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const portText = (values.port as string | undefined) ?? env.PORT ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    return { kind: 'error', message: `--port must be 0-65535, got ${portText}` };
  }
  const format = values['log-format'] as string | undefined;
  if (format !== undefined && format !== 'pretty' && format !== 'json') {
    return { kind: 'error', message: `--log-format must be pretty or json, got ${format}` };
  }
  const workersText = env.NATTER_WORKERS;
  const workers = workersText === undefined || workersText === '' ? defaultWorkers(env) : Number(workersText);
  if (
    !Number.isInteger(workers) ||
    workers < 1 ||
    workers > MAX_WORKERS ||
    !/^\d*$/.test(workersText ?? '')
  ) {
    return { kind: 'error', message: `NATTER_WORKERS must be 1-${MAX_WORKERS}, got ${workersText}` };
  }
  return {
    kind: 'run',
    options: {
      workers,
      port,
      host: (values.host as string | undefined) ?? env.NATTER_HOST ?? '127.0.0.1',
      dataDir: resolve((values['data-dir'] as string | undefined) ?? env.NATTER_DATA_DIR ?? './data'),
      prettyLogs: format === undefined ? isTty : format === 'pretty',
    },
  };
}
