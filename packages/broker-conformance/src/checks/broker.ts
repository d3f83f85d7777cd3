import { expect } from 'vitest';
import { type BrokerCheckContext, defineCheck } from '../harness.js';
import { bytes, inbox, sleep, text, until, within } from '../wait.js';

const check = (
  group: string,
  title: string,
  run: (context: BrokerCheckContext) => Promise<void>,
  requires?: (context: BrokerCheckContext) => boolean,
) => defineCheck<BrokerCheckContext>(group, title, run, requires);

/** Random bytes from a seeded generator, so a failure reproduces. */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Every check of the Broker contract, by name. */
export const brokerChecks = {
  roundTrip: check(
    'publish and subscribe',
    'a message published on one node reaches a subscriber on another',
    async (c) => {
      const [a, b] = [await c.open(), await c.open()];
      const topic = c.topic();
      const box = inbox();
      await b.subscribe(topic, box.handler);
      // No pause: `subscribe` resolving means the subscription is active.
      await a.publish(topic, bytes('hello'));
      await until(() => box.received.length === 1, c.deliveryWithinMs, 'the message to arrive');
      expect(text(box.received[0]!)).toBe('hello');
      await sleep(c.quietMs);
      expect(box.received, 'delivered exactly once').toHaveLength(1);
    },
  ),

  selfDelivery: check(
    'publish and subscribe',
    'a subscriber on the publishing node receives too',
    async (c) => {
      const a = await c.open();
      const topic = c.topic();
      const box = inbox();
      await a.subscribe(topic, box.handler);
      await a.publish(topic, bytes('me'));
      await until(() => box.received.length === 1, c.deliveryWithinMs, 'the message to arrive');
      expect(text(box.received[0]!)).toBe('me');
    },
  ),

  everySubscriber: check(
    'publish and subscribe',
    'every subscriber of a topic receives each message once',
    async (c) => {
      const [a, b, d] = [await c.open(), await c.open(), await c.open()];
      const topic = c.topic();
      const [first, second, third] = [inbox(), inbox(), inbox()];
      await b.subscribe(topic, first.handler);
      await b.subscribe(topic, second.handler);
      await d.subscribe(topic, third.handler);
      await a.publish(topic, bytes('all'));
      await until(
        () => first.received.length + second.received.length + third.received.length === 3,
        c.deliveryWithinMs,
        'all three subscribers to receive',
      );
      await sleep(c.quietMs);
      for (const box of [first, second, third]) expect(box.received.map(text)).toEqual(['all']);
    },
  ),

  isolation: check('topics', 'a subscriber receives only its own topic', async (c) => {
    const [a, b] = [await c.open(), await c.open()];
    const [t1, t2, t3] = [c.topic('one'), c.topic('two'), c.topic('three')];
    const [one, two] = [inbox(), inbox()];
    await b.subscribe(t1, one.handler);
    await b.subscribe(t2, two.handler);
    await a.publish(t3, bytes('nobody'));
    await a.publish(t1, bytes('for one'));
    await until(() => one.received.length === 1, c.deliveryWithinMs, 'the message on the first topic');
    await sleep(c.quietMs);
    expect(one.received.map(text)).toEqual(['for one']);
    expect(two.received).toHaveLength(0);
  }),

  prefixTopics: check('topics', 'a topic that is a prefix of another is a different topic', async (c) => {
    const [a, b] = [await c.open(), await c.open()];
    const base = c.topic('p');
    const [short, long] = [inbox(), inbox()];
    await b.subscribe(base, short.handler);
    await b.subscribe(`${base}.x`, long.handler);
    await a.publish(`${base}.x`, bytes('long'));
    await a.publish(base, bytes('short'));
    await until(
      () => short.received.length === 1 && long.received.length === 1,
      c.deliveryWithinMs,
      'one message per topic',
    );
    await sleep(c.quietMs);
    expect(short.received.map(text)).toEqual(['short']);
    expect(long.received.map(text)).toEqual(['long']);
  }),

  manyTopics: check('topics', 'two hundred topics at once each get exactly their own message', async (c) => {
    const [a, b] = [await c.open(), await c.open()];
    const topics = Array.from({ length: 200 }, (_, i) => c.topic(`many${i}`));
    const boxes = topics.map(() => inbox());
    await Promise.all(topics.map((t, i) => b.subscribe(t, boxes[i]!.handler)));
    await Promise.all(topics.map((t, i) => a.publish(t, bytes(`m${i}`))));
    await until(
      () => boxes.every((box) => box.received.length >= 1),
      c.deliveryWithinMs,
      'every topic to get its message',
    );
    await sleep(c.quietMs);
    boxes.forEach((box, i) => {
      expect(box.received.map(text), topics[i]).toEqual([`m${i}`]);
    });
  }),

  order: check('ordering', 'messages published in order on one topic arrive in that order', async (c) => {
    const [a, b] = [await c.open(), await c.open()];
    const topic = c.topic();
    const box = inbox();
    await b.subscribe(topic, box.handler);
    // Published back to back without awaiting each, as ClusterSink does.
    await Promise.all(Array.from({ length: 500 }, (_, i) => a.publish(topic, bytes(String(i)))));
    await until(() => box.received.length === 500, c.deliveryWithinMs, '500 messages to arrive');
    expect(box.received.map((p) => Number(text(p)))).toEqual(Array.from({ length: 500 }, (_, i) => i));
  }),

  unsubscribe: check('unsubscribe', 'unsubscribing stops delivery to that handler', async (c) => {
    const [a, b] = [await c.open(), await c.open()];
    const topic = c.topic();
    const box = inbox();
    const unsubscribe = await b.subscribe(topic, box.handler);
    await a.publish(topic, bytes('before'));
    await until(() => box.received.length === 1, c.deliveryWithinMs, 'the first message');
    await unsubscribe();
    await a.publish(topic, bytes('after'));
    await sleep(c.quietMs);
    expect(box.received.map(text)).toEqual(['before']);
    await unsubscribe(); // a second call is harmless
  }),

  unsubscribeOne: check(
    'unsubscribe',
    'unsubscribing one handler leaves the others on the topic',
    async (c) => {
      const [a, b] = [await c.open(), await c.open()];
      const topic = c.topic();
      const [gone, stays] = [inbox(), inbox()];
      const unsubscribe = await b.subscribe(topic, gone.handler);
      await b.subscribe(topic, stays.handler);
      await unsubscribe();
      await a.publish(topic, bytes('x'));
      await until(() => stays.received.length === 1, c.deliveryWithinMs, 'the remaining handler to receive');
      await sleep(c.quietMs);
      expect(gone.received).toHaveLength(0);
      expect(stays.received.map(text)).toEqual(['x']);
    },
  ),

  resubscribe: check('unsubscribe', 'a topic can be subscribed again after unsubscribing', async (c) => {
    const [a, b] = [await c.open(), await c.open()];
    const topic = c.topic();
    const box = inbox();
    // Unsubscribe and subscribe again without waiting in between: the later call wins.
    const first = await b.subscribe(topic, box.handler);
    const unsubscribing = first();
    const again = b.subscribe(topic, box.handler);
    await unsubscribing;
    await again;
    await a.publish(topic, bytes('back'));
    await until(() => box.received.length === 1, c.deliveryWithinMs, 'the message after resubscribing');
    await sleep(c.quietMs);
    expect(box.received.map(text)).toEqual(['back']);
  }),

  payloads: check(
    'payloads',
    'payload bytes arrive intact: 0 bytes, every byte value, and 64 KiB',
    async (c) => {
      const [a, b] = [await c.open(), await c.open()];
      const topic = c.topic();
      const box = inbox();
      await b.subscribe(topic, box.handler);
      const payloads = [
        new Uint8Array(0),
        Uint8Array.of(0),
        Uint8Array.from({ length: 256 }, (_, i) => i),
        pseudoRandomBytes(64 * 1024, 7),
        // A view into a larger buffer: only the view's bytes may travel.
        new Uint8Array(pseudoRandomBytes(300, 9).buffer, 100, 100),
      ];
      for (const p of payloads) await a.publish(topic, p);
      await until(() => box.received.length === payloads.length, c.deliveryWithinMs, 'every payload');
      box.received.forEach((got, i) => {
        expect(got, `payload ${i}`).toBeInstanceOf(Uint8Array);
        expect(got.byteLength, `payload ${i} length`).toBe(payloads[i]!.byteLength);
        expect(Buffer.from(got).equals(Buffer.from(payloads[i]!)), `payload ${i} bytes`).toBe(true);
      });
    },
  ),

  throwingHandler: check(
    'errors',
    'a handler that throws is reported through onError and later messages still arrive',
    async (c) => {
      const [a, b] = [await c.open(), await c.open()];
      const errors: Error[] = [];
      b.onError((err) => errors.push(err));
      const topic = c.topic();
      const box = inbox();
      let calls = 0;
      await b.subscribe(topic, (payload) => {
        calls++;
        if (calls === 1) throw new Error('handler bug');
        box.handler(payload);
      });
      await a.publish(topic, bytes('boom'));
      await a.publish(topic, bytes('fine'));
      await until(() => box.received.length === 1, c.deliveryWithinMs, 'the message after the throw');
      expect(box.received.map(text)).toEqual(['fine']);
      await until(() => errors.length > 0, c.deliveryWithinMs, 'onError to report the throwing handler');
      expect(errors[0]).toBeInstanceOf(Error);
    },
  ),

  publishAfterClose: check('lifecycle', 'publish and subscribe after close reject', async (c) => {
    const a = await c.open();
    await a.close();
    await expect(within(a.publish(c.topic(), bytes('late')), c.errorWithinMs, 'publish')).rejects.toThrow();
    await expect(
      within(
        a.subscribe(c.topic(), () => {}),
        c.errorWithinMs,
        'subscribe',
      ),
    ).rejects.toThrow();
  }),

  closeTwice: check('lifecycle', 'close is idempotent and stops delivery', async (c) => {
    const [a, b] = [await c.open(), await c.open()];
    const topic = c.topic();
    const box = inbox();
    await b.subscribe(topic, box.handler);
    await b.close();
    await b.close();
    await a.publish(topic, bytes('to nobody'));
    await sleep(c.quietMs);
    expect(box.received).toHaveLength(0);
  }),

  unreachable: check(
    'errors',
    'a broker whose server is unreachable rejects publish or reports through onError, within a bound',
    async (c) => {
      const broker = c.unreachable!();
      const errors: Error[] = [];
      broker.onError((err) => errors.push(err));
      let rejected: unknown;
      const publishing = broker.publish(c.topic(), bytes('lost')).catch((err: unknown) => {
        rejected = err;
      });
      await until(
        () => rejected !== undefined || errors.length > 0,
        c.errorWithinMs,
        'publish to reject or onError to fire',
      );
      if (rejected !== undefined) expect(rejected).toBeInstanceOf(Error);
      else expect(errors[0]).toBeInstanceOf(Error);
      // Nothing hangs: the pending publish settles and close completes within the bound.
      await within(broker.close(), c.errorWithinMs, 'close of an unreachable broker');
      await within(publishing, c.errorWithinMs, 'the pending publish to settle after close');
    },
    (c) => c.unreachable !== undefined,
  ),
};

/** Names of the broker checks. */
export type BrokerCheckName = keyof typeof brokerChecks;
