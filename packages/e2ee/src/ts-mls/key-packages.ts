/**
 * KeyPackages on both sides: the ones this device makes (single-use and last-resort, all signed with the
 * device's identity key so every leaf of the device shows the same fingerprint) and the ones it is handed
 * to add other devices.
 */
import {
  type CiphersuiteImpl,
  defaultCapabilities,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  type KeyPackage,
} from 'ts-mls';
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { E2eeErrorCode, e2eeError } from '../errors.js';
import { encodeDeviceCredential } from '../identity.js';
import type { DeviceRef } from '../port.js';
import type { EngineState, OwnKeyPackage } from './engine-state.js';
import { leavesOf } from './members.js';
import { decodeKeyPackageMessage } from './messages.js';
import { SUITE } from './suite.js';

/** A day, in seconds. */
export const DAY = 86_400;

/** Makes a KeyPackage of the device, valid from an hour ago (peers' clocks run behind) for `lifetimeDays`. */
export async function makeKeyPackage(
  device: EngineState,
  impl: CiphersuiteImpl,
  lifetimeDays: number,
  lastResort: boolean,
): Promise<OwnKeyPackage> {
  const now = Math.floor(Date.now() / 1000);
  const notAfter = now + lifetimeDays * DAY;
  const made = await generateKeyPackageWithKey(
    { credentialType: 'basic', identity: encodeDeviceCredential(device) },
    defaultCapabilities(),
    { notBefore: BigInt(now - 3600), notAfter: BigInt(notAfter) },
    [],
    { signKey: device.signaturePrivateKey, publicKey: device.signaturePublicKey },
    impl,
  );
  const ref = await makeKeyPackageRef(made.publicPackage, impl.hash);
  return { ...made, ref, lastResort, notAfter };
}

/** A KeyPackage as the `MLSMessage` bytes the server stores. */
export function keyPackageMessage(kp: KeyPackage): Uint8Array {
  return encodeMlsMessage({ keyPackage: kp, wireformat: 'mls_key_package', version: 'mls10' });
}

/**
 * Forgets private keys of KeyPackages expired for a day: no validating peer adds them any more, so no
 * Welcome can need them (the day covers Welcomes still queued and clock skew).
 */
export function pruneExpired(keyPackages: OwnKeyPackage[]): void {
  const horizon = Date.now() / 1000 - DAY;
  const keep = keyPackages.filter((k) => k.notAfter > horizon);
  keyPackages.splice(0, keyPackages.length, ...keep);
}

/**
 * A claimed KeyPackage, checked for what ts-mls does not say clearly. Its signatures, lifetime, uniqueness
 * in the tree and the authenticator's verdict are checked by ts-mls when it makes the commit (once: checking
 * here too made a 100-device add about twice as slow in the bench).
 */
export function claimedKeyPackage(bytes: Uint8Array): { keyPackage: KeyPackage; device: DeviceRef } {
  const keyPackage = decodeKeyPackageMessage(bytes);
  if (keyPackage.cipherSuite !== SUITE)
    throw e2eeError(
      E2eeErrorCode.KEY_PACKAGE_INVALID,
      `KeyPackage of cipher suite ${keyPackage.cipherSuite}`,
    );
  const leaf = leavesOf([{ nodeType: 'leaf', leaf: keyPackage.leafNode }])[0];
  if (!leaf)
    throw e2eeError(E2eeErrorCode.KEY_PACKAGE_INVALID, 'KeyPackage credential is not a natter device');
  return { keyPackage, device: { userId: leaf.userId, deviceId: leaf.deviceId } };
}
