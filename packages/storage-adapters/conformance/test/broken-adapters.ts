import type { ChatStore, StorageAdapter, StoreManifest, WriteTransaction } from '@natter/server-core';
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
    appendMessage: tx.appendMessage.bind(tx),
  };
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
    syncHead: chat.syncHead.bind(chat),
    readSync: chat.readSync.bind(chat),
  };
}
