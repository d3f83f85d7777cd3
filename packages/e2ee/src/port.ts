/**
 * The client-side MLS port: what natter's SDK needs from an MLS (RFC 9420) implementation, and nothing of
 * how one works. Messages are opaque bytes (TLS-encoded `MLSMessage`s); groups are named by the channel id;
 * devices by `{ userId, deviceId }`. One adapter implements it today (`createTsMlsEngine`, over ts-mls);
 * another library can replace it behind the same interface.
 *
 * Commits follow the Delivery Service's order: a change (`addDevices`, `removeDevices`, `update`,
 * `joinByExternalCommit`) returns a **pending** commit and leaves the group's current state untouched. The
 * SDK sends the commit; when the server accepts it (or it comes back through the channel's log) the SDK calls
 * `confirmCommit`; when the server refuses it as stale, `discardCommit`, then processes the winner and
 * retries. So no device ever applies a commit the group did not agree on (no fork).
 */

/** A device as MLS sees it: the user it belongs to and its id among that user's devices. */
export interface DeviceRef {
  readonly userId: string;
  readonly deviceId: string;
}

/** A device's public identity: who it claims to be and the signature key every one of its MLS messages uses. */
export interface DevicePublicIdentity extends DeviceRef {
  /** The device's signature public key (Ed25519, 32 bytes): what fingerprints and safety numbers are made of. */
  readonly signaturePublicKey: Uint8Array;
}

/** One device in a group. */
export interface GroupMember extends DevicePublicIdentity {
  /** True for the device this engine runs on. */
  readonly self: boolean;
}

/** What a commit made by this device carries, for the SDK to hand to the Delivery Service. */
export interface PendingCommit {
  /** The group (channel id). */
  readonly groupId: string;
  /** The epoch the commit is made in; the server accepts it only if this is the channel's current epoch. */
  readonly epoch: number;
  /** The Commit (an `MLSMessage`), for the channel's log. */
  readonly commit: Uint8Array;
  /** The Welcome for the added devices (one `MLSMessage` for all; the server queues it to each of them). */
  readonly welcome?: Uint8Array;
  /** The devices the Welcome is for, in the order their KeyPackages were given. */
  readonly welcomeRecipients: readonly DeviceRef[];
  /** The GroupInfo of the epoch the commit starts, for external joins (replaces the stored one on acceptance). */
  readonly groupInfo: Uint8Array;
}

/** What processing a commit from the channel's log changed. */
export interface ProcessedCommit {
  readonly groupId: string;
  /** The group's epoch after the commit. */
  readonly epoch: number;
  /** Devices the commit added (by Welcome or external join). */
  readonly added: readonly DeviceRef[];
  /** Devices the commit removed. */
  readonly removed: readonly DeviceRef[];
  /** True when the commit removed this device: its state for the group is gone. */
  readonly removedSelf: boolean;
  /** True when the commit was this device's own pending one (it came back through the log): now applied. */
  readonly ownCommit: boolean;
  /**
   * True when this device had a pending commit for the same epoch and another member's commit won: the
   * pending one was dropped; redo the change in the new epoch.
   */
  readonly pendingDiscarded: boolean;
}

/** A decrypted application message. */
export interface DecryptedMessage {
  readonly groupId: string;
  /** The epoch the message was sent in. */
  readonly epoch: number;
  /** The device that sent it, authenticated by its MLS signature. */
  readonly sender: DeviceRef;
  readonly plaintext: Uint8Array;
  /** The authenticated (not encrypted) data the sender bound to the message. */
  readonly authenticatedData: Uint8Array;
}

/** Options of `encrypt`. */
export interface EncryptOptions {
  /**
   * Bytes bound to the ciphertext, readable by anyone (the server too) but not changeable. The group id (the
   * channel) and the epoch are always bound by MLS itself; use this for more, e.g. a client message id.
   * @default empty
   */
  readonly authenticatedData?: Uint8Array;
}

/** The client-side MLS engine of one device. Calls are serialised internally; all are safe to await in parallel. */
export interface MlsEngine {
  /** This device's public identity. */
  readonly identity: DevicePublicIdentity;

  /** Makes `count` single-use KeyPackages (each `MLSMessage` bytes) to upload; their private keys stay here. */
  generateKeyPackages(count: number): Promise<Uint8Array[]>;
  /**
   * The device's last-resort KeyPackage, handed out by the server when the single-use ones run out (it may be
   * used several times). The same one is returned until it nears expiry, then a new one.
   */
  lastResortKeyPackage(): Promise<Uint8Array>;
  /** How many unused single-use KeyPackages this device still holds private keys for. */
  unusedKeyPackages(): number;

  /** Creates a group with this device as its only member, in epoch 0. */
  createGroup(groupId: string): Promise<void>;
  /** Commits adding the devices whose KeyPackages (claimed from the server) are given. */
  addDevices(groupId: string, keyPackages: readonly Uint8Array[]): Promise<PendingCommit>;
  /** Commits removing devices (another user's, or this user's revoked ones). */
  removeDevices(groupId: string, devices: readonly DeviceRef[]): Promise<PendingCommit>;
  /** Commits a fresh leaf key for this device (post-compromise security); no membership change. */
  update(groupId: string): Promise<PendingCommit>;
  /** Applies this device's pending commit after the server accepted it. */
  confirmCommit(groupId: string): Promise<ProcessedCommit>;
  /** Drops this device's pending commit after the server refused it. */
  discardCommit(groupId: string): Promise<void>;
  /** The pending commit of a group, if any (after a restart: resend it, or learn its fate from the log). */
  pendingCommit(groupId: string): PendingCommit | undefined;

  /** Processes a commit from the channel's log, in log order. Throws `STALE_EPOCH`, `EPOCH_GAP`, `COMMIT_REJECTED`. */
  processCommit(groupId: string, commit: Uint8Array): Promise<ProcessedCommit>;
  /** Joins a group from a Welcome (taken from this device's queue); returns the group id. */
  joinFromWelcome(welcome: Uint8Array): Promise<string>;
  /** The GroupInfo of the group's current epoch (with the ratchet tree), for the server to store. */
  exportGroupInfo(groupId: string): Promise<Uint8Array>;
  /**
   * Joins (or, with this device's old leaf, rejoins) a group from its stored GroupInfo by an external commit.
   * The commit is pending like any other: confirm after the server accepted it.
   */
  joinByExternalCommit(groupInfo: Uint8Array): Promise<PendingCommit>;

  /** Encrypts an application message for the group's current epoch. */
  encrypt(groupId: string, plaintext: Uint8Array, options?: EncryptOptions): Promise<Uint8Array>;
  /** Decrypts an application message of the group (of the current or a recent epoch). */
  decrypt(groupId: string, ciphertext: Uint8Array): Promise<DecryptedMessage>;

  /** The group's current epoch. */
  epoch(groupId: string): number;
  /** The group's devices, in leaf order. */
  members(groupId: string): GroupMember[];
  /** The groups this device is in. */
  groups(): string[];

  /**
   * The whole engine state (identity keys, unused KeyPackage keys, every group, pending commits) as bytes, for
   * the SDK to keep in IndexedDB or LevelDB. It holds private keys: store it where the app keeps secrets.
   */
  exportState(): Promise<Uint8Array>;
}
