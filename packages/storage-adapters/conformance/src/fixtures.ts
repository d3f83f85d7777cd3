import type { Message, MessageEntry, SyncEntry, SystemEvent } from '@natter/protocol';
import type {
  AppendedMessage,
  ChannelRecord,
  MemberRecord,
  NewMessage,
  RefreshTokenRecord,
  StorageAdapter,
  UserRecord,
} from '@natter/server-core';

/** Test data builders. Ids are readable and unique per process, so checks never collide. */

let counter = 0;
const nextId = (prefix: string): string => `${prefix}_${(++counter).toString(36).padStart(6, '0')}`;

/** A user named `username` (id `u_<username>`). */
export function userRecord(username: string, overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: `u_${username}`,
    username,
    displayName: username.toUpperCase(),
    passwordHash: `$scrypt$hash-of-${username}`,
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

/** A refresh token row. */
export function refreshToken(
  tokenHash: string,
  userId: string,
  deviceId: string,
  expiresAt: number,
): RefreshTokenRecord {
  return { tokenHash, userId, deviceId, expiresAt };
}

/** A group channel row (direct when `directKey` is given). */
export function channelRecord(
  id: string,
  overrides: Partial<Omit<ChannelRecord, 'lastSeq'>> = {},
): Omit<ChannelRecord, 'lastSeq'> {
  return {
    id,
    kind: 'group',
    name: `name of ${id}`,
    createdBy: 'u_owner',
    createdAt: 1_000,
    directKey: null,
    ...overrides,
  };
}

/** A membership row. */
export function memberRecord(
  channelId: string,
  userId: string,
  overrides: Partial<MemberRecord> = {},
): MemberRecord {
  return {
    channelId,
    userId,
    role: 'member',
    joinedAt: 1_000,
    joinedSeq: 1,
    readSeq: 0,
    deliveredSeq: 0,
    ...overrides,
  };
}

/** A text message with a fresh id. */
export function textMessage(
  channelId: string,
  senderId: string,
  overrides: Partial<NewMessage> = {},
): NewMessage {
  const id = nextId('m');
  return {
    id,
    channelId,
    senderId,
    clientMsgId: null,
    kind: 'text',
    text: `text of ${id}`,
    mentions: [],
    system: null,
    createdAt: 2_000,
    ...overrides,
  };
}

/** A system message recording `event`. */
export function systemMessage(
  channelId: string,
  event: SystemEvent,
  overrides: Partial<NewMessage> = {},
): NewMessage {
  return textMessage(channelId, event.actorId, { kind: 'system', text: '', system: event, ...overrides });
}

/** The stored form of `message` once it got `seq`. */
export function stored(message: NewMessage, seq: number): Message {
  return { ...message, seq };
}

/** Creates a channel with the given members in one write. */
export async function createChannel(
  adapter: StorageAdapter,
  channelId: string,
  memberIds: readonly string[],
  overrides: Partial<Omit<ChannelRecord, 'lastSeq'>> = {},
): Promise<void> {
  await adapter.chat.write(async (tx) => {
    const channel = channelRecord(channelId, overrides);
    await tx.insertChannel(channel);
    for (const userId of memberIds) {
      await tx.upsertMember(memberRecord(channelId, userId, { joinedAt: channel.createdAt }));
    }
  });
}

/** Appends one message in its own write, hinted with its channel. */
export function append(
  adapter: StorageAdapter,
  message: NewMessage,
  recipientIds: readonly string[],
): Promise<AppendedMessage> {
  return adapter.chat.write((tx) => tx.appendMessage(message, recipientIds), {
    channelId: message.channelId,
  });
}

/** Appends `count` text messages from `senderId` one after another; returns them in order. */
export async function appendMany(
  adapter: StorageAdapter,
  channelId: string,
  senderId: string,
  recipientIds: readonly string[],
  count: number,
  overrides: (i: number) => Partial<NewMessage> = () => ({}),
): Promise<AppendedMessage[]> {
  const results: AppendedMessage[] = [];
  for (let i = 0; i < count; i++) {
    results.push(await append(adapter, textMessage(channelId, senderId, overrides(i)), recipientIds));
  }
  return results;
}

/** Reads a user's whole sync log in pages of `pageSize`. */
export async function readWholeSync(adapter: StorageAdapter, userId: string, pageSize = 100) {
  const entries: MessageEntry[] = [];
  for (;;) {
    const after = entries.at(-1)?.pos ?? 0;
    const page = await adapter.chat.readSync(userId, after, pageSize);
    if (page.length > 0 && page[0]!.pos <= after) {
      throw new Error(`readSync(${userId}, ${after}) returned an entry at pos ${page[0]!.pos}`);
    }
    entries.push(...messageEntries(page));
    if (page.length < pageSize) return entries;
  }
}

/**
 * The entries of a log that holds only new messages (checks that never edit, delete or react): any other
 * kind there is a failure of the check.
 */
export function messageEntries(entries: readonly SyncEntry[]): MessageEntry[] {
  return entries.map((entry) => {
    if (entry.kind !== 'message') throw new Error(`entry ${entry.pos} is a ${entry.kind} entry`);
    return entry;
  });
}

/** Reads a log that holds only new messages, see {@link messageEntries}. */
export async function readMessageLog(
  adapter: StorageAdapter,
  userId: string,
  after: number,
  limit: number,
): Promise<MessageEntry[]> {
  return messageEntries(await adapter.chat.readSync(userId, after, limit));
}

/** A promise with its resolver, to hold a write open while the check looks from outside. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets other queued work run: resolves after a macrotask turn. */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
