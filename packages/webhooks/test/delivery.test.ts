import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatterEvent } from '@natter/protocol';
import { signWebhook } from '@natter/protocol/signature';
import { verifyEvent } from '@natter/server-client';
import { createMetrics, silentLogger } from '@natter/server-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEventWebhooks,
  type EventWebhooks,
  type EventWebhooksOptions,
  retryDelay,
} from '../src/index.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';

const SECRET = 'receiver-secret-receiver-secret-0123';
const context = { logger: silentLogger(), metrics: createMetrics({ defaults: false }) };

let counter = 0;
function event(text: string, at: number): NatterEvent {
  counter++;
  const id = `evt_${String(at).padStart(13, '0')}${String(counter).padStart(6, '0')}`;
  return {
    id,
    type: 'message.created',
    createdAt: at,
    data: {
      message: {
        id: `m${counter}`,
        channelId: 'g1',
        seq: counter,
        senderId: 'u1',
        clientMsgId: null,
        kind: 'text',
        text,
        mentions: [],
        system: null,
        createdAt: at,
      },
    },
  };
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Setup {
  sinks: EventWebhooks[];
  dir: string;
  clock: { now: number };
  open(overrides?: Partial<EventWebhooksOptions>): Promise<EventWebhooks>;
}

async function setup(
  receivers: Array<{ name: string; receiver: Receiver }>,
  base: Partial<EventWebhooksOptions> = {},
): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'natter-webhooks-'));
  const clock = { now: 1_800_000_000_000 };
  const sinks: EventWebhooks[] = [];
  cleanup.push(async () => {
    for (const sink of sinks) await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    sinks,
    dir,
    clock,
    async open(overrides = {}) {
      const sink = createEventWebhooks({
        dataPath: join(dir, 'events.db'),
        endpoints: receivers.map(({ name, receiver }) => ({ name, url: receiver.url, secret: SECRET })),
        timeoutMs: 300,
        workerIntervalMs: 60_000, // passes are driven by flush() in these tests
        now: () => clock.now,
        ...base,
        ...overrides,
      })(context);
      await sink.start();
      sinks.push(sink);
      return sink;
    },
  };
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver(SECRET);
  cleanup.push(() => r.close());
  return r;
}

describe('event webhooks: delivery', () => {
  it('a receiver that answers 500, then times out, then is down for an hour loses nothing', async () => {
    const app = await receiver();
    const s = await setup([{ name: 'app', receiver: app }]);
    const sink = await s.open();
    const sent = [1, 2, 3, 4, 5].map((i) => event(`m${i}`, s.clock.now));
    sink.publish(sent);

    app.mode = 'error';
    await sink.flush();
    expect(app.requests).toBe(5);
    expect(app.events).toHaveLength(0);
    expect((await sink.stats()).pending).toEqual({ app: 5 });

    app.mode = 'hang';
    s.clock.now += 10 * 60_000;
    await sink.flush(); // each request runs into the 300 ms timeout
    expect(app.events).toHaveLength(0);

    await app.down();
    for (let minute = 0; minute < 60; minute += 10) {
      s.clock.now += 10 * 60_000;
      await sink.flush(); // refused connections: retried later
    }
    expect((await sink.stats()).pending).toEqual({ app: 5 });

    app.mode = 'ok';
    await app.up();
    s.clock.now += 10 * 60_000;
    await sink.flush();
    expect(new Set(app.events.map((e) => e.id))).toEqual(new Set(sent.map((e) => e.id)));
    expect(app.rejected).toBe(0);
    expect((await sink.stats()).pending).toEqual({});
  });

  it('retries with growing, jittered delays, not before they are due', async () => {
    expect(retryDelay(1, 1_000, 600_000, () => 0)).toBe(500);
    expect(retryDelay(1, 1_000, 600_000, () => 1)).toBe(1_000);
    expect(retryDelay(5, 1_000, 600_000, () => 1)).toBe(16_000);
    expect(retryDelay(30, 1_000, 600_000, () => 1)).toBe(600_000);

    const app = await receiver();
    const s = await setup([{ name: 'app', receiver: app }]);
    const sink = await s.open();
    sink.publish([event('once', s.clock.now)]);
    app.mode = 'error';
    await sink.flush();
    expect(app.requests).toBe(1);
    await sink.flush(); // not due yet: no second request at the same instant
    expect(app.requests).toBe(1);
    s.clock.now += 1_000;
    await sink.flush();
    expect(app.requests).toBe(2);
  });

  it("a hanging endpoint does not hold up another endpoint's deliveries", async () => {
    const slow = await receiver();
    const fast = await receiver();
    slow.mode = 'hang';
    const s = await setup(
      [
        { name: 'slow', receiver: slow },
        { name: 'fast', receiver: fast },
      ],
      { timeoutMs: 5_000, workerIntervalMs: 20, now: Date.now },
    );
    const sink = await s.open({ now: Date.now });
    const started = Date.now();
    sink.publish([1, 2, 3, 4, 5, 6].map((i) => event(`e${i}`, Date.now())));
    while (fast.events.length < 6 && Date.now() - started < 4_000)
      await new Promise((r) => setTimeout(r, 10));
    expect(fast.events).toHaveLength(6);
    // Well before the slow endpoint's requests time out.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(slow.events).toHaveLength(0);
  });

  it('keeps the queue bounded per endpoint by dropping the oldest, which stay replayable', async () => {
    const app = await receiver();
    await app.down();
    const s = await setup([{ name: 'app', receiver: app }], { maxPendingPerEndpoint: 3 });
    const sink = await s.open();
    const sent = [1, 2, 3, 4, 5].map((i) => event(`b${i}`, s.clock.now));
    sink.publish(sent);
    await sink.flush();
    expect((await sink.stats()).pending).toEqual({ app: 3 });
    const page = await sink.list(undefined, 10);
    expect(page.events.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    const after = await sink.list(sent[1]!.id, 2);
    expect(after).toEqual({ events: [sent[2], sent[3]], hasMore: true });
    await app.up();
    s.clock.now += 10 * 60_000;
    await sink.flush();
    expect(app.events.map((e) => e.id)).toEqual(sent.slice(2).map((e) => e.id));
  });

  it('what was owed survives a restart of the server and goes out once it is back', async () => {
    const app = await receiver();
    await app.down();
    const s = await setup([{ name: 'app', receiver: app }]);
    const first = await s.open();
    const sent = [event('before restart', s.clock.now)];
    first.publish(sent);
    await first.flush();
    await first.stop();
    await app.up();
    s.clock.now += 10 * 60_000;
    const second = await s.open();
    await second.flush();
    expect(app.events.map((e) => e.id)).toEqual(sent.map((e) => e.id));
  });

  it('gives up after giveUpAfterMs, and the event stays in the log', async () => {
    const app = await receiver();
    app.mode = 'error';
    const s = await setup([{ name: 'app', receiver: app }], { giveUpAfterMs: 60_000 });
    const sink = await s.open();
    const sent = [event('doomed', s.clock.now)];
    sink.publish(sent);
    await sink.flush();
    s.clock.now += 61_000;
    await sink.flush();
    expect((await sink.stats()).pending).toEqual({});
    expect((await sink.list(undefined, 5)).events.map((e) => e.id)).toEqual([sent[0]!.id]);
  });

  it('sends only the event types an endpoint asked for', async () => {
    const app = await receiver();
    const s = await setup([{ name: 'app', receiver: app }]);
    const sink = await s.open({
      endpoints: [{ name: 'app', url: app.url, secret: SECRET, events: ['member.added'] }],
    });
    const added: NatterEvent = {
      id: 'evt_zz1',
      type: 'member.added',
      createdAt: s.clock.now,
      data: { channelId: 'g1', actorId: 'u1', userIds: ['u2'] },
    };
    sink.publish([event('not wanted', s.clock.now), added]);
    await sink.flush();
    expect(app.events.map((e) => e.type)).toEqual(['member.added']);
  });
});

describe('event webhooks: verification by receivers', () => {
  const body = JSON.stringify(event('signed', Date.now()));
  const headers = (value: string) => ({ 'x-natter-signature': value });

  it('accepts a correctly signed body and returns the typed event', () => {
    const verified = verifyEvent({ body, headers: headers(signWebhook(body, SECRET)), secret: SECRET });
    expect(verified.type).toBe('message.created');
  });

  it('refuses a tampered body, another secret, an old timestamp and a body that is no event', () => {
    const signature = signWebhook(body, SECRET);
    expect(() =>
      verifyEvent({ body: body.replace('signed', 'forged'), headers: headers(signature), secret: SECRET }),
    ).toThrow(/signature/);
    expect(() =>
      verifyEvent({ body, headers: headers(signature), secret: 'another-secret-another-secret' }),
    ).toThrow(/signature/);
    const old = signWebhook(body, SECRET, Date.now() - 3_600_000);
    expect(() => verifyEvent({ body, headers: headers(old), secret: SECRET })).toThrow(/signature/);
    const junk = '{"hello":"world"}';
    expect(() =>
      verifyEvent({ body: junk, headers: headers(signWebhook(junk, SECRET)), secret: SECRET }),
    ).toThrow(/not a known natter event/);
  });
});
