/**
 * The key layout. One LevelDB keyspace of UTF-8 string keys, each `<prefix>!<part>!<part>...`;
 * LevelDB sorts keys bytewise, so every "all X of Y" read is one contiguous range scan.
 *
 * - A part followed by another part is escaped (`%` -> `%25`, `!` -> `%21`), so it never contains
 *   the separator and `<prefix>!<part>!` is a prefix of exactly the keys of that part. The last
 *   part is stored as is (nothing follows it, so it cannot be confused with a separator).
 * - Numbers (seq, pos) are 16 hex digits, zero-padded: bytewise order is numeric order.
 */

/** Width of an encoded seq or pos: 16 hex digits cover every safe integer. */
const NUMBER_WIDTH = 16;

/** Escapes a key part that is followed by another part. */
export function part(value: string): string {
  return value.replace(/[%!]/g, (c) => (c === '%' ? '%25' : '%21'));
}

/** A seq or pos as a fixed-width, order-preserving key part. */
export function num(value: number): string {
  return value.toString(16).padStart(NUMBER_WIDTH, '0');
}

/** Every key of the store. */
export const key = {
  /** Random id of the store's lifetime (string). */
  epoch: 'meta!epoch',
  /** Layout version (number). */
  schemaVersion: 'meta!schema',
  /** UserRecord. */
  user: (userId: string) => `u!${userId}`,
  /** user id, by username: the username index. */
  username: (username: string) => `un!${username}`,
  /** RefreshTokenRecord. */
  token: (tokenHash: string) => `t!${tokenHash}`,
  /** 1: index of a user's tokens by device, for revocation. */
  tokenOfUser: (userId: string, deviceId: string, tokenHash: string) =>
    `tu!${part(userId)}!${part(deviceId)}!${tokenHash}`,
  /** SessionRevocation, by subject (`s:<sessionId>` or `u:<userId>`). */
  revocation: (subject: string) => `rv!${subject}`,
  /** 1: index of revocations by expiry (layout 4), so expired rows are dropped with one range scan. */
  revocationExpiry: (expiresAt: number, subject: string) => `rve!${num(expiresAt)}!${subject}`,
  /** ChannelValue. */
  channel: (channelId: string) => `c!${channelId}`,
  /** channel id, by direct key. */
  direct: (directKey: string) => `d!${directKey}`,
  /** MemberRecord. */
  member: (channelId: string, userId: string) => `mb!${part(channelId)}!${userId}`,
  /** 1: index of a user's memberships. */
  memberOfUser: (userId: string, channelId: string) => `mu!${part(userId)}!${channelId}`,
  /** Message. */
  message: (channelId: string, seq: number) => `m!${part(channelId)}!${num(seq)}`,
  /** number: the user's newest sync position. */
  syncHead: (userId: string) => `h!${userId}`,
  /** MessageRef: the user's sync log entry at `pos`. */
  sync: (userId: string, pos: number) => `s!${part(userId)}!${num(pos)}`,
  /** ClientMsgValue: an idempotency key. */
  clientMsg: (senderId: string, clientMsgId: string) => `k!${part(senderId)}!${clientMsgId}`,
  /** MessageRef: a text message mentioning the user, by message id. */
  mention: (userId: string, messageId: string) => `n!${part(userId)}!${messageId}`,
  /** 1: one reaction (message, emoji, user). */
  reaction: (channelId: string, seq: number, emoji: string, userId: string) =>
    `r!${part(channelId)}!${num(seq)}!${part(emoji)}!${userId}`,
  /** number: the caller's position of a mutation key (0: it changed nothing). */
  mutation: (userId: string, clientId: string) => `x!${part(userId)}!${clientId}`,
  /** ModerationRecord, by the core's moderation key (id characters and `/`, never `!`). */
  moderation: (moderationKey: string) => `md!${moderationKey}`,
} as const;

/** Key prefixes of the range scans. Each ends with the separator. */
export const prefix = {
  username: 'un!',
  revocationExpiry: 'rve!',
  tokensOfUser: (userId: string, deviceId?: string) =>
    deviceId === undefined ? `tu!${part(userId)}!` : `tu!${part(userId)}!${part(deviceId)}!`,
  members: (channelId: string) => `mb!${part(channelId)}!`,
  membershipsOf: (userId: string) => `mu!${part(userId)}!`,
  messages: (channelId: string) => `m!${part(channelId)}!`,
  sync: (userId: string) => `s!${part(userId)}!`,
  mentions: (userId: string) => `n!${part(userId)}!`,
  reactions: (channelId: string, seq: number) => `r!${part(channelId)}!${num(seq)}!`,
  reactors: (channelId: string, seq: number, emoji: string) =>
    `r!${part(channelId)}!${num(seq)}!${part(emoji)}!`,
} as const;

/**
 * The range of every key starting with `p` (which ends with `!`): `[p, p')` where `p'` ends with
 * `"`, the character after `!`. No key of another part falls inside, whatever follows the prefix.
 */
export function rangeOf(p: string): { gte: string; lt: string } {
  return { gte: p, lt: `${p.slice(0, -1)}"` };
}
