/** The devices of a ts-mls ratchet tree: leaves to natter devices and back, and what a commit changed. */
import type { ClientState, LeafNode, RatchetTree } from 'ts-mls';
import { decodeDeviceCredential, sameDevice } from '../identity.js';
import type { DevicePublicIdentity, DeviceRef } from '../port.js';

/** A device at its leaf. */
export interface Leaf extends DevicePublicIdentity {
  readonly leafIndex: number;
}

/** The device a leaf node names; undefined for a credential that is not a natter device (never admitted). */
export function deviceOfLeaf(leaf: LeafNode): DevicePublicIdentity | undefined {
  if (leaf.credential.credentialType !== 'basic') return undefined;
  const device = decodeDeviceCredential(leaf.credential.identity);
  return device && { ...device, signaturePublicKey: leaf.signaturePublicKey };
}

/** Every device of a tree, in leaf order (leaves sit at the even node indices). */
export function leavesOf(tree: RatchetTree): Leaf[] {
  const out: Leaf[] = [];
  for (let node = 0; node < tree.length; node += 2) {
    const entry = tree[node];
    if (entry?.nodeType !== 'leaf') continue;
    const device = deviceOfLeaf(entry.leaf);
    if (device) out.push({ ...device, leafIndex: node / 2 });
  }
  return out;
}

/** This device's leaf index in a group state. */
export function ownLeafIndex(state: ClientState): number {
  return state.privatePath.leafIndex;
}

/** The devices in `after` and not in `before`, and the other way round (a re-keyed device is both). */
export function membershipChange(
  before: RatchetTree,
  after: RatchetTree,
): { added: DeviceRef[]; removed: DeviceRef[] } {
  const key = (l: Leaf) => `${l.userId}\u0000${l.deviceId}\u0000${l.signaturePublicKey.join(',')}`;
  const was = new Map(leavesOf(before).map((l) => [key(l), l]));
  const now = new Map(leavesOf(after).map((l) => [key(l), l]));
  const ref = (l: Leaf): DeviceRef => ({ userId: l.userId, deviceId: l.deviceId });
  const added = [...now].filter(([k]) => !was.has(k)).map(([, l]) => ref(l));
  const removed = [...was].filter(([k]) => !now.has(k)).map(([, l]) => ref(l));
  // A device that rejoined (external commit with resync) keeps its name with a new leaf: report it as added only.
  return { added, removed: removed.filter((r) => !added.some((a) => sameDevice(a, r))) };
}
