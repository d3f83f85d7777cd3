import { type DeviceDirectory, requireDevice } from '../../e2ee/device-directory.js';
import type { EncryptedChannels } from '../../e2ee/encrypted-channels.js';
import type { RouteHandlers } from '../router.js';

/** The Delivery Service parts the HTTP API serves; mounted only when the store keeps their rows. */
export interface E2eeParts {
  devices: DeviceDirectory;
  channels: EncryptedChannels;
}

/** Devices, KeyPackages, commits, ciphertexts and the per-device queue: thin wrappers over the domain. */
export function e2eeHandlers(parts: E2eeParts): RouteHandlers {
  const { devices, channels } = parts;
  return {
    publishDevice: async ({ principal, body }) => ({
      device: await devices.publish(
        principal.userId,
        requireDevice(principal.deviceId),
        body.signaturePublicKey,
      ),
    }),
    listDevices: async ({ principal, params }) => ({
      devices: await devices.list(principal.userId, params.id!),
    }),
    revokeDevice: async ({ principal, params }) => {
      await devices.revoke(principal.userId, params.deviceId!);
      return undefined;
    },
    uploadKeyPackages: async ({ principal, body }) =>
      devices.upload(principal.userId, requireDevice(principal.deviceId), body.keyPackages, body.lastResort),
    keyPackageStock: async ({ principal }) =>
      devices.stock(principal.userId, requireDevice(principal.deviceId)),
    claimKeyPackages: async ({ principal, body }) => ({
      keyPackages: await devices.claim(body.devices, (m) =>
        channels.requireMembers(
          m,
          body.channelId,
          principal.userId,
          body.devices.map((d) => d.userId),
        ),
      ),
    }),
    groupInfo: async ({ principal, params }) => channels.groupInfo(principal.userId, params.id!),
    commit: async ({ principal, params, body }) =>
      channels.commit(principal.userId, requireDevice(principal.deviceId), params.id!, body),
    sendEncrypted: async ({ principal, params, body }) => ({
      message: await channels.send(
        principal.userId,
        requireDevice(principal.deviceId),
        params.id!,
        body.clientMsgId,
        body.ciphertext,
        body.attachments,
      ),
    }),
    readQueue: async ({ principal }) => ({
      welcomes: await channels.queue(principal.userId, requireDevice(principal.deviceId)),
    }),
    ackQueued: async ({ principal, params }) => {
      await channels.ack(principal.userId, requireDevice(principal.deviceId), params.id!);
      return undefined;
    },
  };
}
