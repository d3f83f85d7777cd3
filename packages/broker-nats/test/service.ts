import { connect } from 'node:net';

/**
 * Whether the service at `url` accepts TCP connections. When it does not and `CI` is not `'true'`, warns
 * loudly and answers false (the caller skips); under CI it answers true, so the tests run and fail.
 */
export async function serviceReachable(url: string, envVar: string, what: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const up = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  if (up || process.env.CI === 'true') return true;
  console.warn(
    `\n!!! SKIPPING ${what} tests: nothing listens at ${url}. Start it (bash .ci/services.sh) or set ${envVar} to a reachable server; with CI=true these tests never skip.\n`,
  );
  return false;
}
