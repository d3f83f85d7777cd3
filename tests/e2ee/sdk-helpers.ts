/**
 * Devices for the SDK's end-to-end encryption tests: real `ChatClient`s with `e2ee` on, over real WebSockets
 * to an in-process server, each recording what it decrypted and what it could not.
 */
import { ChatClient, type ClientStore, type DecryptionFailedEvent } from '@natter/client';
import WebSocket from 'ws';

export const PASSWORD = 'correct horse battery staple';

/** One device: a client, the texts it read per channel, and its decryption failures. */
export interface TestDevice {
  client: ChatClient;
  texts: Map<string, string[]>;
  failures: DecryptionFailedEvent[];
  /** Errors the client reported (a failed background step shows here). */
  errors: Error[];
}

export function device(url: string, store?: ClientStore): TestDevice {
  const client = new ChatClient({
    url,
    WebSocket: WebSocket as never,
    backoff: { baseMs: 20, maxMs: 300 },
    requestTimeoutMs: 20_000,
    e2ee: { keyPackageTarget: 5 },
    ...(store ? { store } : {}),
  });
  const d: TestDevice = { client, texts: new Map(), failures: [], errors: [] };
  client.on('error', (err) => d.errors.push(err));
  client.on('message', ({ message, encrypted }) => {
    if (!encrypted) return;
    const list = d.texts.get(message.channelId) ?? [];
    list.push(message.text);
    d.texts.set(message.channelId, list);
  });
  client.on('decryptionFailed', (event) => d.failures.push(event));
  return d;
}

/** Signs up (first device) or logs in (another device of the same user), connects, and waits for E2EE. */
export async function online(d: TestDevice, username: string, signup: boolean): Promise<TestDevice> {
  if (signup) await d.client.signup(username, PASSWORD);
  else await d.client.login(username, PASSWORD);
  await d.client.connect();
  await d.client.whenSynced();
  await d.client.e2ee();
  return d;
}

export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const read = (d: TestDevice, channelId: string) => d.texts.get(channelId) ?? [];

/** The devices a test file opened (`track` returns its argument), all closed by `closeAll` at the end. */
export function deviceTracker(): { track: (d: TestDevice) => TestDevice; closeAll: () => Promise<void> } {
  const devices: TestDevice[] = [];
  return {
    track: (d) => {
      devices.push(d);
      return d;
    },
    closeAll: async () => {
      for (const d of devices.splice(0)) await d.client.close();
    },
  };
}
