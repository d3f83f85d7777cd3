import type { Message } from '@natter/protocol';
import type {
  ChatStore,
  CheckedAppendResult,
  CheckedSend,
  StorageAdapter,
  StoreManifest,
  WriteTransaction,
} from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';
import type { StorageFactory } from '../src/index.js';

/**
 * Deliberately broken adapters: each wraps the (correct) memory adapter and breaks one guarantee,
 * so the self-test can show the suite catches it.
 */

type Breakage = (inner: StorageAdapter) => StorageAdapter;

/** A factory for `break(memory)`; with `persistent`, reopening hands back the same (kept) data. */
export function brokenFactory(
  breakage: Breakage = (inner) => inner,
  { persistent = false } = {},
): StorageFactory {
  return async () => {
    const inner = createMemoryStorage();
    const adapter = breakage(persistentManifest(inner, persistent));
    return {
      adapter,
      reopen: persistent ? async () => adapter : undefined,
      cleanup: async () => {},
    };
  };
}

function persistentManifest(inner: StorageAdapter, persistent: boolean): StorageAdapter {
  if (!persistent) return inner;
  const manifest = { ...inner.manifest, capabilities: { ...inner.manifest.capabilities, persistent: true } };
  return wrap(inner, { manifest });
}

/** A copy of `inner` with some members replaced. */
function wrap(
  inner: StorageAdapter,
  parts: { manifest?: StoreManifest; chat?: Partial<ChatStore> } = {},
): StorageAdapter {
  return {
    manifest: parts.manifest ?? inner.manifest,
    accounts: inner.accounts,
    chat: { ...bindChat(inner.chat), ...parts.chat },
    open: () => inner.open(),
    close: () => inner.close(),
  };
}

/** Wraps every transaction handed to `write` functions. */
function wrapTransactions(
  inner: StorageAdapter,
  wrapTx: (tx: WriteTransaction) => WriteTransaction,
): StorageAdapter {
  return wrap(inner, {
    chat: { write: (fn, hint) => inner.chat.write((tx) => fn(wrapTx(tx)), hint) },
  });
}

/** Burns a seq now and then: every third append first stores a hidden extra message. */
export const skipsSequenceNumbers: Breakage = (inner) => {
  let appends = 0;
  return wrapTransactions(inner, (tx) => ({
    ...bindTx(tx),
    appendMessage: async (message, recipients) => {
      if (++appends % 3 === 0)
        await tx.appendMessage({ ...message, id: `${message.id}-ghost`, clientMsgId: null }, []);
      return tx.appendMessage(message, recipients);
    },
  }));
};

/** Commits a write's changes even when its function throws (the promise still rejects). */
export const noRollback: Breakage = (inner) =>
  wrap(inner, {
    chat: {
      write: async (fn, hint) => {
        let failure: { error: unknown } | undefined;
        const value = await inner.chat.write(async (tx) => {
          try {
            return await fn(tx);
          } catch (error) {
            failure = { error };
            return undefined as never;
          }
        }, hint);
        if (failure) throw failure.error;
        return value;
      },
    },
  });

/** Loses everything on reopen although its manifest says `persistent`. */
export function forgetfulFactory(): StorageFactory {
  return async () => {
    const fresh = () => persistentManifest(createMemoryStorage(), true);
    return { adapter: fresh(), reopen: async () => fresh(), cleanup: async () => {} };
  };
}

/** Returns history pages newest first. */
export const historyDescending: Breakage = (inner) =>
  wrap(inner, {
    chat: {
      readHistory: async (channelId, query) => {
        const page = await inner.chat.readHistory(channelId, query);
        return { ...page, messages: [...page.messages].reverse() };
      },
    },
  });

/** Counts the reader's own messages as unread. */
export const unreadCountsOwn: Breakage = (inner) =>
  wrap(inner, {
    chat: {
      countUnread: async (channelId, _userId, afterSeq) =>
        inner.chat.countUnread(channelId, '\u0000nobody', afterSeq),
    },
  });

/** Lets a read marker go down. */
export const lowersReadMarker: Breakage = (inner) =>
  wrapTransactions(inner, (tx) => ({
    ...bindTx(tx),
    raiseReadMarker: async (channelId, userId, seq) => {
      const member = await tx.getMember(channelId, userId);
      if (member) await tx.upsertMember({ ...member, readSeq: seq });
      return seq;
    },
  }));

/** Lets a delivery marker go down. */
export const lowersDeliveredMarker: Breakage = (inner) =>
  wrapTransactions(inner, (tx) => ({
    ...bindTx(tx),
    raiseDeliveredMarker: async (channelId, userId, seq) => {
      const member = await tx.getMember(channelId, userId);
      if (member) await tx.upsertMember({ ...member, deliveredSeq: seq });
      return member ? seq : 0;
    },
  }));

/**
 * Answers `mentionsOf` from its own index of every committed mention, without asking whether the
 * reader is (still) a member or joined later: the classic "removed member still reads" bug.
 */
export const mentionsIgnoreMembership: Breakage = (inner) => {
  const index: Array<{ userId: string; channelId: string; seq: number; id: string }> = [];
  return wrap(inner, {
    chat: {
      write: async (fn, hint) => {
        const seen: typeof index = [];
        const value = await inner.chat.write(
          (tx) =>
            fn({
              ...bindTx(tx),
              appendMessage: async (message, recipients) => {
                const appended = await tx.appendMessage(message, recipients);
                if (message.kind === 'text') {
                  for (const userId of new Set(message.mentions)) {
                    seen.push({
                      userId,
                      channelId: message.channelId,
                      seq: appended.message.seq,
                      id: message.id,
                    });
                  }
                }
                return appended;
              },
            }),
          hint,
        );
        index.push(...seen);
        return value;
      },
      mentionsOf: async (query) => {
        const refs = index
          .filter((r) => r.userId === query.userId)
          .filter((r) => query.channelId === undefined || r.channelId === query.channelId)
          .filter((r) => query.beforeId === undefined || r.id < query.beforeId)
          .sort((a, b) => (a.id < b.id ? 1 : -1))
          .slice(0, query.limit);
        const found = await Promise.all(refs.map((r) => inner.chat.getMessage(r.channelId, r.seq)));
        return found.filter((m): m is Message => m !== undefined);
      },
    },
  });
};

/** Matches messages containing any of the words instead of all of them. */
export const searchMatchesAnyWord: Breakage = (inner) =>
  wrap(inner, {
    chat: {
      searchMessages: async (query) => {
        const byId = new Map<string, Message>();
        for (const word of query.text.split(/\s+/).filter(Boolean)) {
          for (const m of await inner.chat.searchMessages!({ ...query, text: word })) byId.set(m.id, m);
        }
        return [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, query.limit);
      },
    },
  });

/** Passes the text to a query parser that rejects quotes and operators (as raw FTS5 MATCH would). */
export const searchRejectsSyntax: Breakage = (inner) =>
  wrap(inner, {
    chat: {
      searchMessages: async (query) => {
        if (/["*()^:]|\bNEAR\b/.test(query.text)) throw new Error(`fts5: syntax error near "${query.text}"`);
        return inner.chat.searchMessages!(query);
      },
    },
  });

/** Skips one entry when paging the sync log (an off-by-one on the cursor). */
export const syncSkipsEntry: Breakage = (inner) =>
  wrap(inner, {
    chat: {
      readSync: async (userId, after, limit) =>
        inner.chat.readSync(userId, after > 0 ? after + 1 : after, limit),
    },
  });

function bindTx(tx: WriteTransaction): WriteTransaction {
  return {
    getChannel: tx.getChannel.bind(tx),
    getMember: tx.getMember.bind(tx),
    listMembers: tx.listMembers.bind(tx),
    findDirectChannel: tx.findDirectChannel.bind(tx),
    findByClientMsgId: tx.findByClientMsgId.bind(tx),
    insertChannel: tx.insertChannel.bind(tx),
    upsertMember: tx.upsertMember.bind(tx),
    deleteMember: tx.deleteMember.bind(tx),
    renameChannel: tx.renameChannel.bind(tx),
    raiseReadMarker: tx.raiseReadMarker.bind(tx),
    raiseDeliveredMarker: tx.raiseDeliveredMarker.bind(tx),
    appendMessage: tx.appendMessage.bind(tx),
  };
}

/** What an `appendChecked` built on the memory adapter gets wrong, if anything. */
interface CheckedBugs {
  /** Stores the send of a non-member. */
  anyone?: boolean;
  /** Keeps mentions of non-members. */
  allMentions?: boolean;
  /** Does not look the key up first (the retry fails with CONFLICT instead of being a duplicate). */
  noKeyLookup?: boolean;
}

/**
 * Gives the memory adapter an `appendChecked` made of its own methods, with `bugs`; without bugs it
 * is correct, so the send checks must pass on it and fail with each bug.
 */
export function withAppendChecked(bugs: CheckedBugs = {}): Breakage {
  return (inner) =>
    wrapTransactions(inner, (tx) => ({
      ...bindTx(tx),
      appendChecked: async (send: CheckedSend): Promise<CheckedAppendResult> => {
        const earlier = bugs.noKeyLookup
          ? undefined
          : await tx.findByClientMsgId(send.senderId, send.clientMsgId);
        if (earlier) return { kind: 'duplicate', message: earlier.message, senderPos: earlier.senderPos };
        const members = (await tx.listMembers(send.channelId)).map((m) => m.userId);
        if (!bugs.anyone && !members.includes(send.senderId)) return { kind: 'notMember' };
        const mentions = bugs.allMentions
          ? send.mentions
          : send.mentions.filter((id) => members.includes(id));
        const appended = await tx.appendMessage(
          { ...send, kind: 'text', mentions, system: null },
          members.includes(send.senderId) ? members : [...members, send.senderId],
        );
        return { kind: 'appended', appended };
      },
    }));
}

function bindChat(chat: ChatStore): ChatStore {
  return {
    epoch: chat.epoch.bind(chat),
    write: chat.write.bind(chat),
    getChannel: chat.getChannel.bind(chat),
    getMember: chat.getMember.bind(chat),
    listMembers: chat.listMembers.bind(chat),
    listChannelsOf: chat.listChannelsOf.bind(chat),
    getMessage: chat.getMessage.bind(chat),
    countUnread: chat.countUnread.bind(chat),
    readHistory: chat.readHistory.bind(chat),
    mentionsOf: chat.mentionsOf.bind(chat),
    searchMessages: chat.searchMessages?.bind(chat),
    syncHead: chat.syncHead.bind(chat),
    readSync: chat.readSync.bind(chat),
    // A getter, as the lifecycle reads of an adapter may only exist while it is open.
    get lifecycle() {
      return chat.lifecycle;
    },
    get moderation() {
      return chat.moderation;
    },
  };
}
