/**
 * Keys of the Delivery Service's rows in the keyed-record store (decision 146). `/` separates the parts since
 * no id contains it; KeyPackage and queue ids are time-sortable, so a prefix read returns the oldest first.
 */
export const e2eeKeys = {
  device: (userId: string, deviceId: string) => `e2ee/dev/${userId}/${deviceId}`,
  devicesOf: (userId: string) => `e2ee/dev/${userId}/`,
  keyPackage: (userId: string, deviceId: string, id: string) => `e2ee/kp/${userId}/${deviceId}/${id}`,
  keyPackagesOf: (userId: string, deviceId: string) => `e2ee/kp/${userId}/${deviceId}/`,
  lastResort: (userId: string, deviceId: string) => `e2ee/kplr/${userId}/${deviceId}`,
  group: (channelId: string) => `e2ee/grp/${channelId}`,
  /** Epochs are zero-padded so the keys of one channel sort by epoch. */
  commit: (channelId: string, epoch: number) => `e2ee/cmt/${channelId}/${String(epoch).padStart(12, '0')}`,
  welcome: (userId: string, deviceId: string, id: string) => `e2ee/q/${userId}/${deviceId}/${id}`,
  queueOf: (userId: string, deviceId: string) => `e2ee/q/${userId}/${deviceId}/`,
} as const;

/** A device as the group record lists it. */
export const deviceKey = (d: { userId: string; deviceId: string }) => `${d.userId}/${d.deviceId}`;
