import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatterServerOptions, PushContext } from '@natter/server-core';
import { api, startServer, type TestServer, type TestUser } from '../../../../tests/helpers/server.js';
import { RawClient } from '../../../../tests/helpers/ws-client.js';
import { createPushGateway, type NatterPushGateway, type PushGatewayOptions } from '../../src/index.js';

export { api, signup, type TestUser } from '../../../../tests/helpers/server.js';
export { RawClient };

/** A real natter server (SQLite storage, HTTP and WebSocket) with the push gateway plugged in. */
export interface PushTestServer extends TestServer {
  gateway: NatterPushGateway;
  /** The push store file. */
  dataPath: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a natter server whose push gateway keeps its store next to the chat store. */
export async function startPushServer(
  push: Omit<PushGatewayOptions, 'dataPath'>,
  overrides: Partial<NatterServerOptions> = {},
): Promise<PushTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'natter-push-'));
  const dataPath = join(dir, 'push.db');
  const factory = createPushGateway({ workerIntervalMs: 50, onlineHoldMs: 1_000, ...push, dataPath });
  let gateway: NatterPushGateway | undefined;
  const ts = await startServer(
    {
      presence: { graceMs: 200 },
      push: (context: PushContext) => {
        gateway = factory(context);
        return gateway;
      },
      ...overrides,
    },
    dir,
  );
  return { ...ts, gateway: gateway!, dataPath };
}

/** Opens (or finds) the 1-1 channel between two users. */
export async function directChannel(url: string, a: TestUser, b: TestUser): Promise<string> {
  const res = await api<{ channel: { id: string } }>(url, a, 'POST', '/v1/channels/direct', { userId: b.id });
  if (res.status !== 200 && res.status !== 201) throw new Error(`direct channel: ${res.status}`);
  return res.body.channel.id;
}

let sent = 0;

/** Sends a text message and waits for its ack; returns the stored message's id and seq. */
export async function sendText(
  client: RawClient,
  channelId: string,
  text: string,
): Promise<{ id: string; seq: number }> {
  const answer = await client.request({
    t: 'send',
    channelId,
    clientMsgId: `cm-${++sent}-${Date.now()}`,
    text,
  });
  if (answer.t !== 'ack') throw new Error(`send failed: ${JSON.stringify(answer)}`);
  return { id: answer.entry.message.id, seq: answer.entry.message.seq };
}
