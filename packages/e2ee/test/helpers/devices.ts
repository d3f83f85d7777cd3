/** Devices for the engine tests: real ts-mls engines with their KeyPackages on a test Delivery Service. */
import { createTsMlsEngine } from '../../src/ts-mls/engine.js';
import type { TestDeliveryService, TestDevice } from './delivery-service.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A new device that has uploaded `keyPackages` single-use KeyPackages and a last-resort one. */
export async function newDevice(
  ds: TestDeliveryService,
  userId: string,
  deviceId: string,
  keyPackages = 2,
): Promise<TestDevice> {
  const engine = await createTsMlsEngine({ device: { userId, deviceId } });
  ds.uploadKeyPackages(
    engine.identity,
    await engine.generateKeyPackages(keyPackages),
    await engine.lastResortKeyPackage(),
  );
  return { engine, cursor: new Map(), sent: new Set() };
}

/** Encrypts a text on a device and appends it to the channel's log. */
export async function send(ds: TestDeliveryService, device: TestDevice, channelId: string, message: string) {
  const entry = ds.submitMessage(channelId, await device.engine.encrypt(channelId, utf8.encode(message)));
  device.sent.add(`${channelId}#${entry.seq}`);
  return entry;
}

/** UTF-8 text of bytes. */
export const decodeText = (bytes: Uint8Array) => text.decode(bytes);
