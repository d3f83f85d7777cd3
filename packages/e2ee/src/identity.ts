/**
 * Device identities: how a natter device names itself inside its MLS credential, and the fingerprints and
 * safety numbers apps show so people can check that a device is who it says.
 *
 * The credential is an MLS "basic" credential whose identity bytes are the UTF-8 JSON array
 * `["natter-device/1", userId, deviceId]`: unambiguous for any id characters, and versioned.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import type { DevicePublicIdentity, DeviceRef } from './port.js';

const TAG = 'natter-device/1';
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The credential identity bytes of a device. */
export function encodeDeviceCredential(device: DeviceRef): Uint8Array {
  return utf8.encode(JSON.stringify([TAG, device.userId, device.deviceId]));
}

/** The device a credential names, or undefined when the bytes are not a natter device credential. */
export function decodeDeviceCredential(identity: Uint8Array): DeviceRef | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8.decode(identity));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== TAG) return undefined;
  const [, userId, deviceId] = parsed as unknown[];
  if (typeof userId !== 'string' || typeof deviceId !== 'string' || !userId || !deviceId) return undefined;
  return { userId, deviceId };
}

/** True when two refs name the same device. */
export function sameDevice(a: DeviceRef, b: DeviceRef): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId;
}

// Signal's numeric fingerprint: many hash iterations make finding a key whose 30 digits collide with a
// target's cost 5200× more per try (https://signal.org/docs/ "safety numbers" design).
const ITERATIONS = 5200;
const FINGERPRINT_VERSION = new Uint8Array([0, 1]);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The fingerprint of a device's identity key: 30 decimal digits (six groups of five) derived from its user
 * id, device id and signature public key. Show it as `12345 67890 ...` next to the device in the device list;
 * two people compare a device's fingerprint on both screens (or the safety number of their conversation).
 */
export function deviceFingerprint(identity: DevicePublicIdentity): string {
  const id = encodeDeviceCredential(identity);
  let hash = sha512(concat(FINGERPRINT_VERSION, identity.signaturePublicKey, id));
  for (let i = 1; i < ITERATIONS; i++) hash = sha512(concat(hash, identity.signaturePublicKey));
  const groups: string[] = [];
  for (let g = 0; g < 6; g++) {
    // Five bytes per group, read as a 40-bit number, reduced to five digits (as Signal does).
    let n = 0;
    for (let b = 0; b < 5; b++) n = n * 256 + hash[g * 5 + b]!;
    groups.push(String(n % 100_000).padStart(5, '0'));
  }
  return groups.join(' ');
}

/**
 * The safety number of two users' devices: both fingerprint lists, each sorted, the two halves ordered so
 * both sides compute the same 60+ digits. Equal on both phones means no device was slipped in between them.
 * `a` and `b` are each user's device identities (all of them, as the conversation's members list shows).
 */
export function safetyNumber(a: readonly DevicePublicIdentity[], b: readonly DevicePublicIdentity[]): string {
  const side = (devices: readonly DevicePublicIdentity[]) => devices.map(deviceFingerprint).sort().join(' ');
  return [side(a), side(b)].sort().join(' | ');
}
