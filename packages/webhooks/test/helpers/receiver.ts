import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type NatterEvent, verifyEvent } from '@natter/server-client';

/** How the receiver answers: 200, 500, or never (a request that hangs until the sender times out). */
export type ReceiverMode = 'ok' | 'error' | 'hang';

/** A real webhook receiver on 127.0.0.1 that verifies every request like an app would. */
export interface Receiver {
  readonly url: string;
  /** Verified events in arrival order (with repeats: delivery is at-least-once). */
  readonly events: NatterEvent[];
  /** Requests that failed verification. */
  readonly rejected: number;
  /** Requests seen, answered or not. */
  readonly requests: number;
  mode: ReceiverMode;
  /** Stops listening: connections are refused, as for an endpoint that is down. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => resolve(body));
  });
}

export async function startReceiver(secret: string): Promise<Receiver> {
  const events: NatterEvent[] = [];
  let rejected = 0;
  let requests = 0;
  const state = { mode: 'ok' as ReceiverMode };
  const server: Server = createServer(async (req, res) => {
    requests++;
    const body = await readBody(req);
    if (state.mode === 'hang') return; // never answers
    if (state.mode === 'error') {
      res.writeHead(500).end('boom');
      return;
    }
    try {
      events.push(verifyEvent({ body, headers: req.headers, secret }));
      res.writeHead(204).end();
    } catch {
      rejected++;
      res.writeHead(401).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/natter-events`,
    events,
    get rejected() {
      return rejected;
    },
    get requests() {
      return requests;
    },
    get mode() {
      return state.mode;
    },
    set mode(value) {
      state.mode = value;
    },
    async down() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
    async up() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      server.closeAllConnections();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}
