import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy on 127.0.0.1 that adds a fixed delay to every byte in each direction. */
export interface DelayProxy {
  readonly port: number;
  /** Where connections go; connections arriving before it is set are refused. */
  setTarget(port: number): void;
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk `delayMs` later; equal delays keep the order of the chunks. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
  from.on('error', () => to.destroy());
}

/**
 * Simulates distance on one machine: a node behind this proxy is `2 × oneWayMs` further away in round-trip
 * time, for HTTP pings and WebSockets alike. Connection setup to the proxy itself is not delayed.
 */
export async function startDelayProxy(oneWayMs: number): Promise<DelayProxy> {
  let target: number | undefined;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (target === undefined) {
      client.destroy();
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.setNoDelay(true);
      s.on('close', () => open.delete(s));
    }
    pipeDelayed(client, upstream, oneWayMs);
    pipeDelayed(upstream, client, oneWayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    setTarget(p) {
      target = p;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
