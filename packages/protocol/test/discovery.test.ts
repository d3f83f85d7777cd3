import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DISCOVERY_LIMITS, parseDiscoveryAnswer, parseDiscoveryQuery, pingUrlFor } from '../src/index.js';

const candidate = {
  nodeId: 'node-a',
  wsUrl: 'wss://a.example/v1/ws',
  pingUrl: 'https://a.example/v1/ping',
  region: 'eu',
  load: 0.25,
};

describe('parseDiscoveryAnswer', () => {
  it('accepts an answer with candidates', () => {
    const answer = { wsUrl: candidate.wsUrl, region: 'eu', candidates: [candidate] };
    expect(parseDiscoveryAnswer(answer)).toEqual(answer);
  });

  it('accepts the answer of an older server (wsUrl and region only)', () => {
    expect(parseDiscoveryAnswer({ wsUrl: 'ws://127.0.0.1:1/v1/ws', region: 'local' })).toEqual({
      wsUrl: 'ws://127.0.0.1:1/v1/ws',
      region: 'local',
    });
  });

  it('drops fields it does not know, so they never reach a client', () => {
    const parsed = parseDiscoveryAnswer({
      wsUrl: candidate.wsUrl,
      region: 'eu',
      extra: 1,
      candidates: [{ ...candidate, __proto__: { polluted: true }, secret: 'x' }],
    });
    expect(parsed?.candidates?.[0]).toEqual(candidate);
    expect(Object.keys(parsed ?? {})).toEqual(['wsUrl', 'region', 'candidates']);
  });

  it('refuses URLs that are not WebSocket URLs, and ping URLs that are not HTTP', () => {
    expect(parseDiscoveryAnswer({ wsUrl: 'javascript:alert(1)', region: 'eu' })).toBeUndefined();
    expect(parseDiscoveryAnswer({ wsUrl: 'ws://', region: 'eu' })).toBeUndefined();
    const badPing = { ...candidate, pingUrl: 'file:///etc/passwd' };
    expect(
      parseDiscoveryAnswer({ wsUrl: candidate.wsUrl, region: 'eu', candidates: [badPing] }),
    ).toBeUndefined();
  });

  it('refuses negative or non-numeric loads, empty regions and too many candidates', () => {
    const bad = (c: object) =>
      parseDiscoveryAnswer({ wsUrl: candidate.wsUrl, region: 'eu', candidates: [c] });
    expect(bad({ ...candidate, load: -1 })).toBeUndefined();
    expect(bad({ ...candidate, load: '0.5' })).toBeUndefined();
    expect(bad({ ...candidate, region: '' })).toBeUndefined();
    const many = Array.from({ length: DISCOVERY_LIMITS.maxCandidates + 1 }, () => candidate);
    expect(parseDiscoveryAnswer({ wsUrl: candidate.wsUrl, region: 'eu', candidates: many })).toBeUndefined();
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        parseDiscoveryAnswer(value);
      }),
    );
  });
});

describe('parseDiscoveryQuery', () => {
  it('reads the region and the comma-separated failed nodes', () => {
    expect(parseDiscoveryQuery(new URLSearchParams('region=eu&failed=a,b,,c'))).toEqual({
      region: 'eu',
      failed: ['a', 'b', 'c'],
    });
  });

  it('reads an empty query as no preference', () => {
    expect(parseDiscoveryQuery(new URLSearchParams(''))).toEqual({});
    expect(parseDiscoveryQuery(new URLSearchParams('region='))).toEqual({});
  });

  it('refuses an overlong region and more reported nodes than allowed', () => {
    expect(parseDiscoveryQuery(new URLSearchParams(`region=${'r'.repeat(65)}`))).toBeUndefined();
    const ids = Array.from({ length: DISCOVERY_LIMITS.maxReported + 1 }, (_, i) => `n${i}`).join(',');
    expect(parseDiscoveryQuery(new URLSearchParams(`failed=${ids}`))).toBeUndefined();
  });
});

describe('pingUrlFor', () => {
  it('maps ws to http and wss to https on the same host', () => {
    expect(pingUrlFor('ws://127.0.0.1:8081/v1/ws')).toBe('http://127.0.0.1:8081/v1/ping');
    expect(pingUrlFor('wss://chat.example.com/v1/ws')).toBe('https://chat.example.com/v1/ping');
  });

  it('keeps a path prefix in front of the WebSocket path', () => {
    expect(pingUrlFor('wss://edge.example/eu-1/v1/ws')).toBe('https://edge.example/eu-1/v1/ping');
    expect(pingUrlFor('wss://edge.example/eu-1/chat', '/chat')).toBe('https://edge.example/eu-1/v1/ping');
  });

  it('answers undefined for anything but a ws(s) URL', () => {
    expect(pingUrlFor('https://a.example/v1/ws')).toBeUndefined();
    expect(pingUrlFor('not a url')).toBeUndefined();
  });
});
