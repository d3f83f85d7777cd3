/**
 * The `MlsEngine` adapter over ts-mls (pure TypeScript, RFC 9420). ts-mls states are immutable values:
 * every operation computes a new state and this class swaps it in only when the operation succeeded, so a
 * failed or refused operation leaves the group exactly as it was. Pending commits keep their future state
 * beside the current one until the Delivery Service rules (see the port's doc).
 */
import {
  type CiphersuiteImpl,
  type ClientConfig,
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  emptyPskIndex,
  encodeMlsMessage,
  joinGroup,
  joinGroupExternal,
  type Proposal,
  processPrivateMessage,
  processPublicMessage,
  zeroOutUint8Array,
} from 'ts-mls';
import { ratchetTreeFromExtension } from 'ts-mls/groupInfo.js';
import { E2eeErrorCode, e2eeError, isE2eeError } from '../errors.js';
import { sameDevice } from '../identity.js';
import type {
  DecryptedMessage,
  DevicePublicIdentity,
  DeviceRef,
  EncryptOptions,
  GroupMember,
  MlsEngine,
  PendingCommit,
  ProcessedCommit,
} from '../port.js';
import {
  decodeEngineState,
  type EngineState,
  encodeEngineState,
  type GroupEntry,
  type OwnKeyPackage,
} from './engine-state.js';
import { claimedKeyPackage, DAY, keyPackageMessage, makeKeyPackage, pruneExpired } from './key-packages.js';
import { leavesOf, membershipChange, ownLeafIndex } from './members.js';
import {
  decodeFramedMessage,
  decodeGroupInfoMessage,
  decodeWelcomeMessage,
  encodeMessage,
  groupInfoBytes,
  unprotectApplication,
} from './messages.js';
import { cipherSuite, clientConfig, type DeviceAuthenticator } from './suite.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Options of `createTsMlsEngine`. */
export interface TsMlsEngineOptions {
  /** This device. Required unless `state` is given (then it must match or be left out). */
  readonly device?: DeviceRef;
  /** State from an earlier `exportState()`; without it the engine makes a new device identity. */
  readonly state?: Uint8Array;
  /**
   * Accepts or refuses a device met in a KeyPackage, a Welcome's tree or a commit: the SDK checks it against
   * the user's published device list (and the fingerprints the user verified).
   * @default accepts every well-formed natter device credential
   */
  readonly authenticate?: DeviceAuthenticator;
  /**
   * Lifetime of new KeyPackages, in days; validating peers refuse ones over about a month.
   * @default 28
   */
  readonly keyPackageLifetimeDays?: number;
}

/** Creates (or restores from `state`) the MLS engine of one device over ts-mls. */
export async function createTsMlsEngine(options: TsMlsEngineOptions): Promise<MlsEngine> {
  const impl = await cipherSuite();
  const config = clientConfig(options.authenticate);
  let state: EngineState;
  if (options.state) {
    state = decodeEngineState(options.state, config);
    if (options.device && !sameDevice(options.device, state))
      throw e2eeError(E2eeErrorCode.STATE_INVALID, 'the saved state belongs to another device');
  } else {
    if (!options.device?.userId || !options.device.deviceId)
      throw new TypeError('createTsMlsEngine needs `device` (userId and deviceId) or `state`');
    const keys = await impl.signature.keygen();
    state = {
      userId: options.device.userId,
      deviceId: options.device.deviceId,
      signaturePublicKey: keys.publicKey,
      signaturePrivateKey: keys.signKey,
      keyPackages: [],
      groups: new Map(),
    };
  }
  return new TsMlsEngine(state, impl, config, options.keyPackageLifetimeDays ?? 28);
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const noChange = (groupId: string, epoch: number) => ({ groupId, epoch, added: [], removed: [] });

class TsMlsEngine implements MlsEngine {
  readonly identity: DevicePublicIdentity;
  // One operation at a time: each reads a state, awaits crypto, then swaps in the result.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly s: EngineState,
    private readonly impl: CiphersuiteImpl,
    private readonly config: ClientConfig,
    private readonly lifetimeDays: number,
  ) {
    this.identity = { userId: s.userId, deviceId: s.deviceId, signaturePublicKey: s.signaturePublicKey };
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // --- KeyPackages ---------------------------------------------------------------------------------------

  private newKeyPackage(lastResort: boolean): Promise<OwnKeyPackage> {
    return makeKeyPackage(this.s, this.impl, this.lifetimeDays, lastResort);
  }

  generateKeyPackages(count: number): Promise<Uint8Array[]> {
    return this.serial(async () => {
      pruneExpired(this.s.keyPackages);
      const made: OwnKeyPackage[] = [];
      for (let i = 0; i < count; i++) made.push(await this.newKeyPackage(false));
      this.s.keyPackages.push(...made);
      return made.map((k) => keyPackageMessage(k.publicPackage));
    });
  }

  lastResortKeyPackage(): Promise<Uint8Array> {
    return this.serial(async () => {
      pruneExpired(this.s.keyPackages);
      const now = Date.now() / 1000;
      let current = this.s.keyPackages.find((k) => k.lastResort);
      // Renewed a week before expiry so the server never hands out one that peers refuse.
      if (!current || current.notAfter - now < 7 * DAY) {
        const fresh = await this.newKeyPackage(true);
        // The old one stays: a Welcome made with it may still be on its way.
        if (current)
          this.s.keyPackages.splice(this.s.keyPackages.indexOf(current), 1, {
            ...current,
            lastResort: false,
          });
        this.s.keyPackages.push(fresh);
        current = fresh;
      }
      return keyPackageMessage(current.publicPackage);
    });
  }

  unusedKeyPackages(): number {
    return this.s.keyPackages.filter((k) => !k.lastResort).length;
  }

  // --- groups ------------------------------------------------------------------------------------------

  private entry(groupId: string): GroupEntry {
    const entry = this.s.groups.get(groupId);
    if (!entry) throw e2eeError(E2eeErrorCode.UNKNOWN_GROUP, `no MLS state for group ${groupId}`);
    return entry;
  }

  private current(groupId: string): ClientState {
    const state = this.entry(groupId).state;
    if (!state)
      throw e2eeError(E2eeErrorCode.UNKNOWN_GROUP, `group ${groupId}: external join not yet confirmed`);
    return state;
  }

  createGroup(groupId: string): Promise<void> {
    return this.serial(async () => {
      if (this.s.groups.has(groupId)) throw e2eeError(E2eeErrorCode.GROUP_EXISTS, `group ${groupId} exists`);
      const own = await this.newKeyPackage(false);
      const state = await createGroup(
        utf8.encode(groupId),
        own.publicPackage,
        own.privatePackage,
        [],
        this.impl,
        this.config,
      );
      this.s.groups.set(groupId, { state });
    });
  }

  epoch(groupId: string): number {
    return Number(this.current(groupId).groupContext.epoch);
  }

  members(groupId: string): GroupMember[] {
    const state = this.current(groupId);
    const self = ownLeafIndex(state);
    return leavesOf(state.ratchetTree).map(({ leafIndex, ...device }) => ({
      ...device,
      self: leafIndex === self,
    }));
  }

  groups(): string[] {
    return [...this.s.groups].filter(([, g]) => g.state).map(([id]) => id);
  }

  // --- commits made here -------------------------------------------------------------------------------

  private async commit(
    groupId: string,
    proposals: Proposal[],
    change: { added: DeviceRef[]; removed: DeviceRef[] },
  ): Promise<PendingCommit> {
    const entry = this.entry(groupId);
    const state = this.current(groupId);
    if (entry.pending)
      throw e2eeError(E2eeErrorCode.COMMIT_PENDING, `group ${groupId} has a commit awaiting the server`);
    let result: Awaited<ReturnType<typeof createCommit>>;
    try {
      result = await createCommit(
        { state, cipherSuite: this.impl },
        { extraProposals: proposals, ratchetTreeExtension: true },
      );
    } catch (err) {
      // ts-mls validates added KeyPackages again (lifetime, duplicate keys): a refusal there is the package's.
      const code = change.added.length ? E2eeErrorCode.KEY_PACKAGE_INVALID : E2eeErrorCode.COMMIT_REJECTED;
      throw e2eeError(code, `cannot make the commit: ${String(err)}`, err);
    }
    const out: PendingCommit = {
      groupId,
      epoch: Number(state.groupContext.epoch),
      commit: encodeMlsMessage(result.commit),
      ...(result.welcome && { welcome: encodeMessage({ welcome: result.welcome }) }),
      welcomeRecipients: change.added,
      groupInfo: await groupInfoBytes(result.newState, this.impl),
    };
    entry.pending = { kind: 'commit', out, state: result.newState, ...change };
    return out;
  }

  addDevices(groupId: string, keyPackages: readonly Uint8Array[]): Promise<PendingCommit> {
    return this.serial(async () => {
      const claimed = keyPackages.map(claimedKeyPackage);
      return this.commit(
        groupId,
        claimed.map(({ keyPackage }) => ({ proposalType: 'add', add: { keyPackage } })),
        { added: claimed.map((c) => c.device), removed: [] },
      );
    });
  }

  removeDevices(groupId: string, devices: readonly DeviceRef[]): Promise<PendingCommit> {
    return this.serial(async () => {
      const state = this.current(groupId);
      const leaves = leavesOf(state.ratchetTree);
      const proposals: Proposal[] = devices.map((device) => {
        const leaf = leaves.find((l) => sameDevice(l, device));
        if (!leaf)
          throw e2eeError(
            E2eeErrorCode.NOT_IN_GROUP,
            `${device.userId}/${device.deviceId} is not in the group`,
          );
        if (leaf.leafIndex === ownLeafIndex(state))
          throw new TypeError('a device cannot commit its own removal: another member removes it');
        return { proposalType: 'remove', remove: { removed: leaf.leafIndex } };
      });
      return this.commit(groupId, proposals, {
        added: [],
        removed: devices.map(({ userId, deviceId }) => ({ userId, deviceId })),
      });
    });
  }

  update(groupId: string): Promise<PendingCommit> {
    return this.serial(() => this.commit(groupId, [], { added: [], removed: [] }));
  }

  private adoptPending(groupId: string, entry: GroupEntry): ProcessedCommit {
    const pending = entry.pending;
    if (!pending) throw e2eeError(E2eeErrorCode.NO_PENDING_COMMIT, `group ${groupId} has no pending commit`);
    entry.state = pending.state;
    entry.pending = undefined;
    return {
      ...noChange(groupId, Number(pending.state.groupContext.epoch)),
      added: pending.added,
      removed: pending.removed,
      removedSelf: false,
      ownCommit: true,
      pendingDiscarded: false,
    };
  }

  confirmCommit(groupId: string): Promise<ProcessedCommit> {
    return this.serial(async () => this.adoptPending(groupId, this.entry(groupId)));
  }

  discardCommit(groupId: string): Promise<void> {
    return this.serial(async () => {
      const entry = this.entry(groupId);
      if (!entry.pending)
        throw e2eeError(E2eeErrorCode.NO_PENDING_COMMIT, `group ${groupId} has no pending commit`);
      entry.pending = undefined;
      if (!entry.state) this.s.groups.delete(groupId);
    });
  }

  pendingCommit(groupId: string): PendingCommit | undefined {
    return this.s.groups.get(groupId)?.pending?.out;
  }

  // --- commits from the log ----------------------------------------------------------------------------

  processCommit(groupId: string, bytes: Uint8Array): Promise<ProcessedCommit> {
    return this.serial(async () => {
      const entry = this.entry(groupId);
      // Our own commit, back through the log: the server accepted it.
      if (entry.pending && sameBytes(entry.pending.out.commit, bytes))
        return this.adoptPending(groupId, entry);
      const state = this.current(groupId);
      const framed = decodeFramedMessage(bytes, E2eeErrorCode.COMMIT_REJECTED);
      const header = framed.kind === 'private' ? framed.message : framed.message.content;
      const { contentType: kind, groupId: messageGroup, epoch: messageEpoch } = header;
      if (!sameBytes(messageGroup, utf8.encode(groupId)))
        throw e2eeError(
          E2eeErrorCode.WRONG_GROUP,
          `a commit of group ${fromUtf8.decode(messageGroup)}, not ${groupId}`,
        );
      if (kind !== 'commit')
        throw e2eeError(E2eeErrorCode.COMMIT_REJECTED, `an MLS ${kind} where a commit was expected`);
      const epoch = state.groupContext.epoch;
      if (messageEpoch < epoch)
        throw e2eeError(
          E2eeErrorCode.STALE_EPOCH,
          `a commit of epoch ${messageEpoch}; the group is in epoch ${epoch}`,
        );
      if (messageEpoch > epoch)
        throw e2eeError(
          E2eeErrorCode.EPOCH_GAP,
          `a commit of epoch ${messageEpoch}; this device is in epoch ${epoch}`,
        );
      let next: ClientState;
      let consumed: Uint8Array[];
      try {
        const result =
          framed.kind === 'private'
            ? await processPrivateMessage(state, framed.message, emptyPskIndex, this.impl)
            : await processPublicMessage(state, framed.message, emptyPskIndex, this.impl);
        next = result.newState;
        consumed = result.consumed;
      } catch (err) {
        throw e2eeError(E2eeErrorCode.COMMIT_REJECTED, `commit refused: ${String(err)}`, err);
      }
      const pendingDiscarded = entry.pending !== undefined;
      entry.pending = undefined;
      // Old keys are wiped only once nothing else (a pending state) can still share them.
      consumed.forEach(zeroOutUint8Array);
      const change = membershipChange(state.ratchetTree, next.ratchetTree);
      const removedSelf = next.groupActiveState.kind === 'removedFromGroup';
      if (removedSelf) this.s.groups.delete(groupId);
      else entry.state = next;
      return {
        groupId,
        epoch: Number(next.groupContext.epoch),
        ...change,
        removedSelf,
        ownCommit: false,
        pendingDiscarded,
      };
    });
  }

  joinFromWelcome(bytes: Uint8Array): Promise<string> {
    return this.serial(async () => {
      const welcome = decodeWelcomeMessage(bytes);
      const own = this.s.keyPackages.find((k) => welcome.secrets.some((s) => sameBytes(s.newMember, k.ref)));
      if (!own)
        throw e2eeError(
          E2eeErrorCode.WELCOME_REJECTED,
          'no KeyPackage of this device is addressed (spent, or another device)',
        );
      let state: ClientState;
      try {
        state = await joinGroup(
          welcome,
          own.publicPackage,
          own.privatePackage,
          emptyPskIndex,
          this.impl,
          undefined,
          undefined,
          this.config,
        );
      } catch (err) {
        throw e2eeError(E2eeErrorCode.WELCOME_REJECTED, `Welcome refused: ${String(err)}`, err);
      }
      const groupId = fromUtf8.decode(state.groupContext.groupId);
      if (this.s.groups.get(groupId)?.state)
        throw e2eeError(E2eeErrorCode.GROUP_EXISTS, `already in group ${groupId} (a replayed Welcome?)`);
      // Single-use: the private keys go, so the same Welcome can never be opened again.
      if (!own.lastResort) this.s.keyPackages.splice(this.s.keyPackages.indexOf(own), 1);
      this.s.groups.set(groupId, { state });
      return groupId;
    });
  }

  exportGroupInfo(groupId: string): Promise<Uint8Array> {
    return this.serial(() => groupInfoBytes(this.current(groupId), this.impl));
  }

  joinByExternalCommit(bytes: Uint8Array): Promise<PendingCommit> {
    return this.serial(async () => {
      const groupInfo = decodeGroupInfoMessage(bytes);
      const groupId = fromUtf8.decode(groupInfo.groupContext.groupId);
      const existing = this.s.groups.get(groupId);
      if (existing?.pending)
        throw e2eeError(E2eeErrorCode.COMMIT_PENDING, `group ${groupId} has a commit awaiting the server`);
      const tree = ratchetTreeFromExtension(groupInfo) ?? [];
      // Resync when this device still has a leaf (state lost, or a fork): the commit removes the old leaf.
      const resync = leavesOf(tree).some((l) => sameBytes(l.signaturePublicKey, this.s.signaturePublicKey));
      const own = await this.newKeyPackage(false);
      let joined: Awaited<ReturnType<typeof joinGroupExternal>>;
      try {
        joined = await joinGroupExternal(
          groupInfo,
          own.publicPackage,
          own.privatePackage,
          resync,
          this.impl,
          undefined,
          this.config,
        );
      } catch (err) {
        throw e2eeError(E2eeErrorCode.COMMIT_REJECTED, `cannot join by external commit: ${String(err)}`, err);
      }
      const out: PendingCommit = {
        groupId,
        epoch: Number(groupInfo.groupContext.epoch),
        commit: encodeMessage({ publicMessage: joined.publicMessage }),
        welcomeRecipients: [],
        groupInfo: await groupInfoBytes(joined.newState, this.impl),
      };
      const self: DeviceRef = { userId: this.s.userId, deviceId: this.s.deviceId };
      const pending = { kind: 'external' as const, out, state: joined.newState, added: [self], removed: [] };
      if (existing) existing.pending = pending;
      else this.s.groups.set(groupId, { pending });
      return out;
    });
  }

  // --- application messages ----------------------------------------------------------------------------

  encrypt(groupId: string, plaintext: Uint8Array, options?: EncryptOptions): Promise<Uint8Array> {
    return this.serial(async () => {
      const entry = this.entry(groupId);
      const state = this.current(groupId);
      const sent = await createApplicationMessage(state, plaintext, this.impl, options?.authenticatedData);
      entry.state = sent.newState;
      if (!entry.pending) sent.consumed.forEach(zeroOutUint8Array);
      return encodeMessage({ privateMessage: sent.privateMessage });
    });
  }

  decrypt(groupId: string, bytes: Uint8Array): Promise<DecryptedMessage> {
    return this.serial(async () => {
      const framed = decodeFramedMessage(bytes, E2eeErrorCode.DECRYPT_FAILED);
      if (framed.kind !== 'private')
        throw e2eeError(E2eeErrorCode.DECRYPT_FAILED, 'application data is always a private message');
      const m = framed.message;
      if (!sameBytes(m.groupId, utf8.encode(groupId)))
        throw e2eeError(
          E2eeErrorCode.WRONG_GROUP,
          `a message of group ${fromUtf8.decode(m.groupId)}, not ${groupId}`,
        );
      const entry = this.entry(groupId);
      const state = this.current(groupId);
      if (m.contentType !== 'application')
        throw e2eeError(E2eeErrorCode.DECRYPT_FAILED, `an MLS ${m.contentType}, not application data`);
      if (m.epoch > state.groupContext.epoch)
        throw e2eeError(
          E2eeErrorCode.EPOCH_GAP,
          `a message of epoch ${m.epoch}; this device is in epoch ${state.groupContext.epoch}`,
        );
      try {
        const got = await unprotectApplication(state, m, this.impl);
        entry.state = got.newState;
        if (!entry.pending) got.consumed.forEach(zeroOutUint8Array);
        return {
          groupId,
          epoch: Number(m.epoch),
          sender: got.sender,
          plaintext: got.plaintext,
          authenticatedData: got.authenticatedData,
        };
      } catch (err) {
        if (isE2eeError(err)) throw err;
        throw e2eeError(E2eeErrorCode.DECRYPT_FAILED, `cannot decrypt: ${String(err)}`, err);
      }
    });
  }

  exportState(): Promise<Uint8Array> {
    return this.serial(async () => encodeEngineState(this.s));
  }
}
