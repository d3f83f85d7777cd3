import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { generateVapidKeys, loadVapidKeys } from '../src/vapid.js';

describe('VAPID keys', () => {
  it('generates keys that web-push accepts, and keeps them stable in the data directory', () => {
    const keys = generateVapidKeys();
    expect(Buffer.from(keys.publicKey, 'base64url')).toHaveLength(65);
    expect(Buffer.from(keys.privateKey, 'base64url')).toHaveLength(32);
    expect(() =>
      webpush.setVapidDetails('mailto:test@example.com', keys.publicKey, keys.privateKey),
    ).not.toThrow();

    const dir = mkdtempSync(join(tmpdir(), 'natter-vapid-'));
    try {
      const file = join(dir, 'vapid.json');
      const first = loadVapidKeys(file);
      expect(loadVapidKeys(file)).toEqual(first);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
