import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKERS_CAP, defaultWorkers, MAX_WORKERS, parseCommand } from '../src/options.js';

describe('natter command line', () => {
  it('flags win over environment variables, which win over defaults', () => {
    const env = { PORT: '9000', NATTER_HOST: '0.0.0.0', NATTER_DATA_DIR: '/var/natter' };
    expect(parseCommand(['--port', '7000', '-d', 'here'], env, false)).toEqual({
      kind: 'run',
      options: { port: 7000, host: '0.0.0.0', dataDir: resolve('here'), prettyLogs: false, workers: 1 },
    });
    expect(parseCommand([], {}, true)).toEqual({
      kind: 'run',
      options: { port: 8080, host: '127.0.0.1', dataDir: resolve('./data'), prettyLogs: true, workers: 1 },
    });
  });

  it('logs pretty on a terminal and JSON otherwise, unless --log-format says', () => {
    const run = (argv: string[], tty: boolean) => {
      const parsed = parseCommand(argv, {}, tty);
      return parsed.kind === 'run' ? parsed.options.prettyLogs : undefined;
    };
    expect(run([], true)).toBe(true);
    expect(run([], false)).toBe(false);
    expect(run(['--log-format', 'json'], true)).toBe(false);
    expect(run(['--log-format', 'pretty'], false)).toBe(true);
  });

  it('answers help and version, and refuses unknown flags and bad values with a hint', () => {
    expect(parseCommand(['--help'], {}, false)).toEqual({ kind: 'help' });
    expect(parseCommand(['-v'], {}, false)).toEqual({ kind: 'version' });
    const unknown = parseCommand(['--prot', '1'], {}, false);
    expect(unknown.kind === 'error' && unknown.message).toMatch(/--prot[\s\S]*natter --help/);
    expect(parseCommand(['--port', '99999'], {}, false)).toMatchObject({ kind: 'error' });
    expect(parseCommand(['--port', 'abc'], {}, false)).toMatchObject({ kind: 'error' });
    expect(parseCommand(['--log-format', 'xml'], {}, false)).toMatchObject({ kind: 'error' });
  });

  it('runs one process while media or push is on, else one worker per core up to the cap, unless NATTER_WORKERS says', () => {
    const off = { NATTER_MEDIA: '0', NATTER_PUSH: '0' };
    expect(defaultWorkers({}, 16)).toBe(1);
    expect(defaultWorkers({ NATTER_MEDIA: '0' }, 16)).toBe(1);
    expect(defaultWorkers(off, 2)).toBe(2);
    expect(defaultWorkers(off, 64)).toBe(DEFAULT_WORKERS_CAP);
    const workers = (value: string) => {
      const parsed = parseCommand([], { ...off, NATTER_WORKERS: value }, false);
      return parsed.kind === 'run' ? parsed.options.workers : parsed.kind;
    };
    expect(workers('3')).toBe(3);
    expect(workers(String(MAX_WORKERS))).toBe(MAX_WORKERS);
    for (const bad of ['0', '-1', '1.5', 'two', String(MAX_WORKERS + 1), ' 2'])
      expect(workers(bad)).toBe('error');
  });
});
