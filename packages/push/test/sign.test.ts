import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../src/index.js';

const secret = 'k'.repeat(40);
const body = JSON.stringify({ id: 'n1', notification: { type: 'natter.message', count: 2 } });
const now = 1_800_000_000_000;

describe('webhook signatures', () => {
  it('verifies a signature made over the raw body with the shared secret', () => {
    const header = signWebhook(body, secret, now);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature({ body, header, secret, nowMs: now })).toBe(true);
    expect(verifyWebhookSignature({ body: Buffer.from(body), header, secret, nowMs: now + 10_000 })).toBe(
      true,
    );
  });

  it('refuses a changed body, a wrong secret, or a changed timestamp', () => {
    const header = signWebhook(body, secret, now);
    expect(verifyWebhookSignature({ body: body.replace('2', '3'), header, secret, nowMs: now })).toBe(false);
    expect(verifyWebhookSignature({ body, header, secret: 'x'.repeat(40), nowMs: now })).toBe(false);
    const moved = header.replace('t=1800000000', 't=1800000001');
    expect(verifyWebhookSignature({ body, header: moved, secret, nowMs: now })).toBe(false);
  });

  it('refuses a replay older than the tolerance (5 minutes by default)', () => {
    const header = signWebhook(body, secret, now);
    expect(verifyWebhookSignature({ body, header, secret, nowMs: now + 299_000 })).toBe(true);
    expect(verifyWebhookSignature({ body, header, secret, nowMs: now + 301_000 })).toBe(false);
    expect(
      verifyWebhookSignature({ body, header, secret, nowMs: now + 301_000, toleranceSeconds: 600 }),
    ).toBe(true);
  });

  it('accepts any of several secrets, for rotation', () => {
    const header = signWebhook(body, secret, now);
    expect(verifyWebhookSignature({ body, header, secret: ['new'.repeat(14), secret], nowMs: now })).toBe(
      true,
    );
  });

  it('returns false for malformed headers instead of throwing', () => {
    for (const header of [
      undefined,
      null,
      '',
      't=abc,v1=00',
      'v1=' + '0'.repeat(64),
      't=1800000000',
      'garbage',
      'x'.repeat(5000),
    ]) {
      expect(verifyWebhookSignature({ body, header, secret, nowMs: now }), String(header)).toBe(false);
    }
  });
});
