import type { DevicePublicIdentity, DeviceRef, PendingCommit } from '@natter/e2ee';
import type { Message } from '@natter/protocol';
import { fromBase64, toBase64 } from '../base64.js';
import type { HttpClient } from '../http.js';
import type { KeyPackageDirectory } from './key-package-stock.js';

/** A Welcome from this device's queue, decoded. */
export interface QueuedWelcome {
  id: string;
  channelId: string;
  /** The seq of the commit that added this device: it reads the channel's log after it. */
  seq: number;
  welcome: Uint8Array;
}

/**
 * The Delivery Service routes of `@natter/protocol` as the SDK uses them: bytes in and out (the wire carries
 * base64), one method per route. Everything here is opaque to the server.
 */
export class DeliveryClient implements KeyPackageDirectory {
  constructor(private readonly http: HttpClient) {}

  async publishDevice(signaturePublicKey: Uint8Array): Promise<void> {
    await this.http.call('publishDevice', { body: { signaturePublicKey: toBase64(signaturePublicKey) } });
  }

  async listDevices(userId: string): Promise<DevicePublicIdentity[]> {
    const { devices } = await this.http.call('listDevices', { params: { id: userId } });
    return devices.map((d) => ({
      userId: d.userId,
      deviceId: d.deviceId,
      signaturePublicKey: fromBase64(d.signaturePublicKey),
    }));
  }

  async revokeDevice(deviceId: string): Promise<void> {
    await this.http.call('revokeDevice', { params: { deviceId } });
  }

  async stock(): Promise<number> {
    return (await this.http.call('keyPackageStock')).remaining;
  }

  async upload(batch: { keyPackages: readonly Uint8Array[]; lastResort?: Uint8Array }): Promise<number> {
    const stock = await this.http.call('uploadKeyPackages', {
      body: {
        keyPackages: batch.keyPackages.map(toBase64),
        ...(batch.lastResort ? { lastResort: toBase64(batch.lastResort) } : {}),
      },
    });
    return stock.remaining;
  }

  /** One KeyPackage per device, in the order asked (last-resort ones when a device ran out). */
  async claim(channelId: string, devices: readonly DeviceRef[]): Promise<Uint8Array[]> {
    const { keyPackages } = await this.http.call('claimKeyPackages', {
      body: { channelId, devices: devices.map((d) => ({ userId: d.userId, deviceId: d.deviceId })) },
    });
    return keyPackages.map((k) => fromBase64(k.keyPackage));
  }

  async groupInfo(channelId: string): Promise<{ epoch: number; groupInfo: Uint8Array }> {
    const answer = await this.http.call('groupInfo', { params: { id: channelId } });
    return { epoch: answer.epoch, groupInfo: fromBase64(answer.groupInfo) };
  }

  /** Uploads a pending commit; resolves with its log entry, or rejects (`NATTER_E2EE_STALE_EPOCH` when it lost). */
  async commit(
    channelId: string,
    pending: PendingCommit,
    removed: readonly DeviceRef[],
    added: readonly DeviceRef[] = pending.welcomeRecipients,
  ): Promise<Message> {
    const { message } = await this.http.call('commit', {
      params: { id: channelId },
      body: {
        commit: toBase64(pending.commit),
        groupInfo: toBase64(pending.groupInfo),
        ...(pending.welcome ? { welcome: toBase64(pending.welcome) } : {}),
        added: added.map((d) => ({ userId: d.userId, deviceId: d.deviceId })),
        removed: removed.map((d) => ({ userId: d.userId, deviceId: d.deviceId })),
      },
    });
    return message;
  }

  /**
   * Sends an application message; `mediaIds` are this user's uploads of encrypted files the message carries
   * (the server attaches them to the entry so the channel's members may download them).
   */
  async sendEncrypted(
    channelId: string,
    clientMsgId: string,
    ciphertext: Uint8Array,
    mediaIds: readonly string[] = [],
  ): Promise<Message> {
    const { message } = await this.http.call('sendEncrypted', {
      params: { id: channelId },
      body: {
        clientMsgId,
        ciphertext: toBase64(ciphertext),
        ...(mediaIds.length > 0 ? { attachments: mediaIds.map((mediaId) => ({ mediaId })) } : {}),
      },
    });
    return message;
  }

  async readQueue(): Promise<QueuedWelcome[]> {
    const { welcomes } = await this.http.call('readQueue');
    return welcomes.map((w) => ({
      id: w.id,
      channelId: w.channelId,
      seq: w.seq,
      welcome: fromBase64(w.welcome),
    }));
  }

  async ackQueued(id: string): Promise<void> {
    await this.http.call('ackQueued', { params: { id } });
  }
}
