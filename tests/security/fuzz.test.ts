import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloseCode,
  ErrorCode,
  FrameDecodeError,
  isErrorCode,
  jsonCodec,
  msgpackCodec,
  type ServerFrame,
} from '@natter/protocol';
import {
  type ClientConnection,
  createNatterServer,
  type NatterServer,
  silentLogger,
} from '@natter/server-core';
import { internalsOf } from '@natter/server-core/internals';
import { createSqliteStorage } from '@natter/storage-sqlite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../helpers/server.js';

/**
 * Generated cases in all: half frames through a live session, 40% mutated payloads, 10% HTTP bodies.
 * `npm test` runs 100,000; `npm run test:fuzz` (NATTER_FUZZ_CASES=1000000) the long run.
 */
const CASES = Number(process.env.NATTER_FUZZ_CASES ?? 100_000);
const FRAME_CASES = Math.floor(CASES * 0.5);
const MUTATION_CASES = Math.floor(CASES * 0.4);
const HTTP_CASES = Math.floor(CASES * 0.1);
/** Frames fed to one session before a fresh one is opened (fewer than the bad-frame limit). */
const FRAMES_PER_SESSION = 10;

/** A connection that records what the session answers, so frames can be fed without sockets. */
class RecordingConnection implements ClientConnection {
  frames: ServerFrame[] = [];
  closedWith: number | undefined;
  send(frame: ServerFrame): void {
    this.frames.push(frame);
  }
  close(code: number): void {
    this.closedWith = code;
  }
  bufferedBytes(): number {
    return 0;
  }
}

let server: NatterServer;
let dir: string;
let userId: string;
let channelId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'natter-fuzz-'));
  server = createNatterServer({
    storage: createSqliteStorage({ path: join(dir, 'f.db'), synchronous: 'normal' }),
    tokens: { secret: TEST_SECRET },
    logger: silentLogger(),
    limits: { sendsPerSecond: 1e6, sendBurst: 1e6 },
    // One session per run, thousands of runs for one user: the connect rate is not what this fuzzes.
    resourceLimits: { connectsPerUser: { perSecond: 1e6, burst: 1e6 } },
  });
  await server.start();
  const now = Date.now();
  for (const id of ['u_fuzz', 'u_peer']) {
    await internalsOf(server).storage.accounts.createUser({
      id,
      username: id,
      displayName: id,
      passwordHash: null,
      createdAt: now,
    });
  }
  userId = 'u_fuzz';
  channelId = (await internalsOf(server).service.openDirect('u_fuzz', 'u_peer')).id;
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Frames shaped like the real ones, with every field possibly wrong. */
const frameArb = fc.record(
  {
    t: fc.oneof(
      fc.constantFrom(
        'send',
        'sync',
        'history',
        'ping',
        'typing',
        'read',
        'received',
        'presence.get',
        'status',
      ),
      fc.string(),
      fc.anything(),
    ),
    rid: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string(), fc.constant(undefined)),
    channelId: fc.oneof(fc.constant('CHANNEL'), fc.string(), fc.anything()),
    clientMsgId: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.anything()),
    text: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()),
    after: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.anything()),
    epoch: fc.oneof(fc.string(), fc.anything()),
    seq: fc.oneof(fc.nat(), fc.anything()),
    userIds: fc.oneof(fc.array(fc.string()), fc.anything()),
    status: fc.oneof(fc.constantFrom('online', 'away', 'invisible'), fc.anything()),
    __proto__: fc.anything(),
    constructor: fc.anything(),
  },
  { requiredKeys: ['t'] },
);

function checkAnswers(conn: RecordingConnection): void {
  for (const frame of conn.frames) {
    if (frame.t === 'error') expect(isErrorCode(frame.code)).toBe(true);
  }
  if (conn.closedWith !== undefined) expect([CloseCode.POLICY_VIOLATION]).toContain(conn.closedWith);
}

describe('fuzzing (fast-check)', () => {
  it(`answers ${FRAME_CASES} generated frames with typed frames only, never crashing or polluting prototypes`, async () => {
    const memoryBefore = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { minLength: FRAMES_PER_SESSION, maxLength: FRAMES_PER_SESSION }),
        fc.constantFrom(msgpackCodec, jsonCodec),
        async (frames, codec) => {
          const conn = new RecordingConnection();
          const session = server.accept({ userId }, 'dev_fuzz', conn);
          for (const frame of frames) {
            const raw = JSON.parse(
              JSON.stringify(frame, (_k, v) => (v === 'CHANNEL' ? channelId : v)) ?? 'null',
            );
            let decoded: unknown;
            try {
              decoded = codec.decode(codec.encode(raw) as never, codec.binary);
            } catch (err) {
              expect(err).toBeInstanceOf(FrameDecodeError);
              continue;
            }
            session.onFrame(decoded);
          }
          // Let the requests settle (storage work included) before checking the answers.
          for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
          checkAnswers(conn);
          session.onClose(1000);
        },
      ),
      { numRuns: Math.ceil(FRAME_CASES / FRAMES_PER_SESSION) },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('t');
    // Memory stays flat: the heap after tens of thousands of frames is within a generous bound.
    global.gc?.();
    expect(process.memoryUsage().heapUsed - memoryBefore).toBeLessThan(200 * 1024 * 1024);
  }, 300_000);

  it(`answers ${MUTATION_CASES} mutated MessagePack and JSON payloads with a close code or a typed answer`, () => {
    const seedFrames = [
      msgpackCodec.encode({
        t: 'send',
        rid: 1,
        channelId: 'g_x',
        clientMsgId: 'c',
        text: 'hello',
      }) as Uint8Array,
      new TextEncoder().encode(jsonCodec.encode({ t: 'sync', rid: 2, after: 0 }) as string),
    ];
    fc.assert(
      fc.property(
        fc.nat(1),
        fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(40),
        (which, edits, cut) => {
          const base = seedFrames[which]!;
          const bytes = Uint8Array.from(base.subarray(0, Math.max(1, base.length - cut)));
          for (const [i, b] of edits) bytes[i % bytes.length] = b;
          const codec = which === 0 ? msgpackCodec : jsonCodec;
          try {
            codec.decode(bytes, codec.binary);
          } catch (err) {
            expect(err).toBeInstanceOf(FrameDecodeError);
            expect([CloseCode.PROTOCOL_ERROR, CloseCode.INVALID_PAYLOAD]).toContain(
              (err as FrameDecodeError).closeCode,
            );
          }
        },
      ),
      { numRuns: MUTATION_CASES },
    );
  }, 300_000);

  it(`answers ${HTTP_CASES} generated HTTP bodies with a status and an error code, never a 500`, async () => {
    const paths = [
      '/v1/auth/signup',
      '/v1/auth/login',
      '/v1/auth/refresh',
      '/v1/groups',
      '/v1/channels/direct',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        async (path, body) => {
          const res = await server.fetch(
            new Request(`http://127.0.0.1${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-forwarded-for': '127.0.0.9' },
              body,
            }),
          );
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) {
            const payload = (await res.json()) as { error: { code: string } };
            expect(isErrorCode(payload.error.code)).toBe(true);
            expect(payload.error.code).not.toBe(ErrorCode.INTERNAL);
          } else {
            await res.arrayBuffer();
          }
        },
      ),
      { numRuns: HTTP_CASES },
    );
  }, 300_000);
});
