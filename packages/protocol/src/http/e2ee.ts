import * as v from 'valibot';
import { E2EE_LIMITS, MEDIA_LIMITS } from '../limits.js';
import { AttachmentRefSchema } from '../schemas/media.js';
import { MessageSchema } from '../schemas/model.js';
import { IdSchema, SeqSchema, TimestampSchema, UintSchema } from '../schemas/primitives.js';
import type { RouteSpec } from './routes.js';

/**
 * Standard base64 (RFC 4648 §4, with padding) of at most `maxBytes` bytes: how every MLS object (KeyPackage,
 * commit, Welcome, GroupInfo, ciphertext) travels in JSON bodies and frames, and how it is stored.
 */
export function base64Schema(maxBytes: number) {
  return v.pipe(
    v.string(),
    v.minLength(4, 'must not be empty'),
    v.maxLength(Math.ceil(maxBytes / 3) * 4, `must be at most ${maxBytes} bytes`),
    v.regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be standard base64'),
  );
}

const KeyPackageB64 = base64Schema(E2EE_LIMITS.maxKeyPackageBytes);
const HandshakeB64 = base64Schema(E2EE_LIMITS.maxHandshakeBytes);

/** One device of one user: the MLS leaf's identity (credential `["natter-device/1", userId, deviceId]`). */
export const DeviceRefSchema = v.object({ userId: IdSchema, deviceId: IdSchema });

/** A published device: its id (the session's device id) and Ed25519 identity key, as contacts see it. */
export const DeviceSchema = v.object({
  userId: IdSchema,
  deviceId: IdSchema,
  /** The device's MLS signature public key, base64; fingerprints (`deviceFingerprint`) are computed over it. */
  signaturePublicKey: v.string(),
  createdAt: TimestampSchema,
});

/** `PUT /v1/devices/me`: this session's device publishes its identity key (once; the same key again is a no-op). */
export const PublishDeviceBodySchema = v.object({
  signaturePublicKey: base64Schema(E2EE_LIMITS.maxSignatureKeyBytes),
});

/** `POST /v1/devices/me/key-packages`: single-use KeyPackages and optionally a new last-resort one. */
export const UploadKeyPackagesBodySchema = v.pipe(
  v.object({
    keyPackages: v.pipe(v.array(KeyPackageB64), v.maxLength(E2EE_LIMITS.maxKeyPackagesPerUpload)),
    /** Replaces the device's last-resort KeyPackage (handed out when no single-use one is left; never removed). */
    lastResort: v.optional(KeyPackageB64),
  }),
  v.check((b) => b.keyPackages.length > 0 || b.lastResort !== undefined, 'nothing to upload'),
);

/** The caller's device KeyPackage stock: `low` means upload more now. */
export const KeyPackageStockSchema = v.object({
  /** Single-use KeyPackages left. */
  remaining: UintSchema,
  hasLastResort: v.boolean(),
  /** `remaining < E2EE_LIMITS.lowKeyPackageStock`. */
  low: v.boolean(),
});

/**
 * `POST /v1/key-packages/claim`: one KeyPackage for each device, to add them to `channelId`. The caller and
 * every named user must be members of the channel (add the member first, then claim and commit).
 */
export const ClaimKeyPackagesBodySchema = v.object({
  channelId: IdSchema,
  devices: v.pipe(v.array(DeviceRefSchema), v.minLength(1), v.maxLength(E2EE_LIMITS.maxClaimDevices)),
});

/** One claimed KeyPackage; `lastResort` when the device had no single-use one left. */
export const ClaimedKeyPackageSchema = v.object({
  userId: IdSchema,
  deviceId: IdSchema,
  keyPackage: v.string(),
  lastResort: v.boolean(),
});

/**
 * `POST /v1/channels/{id}/commits`: an MLS commit for the channel's current epoch with the GroupInfo of the
 * next epoch, the Welcome for the devices it adds, and the devices it adds and removes (the engine's pending
 * commit gives all of them). An external commit adds the caller's own device and has no Welcome.
 */
export const CommitBodySchema = v.object({
  commit: HandshakeB64,
  groupInfo: HandshakeB64,
  welcome: v.optional(HandshakeB64),
  added: v.pipe(v.array(DeviceRefSchema), v.maxLength(E2EE_LIMITS.maxCommitDevices)),
  removed: v.pipe(v.array(DeviceRefSchema), v.maxLength(E2EE_LIMITS.maxCommitDevices)),
});

/**
 * `POST /v1/channels/{id}/encrypted`: an MLS application message; `clientMsgId` makes a retry idempotent.
 * `attachments` names the sender's uploads of encrypted files (their keys travel inside the ciphertext): they
 * are attached to the entry as a plaintext send attaches its uploads, so the channel's members may download them.
 */
export const EncryptedSendBodySchema = v.object({
  clientMsgId: IdSchema,
  ciphertext: base64Schema(E2EE_LIMITS.maxCiphertextBytes),
  attachments: v.optional(
    v.pipe(v.array(AttachmentRefSchema), v.maxLength(MEDIA_LIMITS.maxAttachmentsPerMessage)),
  ),
});

/** A Welcome waiting in a device's queue until acknowledged; read the channel's log after `seq`. */
export const QueuedWelcomeSchema = v.object({
  id: IdSchema,
  channelId: IdSchema,
  /** The seq of the commit that added the device. */
  seq: SeqSchema,
  welcome: v.string(),
  createdAt: TimestampSchema,
});

/** `{ devices }`. */
export const DeviceListBodySchema = v.object({ devices: v.array(DeviceSchema) });
/** `{ device }`. */
export const DeviceBodySchema = v.object({ device: DeviceSchema });
/** `{ keyPackages }`, in the order asked. */
export const ClaimResultBodySchema = v.object({ keyPackages: v.array(ClaimedKeyPackageSchema) });
/** `{ epoch, groupInfo }`: the channel's current epoch and the GroupInfo for an external join into it. */
export const GroupInfoBodySchema = v.object({ epoch: UintSchema, groupInfo: v.string() });
/** `{ message, epoch }`: the log entry (an `mls_commit` system message) and the epoch it started. */
export const CommitResultBodySchema = v.object({ message: MessageSchema, epoch: UintSchema });
/** `{ message }`: the log entry (an `mls_message` system message). */
export const EncryptedSendResultBodySchema = v.object({ message: MessageSchema });
/** `{ welcomes }`: the device's queue, oldest first. */
export const QueueBodySchema = v.object({ welcomes: v.array(QueuedWelcomeSchema) });

/** The Delivery Service of end-to-end encrypted channels (MLS); docs/e2ee.md and docs/protocol.md. */
export const E2EE_ROUTES = {
  publishDevice: {
    method: 'PUT',
    path: '/v1/devices/me',
    auth: true,
    tag: 'e2ee',
    summary:
      "Publishes the session's device (the token's device id) with its MLS identity key; the same key again is a no-op, another key for a published device is refused.",
    body: PublishDeviceBodySchema,
    response: DeviceBodySchema,
    status: 200,
    errors: ['NATTER_CONFLICT', 'NATTER_E2EE_LIMIT'],
  },
  listDevices: {
    method: 'GET',
    path: '/v1/users/{id}/devices',
    auth: true,
    tag: 'e2ee',
    summary:
      "A user's published devices, oldest first: the caller's own, or a contact's (a user sharing a channel); others get 404 as for an unknown user.",
    response: DeviceListBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  revokeDevice: {
    method: 'DELETE',
    path: '/v1/devices/{deviceId}',
    auth: true,
    tag: 'e2ee',
    summary:
      "Revokes one of the caller's devices: it leaves the device list, its KeyPackages and queue are dropped, and any member device of an encrypted channel may then commit its removal.",
    status: 204,
    errors: ['NATTER_NOT_FOUND'],
  },
  uploadKeyPackages: {
    method: 'POST',
    path: '/v1/devices/me/key-packages',
    auth: true,
    tag: 'e2ee',
    summary:
      "Stocks single-use KeyPackages of the session's (published) device, and optionally replaces its last-resort one; answers the stock.",
    body: UploadKeyPackagesBodySchema,
    response: KeyPackageStockSchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_E2EE_KEY_PACKAGE_INVALID', 'NATTER_E2EE_LIMIT'],
  },
  keyPackageStock: {
    method: 'GET',
    path: '/v1/devices/me/key-packages',
    auth: true,
    tag: 'e2ee',
    summary: "The session's device KeyPackage stock (`low`: upload more).",
    response: KeyPackageStockSchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  claimKeyPackages: {
    method: 'POST',
    path: '/v1/key-packages/claim',
    auth: true,
    tag: 'e2ee',
    summary:
      "Claims one KeyPackage per device of members of an encrypted channel the caller is in: a single-use one, removed in the same transaction, else the device's last-resort one.",
    body: ClaimKeyPackagesBodySchema,
    response: ClaimResultBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_E2EE_NO_KEY_PACKAGE', 'NATTER_E2EE_CHANNEL_MISMATCH'],
  },
  groupInfo: {
    method: 'GET',
    path: '/v1/channels/{id}/group-info',
    auth: true,
    tag: 'e2ee',
    summary:
      "An encrypted channel's epoch and current GroupInfo, for a member's device joining by external commit (404 before the first commit, and for non-members).",
    response: GroupInfoBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_E2EE_CHANNEL_MISMATCH'],
  },
  commit: {
    method: 'POST',
    path: '/v1/channels/{id}/commits',
    auth: true,
    tag: 'e2ee',
    summary:
      "Orders an MLS commit: accepted only for the channel's current epoch, as an `mls_commit` log entry with the next seq, the epoch raised, the GroupInfo replaced and the Welcome queued to each added device, in one transaction; the same commit again answers the original entry.",
    body: CommitBodySchema,
    maxBodyBytes: E2EE_LIMITS.maxCommitBodyBytes,
    response: CommitResultBodySchema,
    status: 200,
    errors: [
      'NATTER_NOT_FOUND',
      'NATTER_FORBIDDEN',
      'NATTER_E2EE_STALE_EPOCH',
      'NATTER_E2EE_WRONG_GROUP',
      'NATTER_E2EE_CHANNEL_MISMATCH',
      'NATTER_E2EE_LIMIT',
    ],
  },
  sendEncrypted: {
    method: 'POST',
    path: '/v1/channels/{id}/encrypted',
    auth: true,
    tag: 'e2ee',
    summary:
      "Appends an MLS application message as an `mls_message` log entry (members' devices of the channel only; the current epoch only, an older one is STALE_EPOCH), carrying the sender's named uploads as a plaintext send does (each attached once); a retry with the same `clientMsgId` answers the original.",
    body: EncryptedSendBodySchema,
    maxBodyBytes: E2EE_LIMITS.maxEncryptedBodyBytes,
    response: EncryptedSendResultBodySchema,
    status: 200,
    errors: [
      'NATTER_NOT_FOUND',
      'NATTER_FORBIDDEN',
      'NATTER_MEDIA_ALREADY_ATTACHED',
      'NATTER_E2EE_STALE_EPOCH',
      'NATTER_E2EE_WRONG_GROUP',
      'NATTER_E2EE_CHANNEL_MISMATCH',
    ],
  },
  readQueue: {
    method: 'GET',
    path: '/v1/devices/me/queue',
    auth: true,
    tag: 'e2ee',
    summary: "The Welcomes queued for the session's device, oldest first; each stays until acknowledged.",
    response: QueueBodySchema,
    status: 200,
  },
  ackQueued: {
    method: 'DELETE',
    path: '/v1/devices/me/queue/{id}',
    auth: true,
    tag: 'e2ee',
    summary: "Acknowledges (removes) one Welcome of the session's device queue; idempotent.",
    status: 204,
  },
} as const satisfies Record<string, RouteSpec>;

/** A user and device, as an MLS leaf. */
export type DeviceRef = v.InferOutput<typeof DeviceRefSchema>;
/** A published device. */
export type Device = v.InferOutput<typeof DeviceSchema>;
/** A device's KeyPackage stock. */
export type KeyPackageStock = v.InferOutput<typeof KeyPackageStockSchema>;
/** One claimed KeyPackage. */
export type ClaimedKeyPackage = v.InferOutput<typeof ClaimedKeyPackageSchema>;
/** `POST /v1/channels/{id}/commits` body. */
export type CommitInput = v.InferOutput<typeof CommitBodySchema>;
/** A Welcome in a device's queue. */
export type QueuedWelcome = v.InferOutput<typeof QueuedWelcomeSchema>;
