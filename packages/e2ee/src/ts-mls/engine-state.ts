/**
 * The engine's whole state and its byte form (`exportState` / import): identity keys, unused KeyPackages'
 * private keys, every group's ts-mls state, and pending commits (so a device that crashed mid-commit learns
 * its fate from the log after a restart). MessagePack around ts-mls' own TLS encoding of group states.
 */
import { pack, unpack } from 'msgpackr';
import {
  type ClientConfig,
  type ClientState,
  decodeGroupState,
  encodeGroupState,
  type KeyPackage,
  type PrivateKeyPackage,
} from 'ts-mls';
import { decodeKeyPackage, encodeKeyPackage } from 'ts-mls/keyPackage.js';
import { e2eeError } from '../errors.js';
import type { DeviceRef, PendingCommit } from '../port.js';
import { SUITE } from './suite.js';

/** A KeyPackage this device made, with the private keys that open a Welcome addressed to it. */
export interface OwnKeyPackage {
  readonly publicPackage: KeyPackage;
  readonly privatePackage: PrivateKeyPackage;
  /** Its KeyPackageRef (RFC 9420 §5.2): how a Welcome names its recipient. */
  readonly ref: Uint8Array;
  readonly lastResort: boolean;
  /** Expiry, in seconds since the epoch (the KeyPackage's `notAfter`). */
  readonly notAfter: number;
}

/** A commit of this device the server has not yet ruled on. */
export interface Pending {
  readonly kind: 'commit' | 'external';
  readonly out: PendingCommit;
  /** The group state the commit leads to, adopted on `confirmCommit`. */
  readonly state: ClientState;
  readonly added: readonly DeviceRef[];
  readonly removed: readonly DeviceRef[];
}

/** One group on this device: its current state (absent while an external join is pending) and pending commit. */
export interface GroupEntry {
  state?: ClientState;
  pending?: Pending;
}

/** Everything an engine holds. */
export interface EngineState {
  readonly userId: string;
  readonly deviceId: string;
  readonly signaturePublicKey: Uint8Array;
  readonly signaturePrivateKey: Uint8Array;
  readonly keyPackages: OwnKeyPackage[];
  readonly groups: Map<string, GroupEntry>;
}

const VERSION = 1;

type Pair = [string, string];
const toPairs = (refs: readonly DeviceRef[]): Pair[] => refs.map((r) => [r.userId, r.deviceId]);
const fromPairs = (pairs: Pair[]): DeviceRef[] => pairs.map(([userId, deviceId]) => ({ userId, deviceId }));

interface StoredPending {
  kind: 'commit' | 'external';
  epoch: number;
  commit: Uint8Array;
  welcome?: Uint8Array;
  recipients: Pair[];
  groupInfo: Uint8Array;
  state: Uint8Array;
  added: Pair[];
  removed: Pair[];
}

interface Stored {
  v: number;
  suite: string;
  user: string;
  device: string;
  sigPub: Uint8Array;
  sigPriv: Uint8Array;
  kps: {
    kp: Uint8Array;
    init: Uint8Array;
    hpke: Uint8Array;
    ref: Uint8Array;
    last: boolean;
    until: number;
  }[];
  groups: { id: string; state?: Uint8Array; pending?: StoredPending }[];
}

/** The state as bytes. */
export function encodeEngineState(s: EngineState): Uint8Array {
  const stored: Stored = {
    v: VERSION,
    suite: SUITE,
    user: s.userId,
    device: s.deviceId,
    sigPub: s.signaturePublicKey,
    sigPriv: s.signaturePrivateKey,
    kps: s.keyPackages.map((k) => ({
      kp: encodeKeyPackage(k.publicPackage),
      init: k.privatePackage.initPrivateKey,
      hpke: k.privatePackage.hpkePrivateKey,
      ref: k.ref,
      last: k.lastResort,
      until: k.notAfter,
    })),
    groups: [...s.groups].map(([id, g]) => ({
      id,
      ...(g.state && { state: encodeGroupState(g.state) }),
      ...(g.pending && {
        pending: {
          kind: g.pending.kind,
          epoch: g.pending.out.epoch,
          commit: g.pending.out.commit,
          ...(g.pending.out.welcome && { welcome: g.pending.out.welcome }),
          recipients: toPairs(g.pending.out.welcomeRecipients),
          groupInfo: g.pending.out.groupInfo,
          state: encodeGroupState(g.pending.state),
          added: toPairs(g.pending.added),
          removed: toPairs(g.pending.removed),
        },
      }),
    })),
  };
  return pack(stored);
}

/** Bytes from `readBytes` as a plain Uint8Array (msgpackr gives Node Buffers, which ts-mls treats alike). */
const bytes = (b: Uint8Array): Uint8Array => new Uint8Array(b);

function groupState(encoded: Uint8Array, config: ClientConfig): ClientState {
  const decoded = decodeGroupState(bytes(encoded), 0);
  if (!decoded) throw new RangeError('undecodable group state');
  return { ...decoded[0], clientConfig: config };
}

/** The state from bytes; throws `STATE_INVALID` on anything it cannot read. */
export function decodeEngineState(encoded: Uint8Array, config: ClientConfig): EngineState {
  try {
    const s = unpack(encoded) as Stored;
    if (s?.v !== VERSION) throw new RangeError(`state version ${String(s?.v)}, this engine reads ${VERSION}`);
    if (s.suite !== SUITE) throw new RangeError(`state of cipher suite ${s.suite}`);
    const sigPriv = bytes(s.sigPriv);
    const keyPackages = s.kps.map((k): OwnKeyPackage => {
      const decoded = decodeKeyPackage(bytes(k.kp), 0);
      if (!decoded) throw new RangeError('undecodable KeyPackage');
      return {
        publicPackage: decoded[0],
        privatePackage: {
          initPrivateKey: bytes(k.init),
          hpkePrivateKey: bytes(k.hpke),
          signaturePrivateKey: sigPriv,
        },
        ref: bytes(k.ref),
        lastResort: k.last,
        notAfter: k.until,
      };
    });
    const groups = new Map<string, GroupEntry>();
    for (const g of s.groups) {
      const entry: GroupEntry = {};
      if (g.state) entry.state = groupState(g.state, config);
      if (g.pending) {
        const p = g.pending;
        entry.pending = {
          kind: p.kind,
          out: {
            groupId: g.id,
            epoch: p.epoch,
            commit: bytes(p.commit),
            ...(p.welcome && { welcome: bytes(p.welcome) }),
            welcomeRecipients: fromPairs(p.recipients),
            groupInfo: bytes(p.groupInfo),
          },
          state: groupState(p.state, config),
          added: fromPairs(p.added),
          removed: fromPairs(p.removed),
        };
      }
      groups.set(g.id, entry);
    }
    return {
      userId: s.user,
      deviceId: s.device,
      signaturePublicKey: bytes(s.sigPub),
      signaturePrivateKey: sigPriv,
      keyPackages,
      groups,
    };
  } catch (err) {
    throw e2eeError('NATTER_E2EE_STATE_INVALID', `cannot read the engine state: ${String(err)}`, err);
  }
}
