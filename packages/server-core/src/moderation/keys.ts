/**
 * Keys of the moderation rows. `/` separates the parts because no id may contain it (ids are
 * `[A-Za-z0-9_.:-]`), so a prefix such as `block/<user>/` never matches another user's rows.
 */
export const moderationKeys = {
  /** `blocker` blocked `blocked`: the blocker's list. */
  block: (blockerId: string, blockedId: string) => `block/${blockerId}/${blockedId}`,
  blocksOf: (blockerId: string) => `block/${blockerId}/`,
  /** The same block under the blocked user: who blocked them (for hiding presence both ways). */
  blockedBy: (blockedId: string, blockerId: string) => `blockedby/${blockedId}/${blockerId}`,
  blockersOf: (blockedId: string) => `blockedby/${blockedId}/`,
  ban: (channelId: string, userId: string) => `ban/${channelId}/${userId}`,
  bansOf: (channelId: string) => `ban/${channelId}/`,
  slowMode: (channelId: string) => `slow/${channelId}`,
  slowTurn: (channelId: string, userId: string) => `turn/${channelId}/${userId}`,
  report: (status: 'open' | 'resolved', reportId: string) => `report/${status}/${reportId}`,
  reports: (status: 'open' | 'resolved') => `report/${status}/`,
} as const;

/** The id after a key's prefix (the last part of the key). */
export function lastPart(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
