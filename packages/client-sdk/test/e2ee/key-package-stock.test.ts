import { createTsMlsEngine, type DevicePublicIdentity, readMlsHeader } from '@natter/e2ee';
import { describe, expect, it } from 'vitest';
import { createDeviceAuthenticator } from '../../src/e2ee/device-authenticator.js';
import { type KeyPackageDirectory, KeyPackageStock } from '../../src/e2ee/key-package-stock.js';
import { MemoryStore } from '../../src/stores/memory.js';

/** The server's side of one device's KeyPackages, in memory: claims take one single-use package or the last resort. */
class DeviceKeyPackages implements KeyPackageDirectory {
  singleUse: Uint8Array[] = [];
  lastResort: Uint8Array | undefined;
  uploads = 0;
  async stock() {
    return this.singleUse.length;
  }
  async upload(batch: { keyPackages: readonly Uint8Array[]; lastResort?: Uint8Array }) {
    this.uploads++;
    this.singleUse.push(...batch.keyPackages);
    if (batch.lastResort) this.lastResort = batch.lastResort;
    return this.singleUse.length;
  }
  claim(): Uint8Array | undefined {
    return this.singleUse.shift() ?? this.lastResort;
  }
}

async function setup(options: { target?: number; low?: number } = {}) {
  const engine = await createTsMlsEngine({ device: { userId: 'u_1', deviceId: 'dev_1' } });
  const server = new DeviceKeyPackages();
  const meta = new MemoryStore();
  await meta.open();
  const stock = new KeyPackageStock(engine, server, meta, { metaKey: 'e2ee.lastResort.dev_1', ...options });
  return { engine, server, stock };
}

describe('KeyPackage stock', () => {
  it('uploads the target and a last-resort KeyPackage once, then nothing while the stock is healthy', async () => {
    const { engine, server, stock } = await setup({ target: 8, low: 3 });
    expect(await stock.replenish()).toBe(8);
    expect(server.singleUse).toHaveLength(8);
    expect(server.lastResort && readMlsHeader(server.lastResort).wireFormat).toBe('key_package');
    expect(engine.unusedKeyPackages()).toBe(8);
    expect(await stock.replenish()).toBe(0);
    expect(server.uploads).toBe(1);
  });

  it('tops up to the target only when the stock falls under the low mark', async () => {
    const { server, stock } = await setup({ target: 8, low: 3 });
    await stock.replenish();
    for (let i = 0; i < 5; i++) server.claim();
    expect(await stock.replenish()).toBe(0);
    server.claim();
    expect(await stock.replenish()).toBe(6);
    expect(server.singleUse).toHaveLength(8);
  });

  it('shares one run between concurrent calls, so a burst of low-stock notices uploads once', async () => {
    const { server, stock } = await setup({ target: 5, low: 2 });
    const results = await Promise.all([stock.replenish(), stock.replenish(), stock.replenish()]);
    expect(results).toEqual([5, 5, 5]);
    expect(server.singleUse).toHaveLength(5);
    expect(server.uploads).toBe(1);
  });

  it('refuses bounds that make no sense', async () => {
    await expect(setup({ target: 2, low: 3 })).rejects.toThrow(RangeError);
  });
});

describe('device authentication against published device lists', () => {
  const key = (n: number) => new Uint8Array(32).fill(n);
  const device = (deviceId: string, n: number): DevicePublicIdentity => ({
    userId: 'u_bob',
    deviceId,
    signaturePublicKey: key(n),
  });

  it('accepts a published device, refuses a wrong key and an unpublished device', async () => {
    let lookups = 0;
    const authenticate = createDeviceAuthenticator(async () => {
      lookups++;
      return [device('dev_1', 1)];
    });
    expect(await authenticate(device('dev_1', 1))).toBe(true);
    expect(await authenticate(device('dev_1', 2))).toBe(false);
    expect(await authenticate(device('dev_9', 1))).toBe(false);
    expect(await authenticate(device('dev_9', 1))).toBe(false);
    // One first fetch, one refetch per unknown identity; an identity refused after a fresh list costs nothing more.
    expect(lookups).toBe(3);
  });

  it('refetches once for a device published after the list was cached', async () => {
    const published = [device('dev_1', 1)];
    const authenticate = createDeviceAuthenticator(async () => [...published]);
    expect(await authenticate(device('dev_1', 1))).toBe(true);
    published.push(device('dev_2', 2));
    expect(await authenticate(device('dev_2', 2))).toBe(true);
  });

  it('works inside the engine: a KeyPackage of an unpublished device cannot be added', async () => {
    const bob = await createTsMlsEngine({ device: { userId: 'u_bob', deviceId: 'dev_1' } });
    const ada = await createTsMlsEngine({
      device: { userId: 'u_ada', deviceId: 'dev_a' },
      authenticate: createDeviceAuthenticator(async (userId) => (userId === 'u_bob' ? [] : [])),
    });
    await ada.createGroup('g_1');
    const [keyPackage] = await bob.generateKeyPackages(1);
    await expect(ada.addDevices('g_1', [keyPackage!])).rejects.toMatchObject({
      code: 'NATTER_E2EE_KEY_PACKAGE_INVALID',
    });
  });
});
