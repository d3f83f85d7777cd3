import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_FRAME_SCHEMAS,
  ENTRY_SCHEMAS,
  jsonCodec,
  msgpackCodec,
  parseClientFrame,
  parseServerFrame,
  ROUTES,
  type RouteSpec,
  SERVER_FRAME_SCHEMAS,
  SyncEntrySchema,
} from '../src/index.js';
import { CLIENT_FRAME_SAMPLES, ENTRY_SAMPLES, ROUTE_SAMPLES, SERVER_FRAME_SAMPLES } from './samples.js';

const codecs = [msgpackCodec, jsonCodec];

/** Encodes and decodes a value with a codec, as a peer on the wire would see it. */
function overTheWire(codec: typeof msgpackCodec, value: unknown): unknown {
  const data = codec.encode(value);
  return codec.decode(data, codec.binary);
}

/**
 * Every frame kind, entry kind and HTTP body goes through both codecs and comes out of the shared schema
 * unchanged. A kind or route added without a sample here fails the "has a sample" checks.
 */
describe('every wire shape round-trips through both codecs with the shared schema', () => {
  it('has a sample of every client frame, server frame, entry kind and route', () => {
    expect(Object.keys(CLIENT_FRAME_SAMPLES).sort()).toEqual(Object.keys(CLIENT_FRAME_SCHEMAS).sort());
    expect(Object.keys(SERVER_FRAME_SAMPLES).sort()).toEqual(Object.keys(SERVER_FRAME_SCHEMAS).sort());
    expect(Object.keys(ENTRY_SAMPLES).sort()).toEqual(Object.keys(ENTRY_SCHEMAS).sort());
    expect(Object.keys(ROUTE_SAMPLES).sort()).toEqual(Object.keys(ROUTES).sort());
    for (const [name, route] of Object.entries(ROUTES as Record<string, RouteSpec>)) {
      const sample = ROUTE_SAMPLES[name as keyof typeof ROUTES];
      expect(sample.body !== undefined, `${name}: body sample`).toBe(route.body !== undefined);
      expect(sample.response !== undefined, `${name}: response sample`).toBe(route.response !== undefined);
    }
  });

  for (const codec of codecs) {
    it(`client frames (${codec.name})`, () => {
      for (const [t, sample] of Object.entries(CLIENT_FRAME_SAMPLES)) {
        const parsed = parseClientFrame(overTheWire(codec, sample));
        expect(parsed, t).toEqual({ ok: true, frame: sample });
      }
    });

    it(`server frames (${codec.name})`, () => {
      for (const [t, sample] of Object.entries(SERVER_FRAME_SAMPLES)) {
        const parsed = parseServerFrame(overTheWire(codec, sample));
        expect(parsed, t).toEqual({ ok: true, frame: sample });
      }
    });

    it(`sync entry kinds (${codec.name})`, () => {
      for (const [kind, sample] of Object.entries(ENTRY_SAMPLES)) {
        expect(v.parse(SyncEntrySchema, overTheWire(codec, sample)), kind).toEqual(sample);
      }
    });

    it(`HTTP request and response bodies (${codec.name})`, () => {
      for (const [name, route] of Object.entries(ROUTES as Record<string, RouteSpec>)) {
        const sample = ROUTE_SAMPLES[name as keyof typeof ROUTES];
        if (route.body)
          expect(v.parse(route.body, overTheWire(codec, sample.body)), `${name} body`).toEqual(sample.body);
        if (route.response) {
          expect(v.parse(route.response, overTheWire(codec, sample.response)), `${name} response`).toEqual(
            sample.response,
          );
        }
      }
    });
  }

  it('reads an entry of a kind this version does not know as one to skip, with its position', () => {
    expect(v.parse(SyncEntrySchema, { pos: 9, kind: 'poll.closed', anything: 1 })).toEqual({
      pos: 9,
      kind: 'poll.closed',
    });
    expect(() => v.parse(SyncEntrySchema, { pos: 9, kind: 'message' })).toThrow();
  });

  it('reports a server frame that fails the schema as NATTER_BAD_RESPONSE, and an unknown type as unknown', () => {
    expect(parseServerFrame({ t: 'ack', rid: 1, entry: { pos: 'x' }, duplicate: false })).toMatchObject({
      ok: false,
      rid: 1,
      error: { code: 'NATTER_BAD_RESPONSE' },
    });
    expect(parseServerFrame({ t: 'poll.update' })).toEqual({ ok: 'unknown', t: 'poll.update' });
  });
});
