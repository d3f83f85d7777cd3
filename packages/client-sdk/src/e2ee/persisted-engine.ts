import type { createTsMlsEngine, DeviceAuthenticator, DeviceRef, MlsEngine } from '@natter/e2ee';

/** Where a device's engine state is kept: the part of the client store that holds secrets. */
export interface E2eeStateStore {
  getE2eeState(owner: string): Promise<Uint8Array | undefined>;
  putE2eeState(owner: string, state: Uint8Array): Promise<void>;
}

/** The key a device's engine state is stored under. */
export function stateOwner(device: DeviceRef): string {
  return `${device.userId}/${device.deviceId}`;
}

/** Options of {@link openPersistedEngine}. */
export interface PersistedEngineOptions {
  store: E2eeStateStore;
  device: DeviceRef;
  /** Checks every device the engine meets against the published device lists. @default accept all */
  authenticate?: DeviceAuthenticator;
  /** Makes the engine (tests inject one to count saves or fail them). @default `createTsMlsEngine` */
  createEngine?: typeof createTsMlsEngine;
}

/**
 * The device's MLS engine, restored from the client store (or made, and saved, on first use), whose every
 * state-changing call resolves only after the new state is written. Decrypting changes state too (the
 * ratchet deletes used keys), so it is saved as well: a device that crashed after showing a message must not
 * come back with keys for it (forward secrecy) nor without the keys for the next one.
 */
export async function openPersistedEngine(options: PersistedEngineOptions): Promise<MlsEngine> {
  const { store, device } = options;
  // Loaded on first use: an app that never turns E2EE on never downloads the MLS library.
  const create = options.createEngine ?? (await import('@natter/e2ee')).createTsMlsEngine;
  const owner = stateOwner(device);
  const saved = await store.getE2eeState(owner);
  const auth = options.authenticate ? { authenticate: options.authenticate } : {};
  const engine = saved ? await create({ device, state: saved, ...auth }) : await create({ device, ...auth });
  if (!saved) await store.putE2eeState(owner, await engine.exportState());
  return persisting(engine, (state) => store.putE2eeState(owner, state));
}

/** Wraps an engine so each state-changing call saves the state before its result is returned. */
function persisting(engine: MlsEngine, save: (state: Uint8Array) => Promise<void>): MlsEngine {
  // Saves run one at a time in call order, so the last write is always the newest state.
  let saving: Promise<unknown> = Promise.resolve();
  const saveNow = (): Promise<void> => {
    const run = saving.then(async () => save(await engine.exportState()));
    saving = run.catch(() => undefined);
    return run;
  };
  const changing =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      let result: R;
      try {
        result = await call(...args);
      } catch (err) {
        // A failed call may still have changed state (a decrypt that ratcheted before failing): save anyway.
        await saveNow();
        throw err;
      }
      await saveNow();
      return result;
    };
  return {
    identity: engine.identity,
    generateKeyPackages: changing((count: number) => engine.generateKeyPackages(count)),
    lastResortKeyPackage: changing(() => engine.lastResortKeyPackage()),
    unusedKeyPackages: () => engine.unusedKeyPackages(),
    createGroup: changing((groupId: string) => engine.createGroup(groupId)),
    addDevices: changing((groupId: string, keyPackages: readonly Uint8Array[]) =>
      engine.addDevices(groupId, keyPackages),
    ),
    removeDevices: changing((groupId: string, devices: readonly DeviceRef[]) =>
      engine.removeDevices(groupId, devices),
    ),
    update: changing((groupId: string) => engine.update(groupId)),
    confirmCommit: changing((groupId: string) => engine.confirmCommit(groupId)),
    discardCommit: changing((groupId: string) => engine.discardCommit(groupId)),
    pendingCommit: (groupId) => engine.pendingCommit(groupId),
    processCommit: changing((groupId: string, commit: Uint8Array) => engine.processCommit(groupId, commit)),
    joinFromWelcome: changing((welcome: Uint8Array) => engine.joinFromWelcome(welcome)),
    exportGroupInfo: (groupId) => engine.exportGroupInfo(groupId),
    joinByExternalCommit: changing((groupInfo: Uint8Array) => engine.joinByExternalCommit(groupInfo)),
    encrypt: changing(
      (groupId: string, plaintext: Uint8Array, options?: { authenticatedData?: Uint8Array }) =>
        engine.encrypt(groupId, plaintext, options),
    ),
    decrypt: changing((groupId: string, ciphertext: Uint8Array) => engine.decrypt(groupId, ciphertext)),
    epoch: (groupId) => engine.epoch(groupId),
    members: (groupId) => engine.members(groupId),
    groups: () => engine.groups(),
    exportState: () => engine.exportState(),
  };
}
