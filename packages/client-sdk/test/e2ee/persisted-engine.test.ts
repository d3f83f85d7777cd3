import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTsMlsEngine, type MlsEngine } from '@natter/e2ee';
import { afterAll, describe, expect, it } from 'vitest';
import { openPersistedEngine } from '../../src/e2ee/persisted-engine.js';
import { LevelStore } from '../../src/level.js';
import { MemoryStore } from '../../src/stores/memory.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const text = new TextEncoder();
const read = new TextDecoder();
const alice = { userId: 'u_alice', deviceId: 'dev_a1' };

/** Bob's group with Alice's device in it, made directly with the engines (no server needed here). */
async function groupWith(aliceEngine: MlsEngine): Promise<MlsEngine> {
  const bob = await createTsMlsEngine({ device: { userId: 'u_bob', deviceId: 'dev_b1' } });
  await bob.createGroup('g_1');
  const [keyPackage] = await aliceEngine.generateKeyPackages(1);
  const pending = await bob.addDevices('g_1', [keyPackage!]);
  await bob.confirmCommit('g_1');
  await aliceEngine.joinFromWelcome(pending.welcome!);
  return bob;
}

describe('the persisted engine', () => {
  it('keeps decrypting after the client restarts on the same LevelDB store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-e2ee-'));
    dirs.push(dir);
    const first = new LevelStore(dir);
    await first.open();
    const engine = await openPersistedEngine({ store: first, device: alice });
    const bob = await groupWith(engine);
    const m1 = await bob.encrypt('g_1', text.encode('before the restart'));
    expect(read.decode((await engine.decrypt('g_1', m1)).plaintext)).toBe('before the restart');
    const m2 = await bob.encrypt('g_1', text.encode('while it was down'));
    await first.close();

    const second = new LevelStore(dir);
    await second.open();
    const restored = await openPersistedEngine({ store: second, device: alice });
    expect(restored.identity.signaturePublicKey).toEqual(engine.identity.signaturePublicKey);
    expect(restored.groups()).toEqual(['g_1']);
    expect(read.decode((await restored.decrypt('g_1', m2)).plaintext)).toBe('while it was down');
    // The decrypt of m1 was saved with its ratchet step: the restored device no longer holds that key.
    await expect(restored.decrypt('g_1', m1)).rejects.toMatchObject({ code: 'NATTER_E2EE_DECRYPT_FAILED' });
    await second.close();
  });

  it('saves a state-changing call before returning its result, and not at all for reads', async () => {
    const store = new MemoryStore();
    await store.open();
    const writes: number[] = [];
    const counting = {
      getE2eeState: (owner: string) => store.getE2eeState(owner),
      putE2eeState: async (owner: string, state: Uint8Array) => {
        writes.push(state.length);
        await store.putE2eeState(owner, state);
      },
    };
    const engine = await openPersistedEngine({ store: counting, device: alice });
    expect(writes).toHaveLength(1);
    await engine.createGroup('g_2');
    expect(writes).toHaveLength(2);
    const saved = await store.getE2eeState('u_alice/dev_a1');
    const restored = await createTsMlsEngine({ state: saved! });
    expect(restored.groups()).toEqual(['g_2']);
    engine.epoch('g_2');
    engine.members('g_2');
    engine.groups();
    expect(writes).toHaveLength(2);
  });

  it('fails the call when its state cannot be saved, so the caller never acts on an unsaved result', async () => {
    const store = new MemoryStore();
    await store.open();
    let failing = false;
    const flaky = {
      getE2eeState: (owner: string) => store.getE2eeState(owner),
      putE2eeState: async (owner: string, state: Uint8Array) => {
        if (failing) throw new Error('disk full');
        await store.putE2eeState(owner, state);
      },
    };
    const engine = await openPersistedEngine({ store: flaky, device: alice });
    failing = true;
    await expect(engine.createGroup('g_3')).rejects.toThrow('disk full');
    failing = false;
    await engine.generateKeyPackages(1);
    const restored = await createTsMlsEngine({ state: (await store.getE2eeState('u_alice/dev_a1'))! });
    expect(restored.unusedKeyPackages()).toBe(1);
  });
});
