import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNatterServer, type NatterServer, silentLogger } from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';
import { expect } from 'vitest';
import { TEST_SECRET } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

/** A natter node that is not listening: the framework under test serves it. */
export async function startNatter(): Promise<NatterServer> {
  const natter = createNatterServer({
    storage: createMemoryStorage(),
    tokens: { secret: TEST_SECRET },
    logger: silentLogger(),
  });
  await natter.start();
  return natter;
}

/** The base URL of a Node server listening on 127.0.0.1. */
export function baseUrlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function post(url: string, body: unknown, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

interface SessionBody {
  user: { id: string };
  accessToken: string;
}

/**
 * What every framework mount must do, through the framework's own server: signup and login with a JSON
 * body (after the framework's body parser), an authenticated call, health, the app's own JSON route
 * beside natter's, and chat over a WebSocket on the same port.
 */
export async function expectNatterWorksBeside(baseUrl: string, appRoute: string): Promise<void> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const alice = await post(`${baseUrl}/v1/auth/signup`, {
    username: `alice${suffix}`,
    password: 'correct horse',
  });
  expect(alice.status).toBe(201);
  const bob = await post(`${baseUrl}/v1/auth/signup`, {
    username: `bob${suffix}`,
    password: 'correct horse',
  });
  expect(bob.status).toBe(201);
  const aliceSession = alice.body as SessionBody;
  const bobSession = bob.body as SessionBody;

  const login = await post(`${baseUrl}/v1/auth/login`, {
    username: `alice${suffix}`,
    password: 'correct horse',
  });
  expect(login.status).toBe(200);
  const wrong = await post(`${baseUrl}/v1/auth/login`, { username: `alice${suffix}`, password: 'wrong' });
  expect(wrong.status).toBe(401);

  const me = await fetch(`${baseUrl}/v1/me`, {
    headers: { authorization: `Bearer ${aliceSession.accessToken}` },
  });
  expect(me.status).toBe(200);
  expect(((await me.json()) as { user: { username: string } }).user.username).toBe(`alice${suffix}`);
  expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
  expect((await fetch(`${baseUrl}/metrics`)).headers.get('content-type')).toContain('text/plain');

  // The app's own route still gets its parsed JSON body.
  const echoed = await post(`${baseUrl}${appRoute}`, { hello: 'app' });
  expect(echoed).toEqual({ status: 200, body: { echoed: { hello: 'app' } } });

  const direct = await post(
    `${baseUrl}/v1/channels/direct`,
    { userId: bobSession.user.id },
    aliceSession.accessToken,
  );
  expect(direct.status).toBe(200);
  const channelId = (direct.body as { channel: { id: string } }).channel.id;

  // WebSocket upgrades on the framework's HTTP server.
  const aliceWs = await RawClient.connect(baseUrl, aliceSession.accessToken);
  const bobWs = await RawClient.connect(baseUrl, bobSession.accessToken);
  try {
    const ack = await aliceWs.request({
      t: 'send',
      channelId,
      clientMsgId: 'm1',
      text: 'hi through the framework',
    });
    expect(ack.t).toBe('ack');
    const deadline = Date.now() + 5_000;
    let texts: string[] = [];
    while (Date.now() < deadline && !texts.includes('hi through the framework')) {
      texts = bobWs
        .entries()
        .flatMap((e) => (e.kind === 'message' && e.message.kind === 'text' ? [e.message.text] : []));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(texts).toContain('hi through the framework');
  } finally {
    aliceWs.socket.close();
    bobWs.socket.close();
  }
}
