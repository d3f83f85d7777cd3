import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/options.js';

describe('natter command line', () => {
  it('flags win over environment variables, which win over defaults', () => {
    const env = { PORT: '9000', NATTER_HOST: '0.0.0.0', NATTER_DATA_DIR: '/var/natter' };
    expect(parseCommand(['--port', '7000', '-d', 'here'], env, false)).toEqual({
      kind: 'run',
      options: { port: 7000, host: '0.0.0.0', dataDir: resolve('here'), prettyLogs: false },
    });
    expect(parseCommand([], {}, true)).toEqual({
      kind: 'run',
      options: { port: 8080, host: '127.0.0.1', dataDir: resolve('./data'), prettyLogs: true },
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
});
