import { ErrorCode, NatterError } from '@natter/protocol';
import type { LifecycleReads } from '../ports/lifecycle.js';
import type { ModerationReads } from '../ports/moderation.js';
import type {
  AccountStore,
  ChatStore,
  HistoryQuery,
  LateEntriesListener,
  MessageQuery,
  StorageAdapter,
  StoreManifest,
  WriteHint,
  WriteTransaction,
} from '../ports/storage.js';
import { checkStorageManifest } from './manifest.js';

/** The stores of an open adapter, valid until its `close()`. */
export interface OpenedStorage {
  readonly accounts: AccountStore;
  readonly chat: ChatStore;
  /** Releases what `open` acquired; called once no call is in flight. */
  close(): Promise<void>;
}

/** What an adapter author writes: a manifest and an `open` hook. The lifecycle is the core's. */
export interface StorageDefinition {
  readonly manifest: StoreManifest;
  /**
   * Opens (and migrates) the store and returns its stores. Called by `open()`, never twice at once, never
   * while open. @throws NatterError STORE_VERSION_UNSUPPORTED for a schema newer than the code.
   */
  open(): Promise<OpenedStorage>;
}

type Status = 'closed' | 'opening' | 'open' | 'closing';

const badArgument = (method: string, what: string) =>
  new NatterError(ErrorCode.BAD_REQUEST, `storage.${method}: ${what}`);

function checkId(method: string, name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) {
    throw badArgument(method, `${name} must be a non-empty string id`);
  }
}

function checkUint(method: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badArgument(method, `${name} must be a non-negative integer`);
  }
}

/** A revocation subject: `s:` or `u:` and an id. */
function checkSubject(method: string, value: unknown): void {
  if (typeof value !== 'string' || !/^[su]:./.test(value) || value.length > 130) {
    throw badArgument(method, 'subject must be s:<sessionId> or u:<userId>');
  }
}

function checkInt(method: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw badArgument(method, `${name} must be an integer`);
  }
}

/** A page size: 0 (an empty answer) or more. */
function checkLimit(method: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badArgument(method, 'limit must be a non-negative integer');
  }
}

function checkMessageQuery(method: string, query: MessageQuery): void {
  checkId(method, 'userId', query.userId);
  checkLimit(method, query.limit);
  if (query.beforeId !== undefined) checkId(method, 'beforeId', query.beforeId);
  if (query.channelId !== undefined) checkId(method, 'channelId', query.channelId);
}

function checkHistoryQuery(query: HistoryQuery): void {
  checkLimit('readHistory', query.limit);
  checkInt('readHistory', 'minSeq', query.minSeq);
  const anchors = [query.before, query.after, query.around].filter((x) => x !== undefined);
  if (anchors.length > 1) throw badArgument('readHistory', 'at most one of before, after, around');
  // Any integer: an anchor outside the channel simply finds no messages on that side.
  for (const anchor of anchors) checkInt('readHistory', 'anchor', anchor);
}

/**
 * Makes a {@link StorageAdapter} from an adapter's manifest and `open` hook, in the abstract-level style:
 * the core owns the lifecycle, so every adapter behaves the same way.
 *
 * - `open()` checks the manifest (contract version, capabilities), then calls the hook; it is idempotent,
 *   waits for a `close()` in progress, and after a failure leaves the adapter closed so it can be retried.
 * - Every call checks its arguments (a malformed id or limit is `NATTER_BAD_REQUEST`, never a query) and
 *   that the adapter is open: calls made while closed or closing reject with `NATTER_UNAVAILABLE`.
 * - `close()` refuses new calls at once, waits for the calls in flight (reads and writes alike) to settle,
 *   then calls the opened stores' `close()`. It is idempotent and waits for an `open()` in progress.
 */
export function defineStorage(definition: StorageDefinition): StorageAdapter {
  const { manifest } = definition;
  let status: Status = 'closed';
  let opened: OpenedStorage | undefined;
  let transition: Promise<void> | undefined;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  /** Listeners of late entries (ChatStore.onLateEntries), kept across open and close. */
  const lateListeners = new Set<LateEntriesListener>();
  let lateUnsubscribe: (() => void) | undefined;

  const notOpen = () => new NatterError(ErrorCode.UNAVAILABLE, `${manifest.name} storage is not open`);

  const enter = (): OpenedStorage => {
    if (status !== 'open' || !opened) throw notOpen();
    inFlight++;
    return opened;
  };
  const leave = (): void => {
    inFlight--;
    if (inFlight === 0) drained?.();
  };
  /** Runs one call against the open stores, counted as in flight until it settles. */
  const call = async <T>(run: (stores: OpenedStorage) => Promise<T>): Promise<T> => {
    const stores = enter();
    try {
      return await run(stores);
    } finally {
      leave();
    }
  };

  const accounts: AccountStore = {
    createUser: async (user) => {
      checkId('createUser', 'user.id', user.id);
      return call((s) => s.accounts.createUser(user));
    },
    getUser: async (userId) => {
      checkId('getUser', 'userId', userId);
      return call((s) => s.accounts.getUser(userId));
    },
    getUsers: async (userIds) => {
      for (const id of userIds) checkId('getUsers', 'userIds[]', id);
      return call((s) => s.accounts.getUsers(userIds));
    },
    findUserByUsername: async (username) => {
      checkId('findUserByUsername', 'username', username);
      return call((s) => s.accounts.findUserByUsername(username));
    },
    searchUsers: async (prefix, limit) => {
      checkLimit('searchUsers', limit);
      return call((s) => s.accounts.searchUsers(prefix, limit));
    },
    updateUser: async (userId, patch) => {
      checkId('updateUser', 'userId', userId);
      return call((s) => s.accounts.updateUser(userId, patch));
    },
    saveRefreshToken: async (token) => {
      checkId('saveRefreshToken', 'userId', token.userId);
      return call((s) => s.accounts.saveRefreshToken(token));
    },
    takeRefreshToken: async (tokenHash, now) => {
      checkUint('takeRefreshToken', 'now', now);
      return call((s) => s.accounts.takeRefreshToken(tokenHash, now));
    },
    revokeRefreshTokens: async (userId, deviceId) => {
      checkId('revokeRefreshTokens', 'userId', userId);
      return call((s) => s.accounts.revokeRefreshTokens(userId, deviceId));
    },
    addRevocation: async (revocation, now) => {
      checkSubject('addRevocation', revocation.subject);
      checkInt('addRevocation', 'issuedBefore', revocation.issuedBefore);
      checkInt('addRevocation', 'expiresAt', revocation.expiresAt);
      checkInt('addRevocation', 'now', now);
      return call((s) => s.accounts.addRevocation({ ...revocation }, now));
    },
    revokedBefore: async (subjects, now) => {
      if (subjects.length > 16) throw badArgument('revokedBefore', 'at most 16 subjects');
      for (const subject of subjects) checkSubject('revokedBefore', subject);
      checkInt('revokedBefore', 'now', now);
      return call((s) => s.accounts.revokedBefore([...subjects], now));
    },
  };

  const chat: ChatStore = {
    epoch: () => {
      if (status !== 'open' || !opened) throw notOpen();
      return opened.chat.epoch();
    },
    write: async <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint) =>
      call((s) => s.chat.write(fn, hint)),
    getChannel: async (channelId) => {
      checkId('getChannel', 'channelId', channelId);
      return call((s) => s.chat.getChannel(channelId));
    },
    getMember: async (channelId, userId) => {
      checkId('getMember', 'channelId', channelId);
      checkId('getMember', 'userId', userId);
      return call((s) => s.chat.getMember(channelId, userId));
    },
    listMembers: async (channelId) => {
      checkId('listMembers', 'channelId', channelId);
      return call((s) => s.chat.listMembers(channelId));
    },
    listChannelsOf: async (userId) => {
      checkId('listChannelsOf', 'userId', userId);
      return call((s) => s.chat.listChannelsOf(userId));
    },
    getMessage: async (channelId, seq) => {
      checkId('getMessage', 'channelId', channelId);
      checkUint('getMessage', 'seq', seq);
      return call((s) => s.chat.getMessage(channelId, seq));
    },
    countUnread: async (channelId, userId, afterSeq) => {
      checkId('countUnread', 'channelId', channelId);
      checkId('countUnread', 'userId', userId);
      checkUint('countUnread', 'afterSeq', afterSeq);
      return call((s) => s.chat.countUnread(channelId, userId, afterSeq));
    },
    readHistory: async (channelId, query) => {
      checkId('readHistory', 'channelId', channelId);
      checkHistoryQuery(query);
      return call((s) => s.chat.readHistory(channelId, query));
    },
    mentionsOf: async (query) => {
      checkMessageQuery('mentionsOf', query);
      return call((s) => s.chat.mentionsOf(query));
    },
    ...(manifest.capabilities.search
      ? {
          searchMessages: async (query: MessageQuery & { text: string }) => {
            checkMessageQuery('searchMessages', query);
            if (typeof query.text !== 'string') throw badArgument('searchMessages', 'text must be a string');
            return call((s) => {
              if (!s.chat.searchMessages) throw notOpen();
              return s.chat.searchMessages(query);
            });
          },
        }
      : {}),
    syncHead: async (userId) => {
      checkId('syncHead', 'userId', userId);
      return call((s) => s.chat.syncHead(userId));
    },
    readSync: async (userId, after, limit) => {
      checkId('readSync', 'userId', userId);
      checkUint('readSync', 'after', after);
      checkLimit('readSync', limit);
      return call((s) => s.chat.readSync(userId, after, limit));
    },
    ...(manifest.capabilities.lifecycle ? { lifecycle: lifecycleReads(call, notOpen) } : {}),
    ...(manifest.capabilities.moderation ? { moderation: moderationReads(call, notOpen) } : {}),
    onLateEntries(listener) {
      lateListeners.add(listener);
      return () => {
        lateListeners.delete(listener);
      };
    },
  };

  const adapter: StorageAdapter = {
    manifest,
    accounts,
    chat,
    async open() {
      if (transition) await transition.catch(() => undefined);
      if (status === 'open') return;
      checkStorageManifest(adapter);
      status = 'opening';
      transition = (async () => {
        try {
          opened = await definition.open();
          lateUnsubscribe = opened.chat.onLateEntries?.((entries) => {
            for (const listener of lateListeners) listener(entries);
          });
          status = 'open';
        } catch (err) {
          opened = undefined;
          status = 'closed';
          throw err;
        }
      })();
      try {
        await transition;
      } finally {
        transition = undefined;
      }
    },
    async close() {
      if (transition) await transition.catch(() => undefined);
      if (status !== 'open' || !opened) return;
      const stores = opened;
      status = 'closing';
      transition = (async () => {
        try {
          if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
          drained = undefined;
          lateUnsubscribe?.();
          lateUnsubscribe = undefined;
          await stores.close();
        } finally {
          opened = undefined;
          status = 'closed';
        }
      })();
      try {
        await transition;
      } finally {
        transition = undefined;
      }
    },
  };
  return adapter;
}

/** The lifecycle reads of an opened store, checked and counted like the other reads. */
function lifecycleReads(
  call: <T>(fn: (s: OpenedStorage) => Promise<T>) => Promise<T>,
  notOpen: () => Error,
): LifecycleReads {
  const reads = (s: OpenedStorage): LifecycleReads => {
    if (!s.chat.lifecycle) throw notOpen();
    return s.chat.lifecycle;
  };
  return {
    reactionsOf: async (channelId, seqs, viewerId) => {
      checkId('reactionsOf', 'channelId', channelId);
      checkId('reactionsOf', 'viewerId', viewerId);
      for (const seq of seqs) checkUint('reactionsOf', 'seq', seq);
      return call((s) => reads(s).reactionsOf(channelId, seqs, viewerId));
    },
    reactorsOf: async (channelId, seq, emoji, after, limit) => {
      checkId('reactorsOf', 'channelId', channelId);
      checkUint('reactorsOf', 'seq', seq);
      checkLimit('reactorsOf', limit);
      return call((s) => reads(s).reactorsOf(channelId, seq, emoji, after, limit));
    },
    readThread: async (channelId, rootSeq, query) => {
      checkId('readThread', 'channelId', channelId);
      checkUint('readThread', 'rootSeq', rootSeq);
      checkHistoryQuery(query);
      return call((s) => reads(s).readThread(channelId, rootSeq, query));
    },
  };
}

/** A moderation key: id characters, `:` and the separator `/` only, as the core builds them. */
function checkKey(method: string, name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length > 300 || !/^[A-Za-z0-9_.:/-]*$/.test(value)) {
    throw badArgument(method, `${name} must be a moderation key`);
  }
}

/** The moderation reads of an opened store, checked and counted like the other reads. */
function moderationReads(
  call: <T>(fn: (s: OpenedStorage) => Promise<T>) => Promise<T>,
  notOpen: () => Error,
): ModerationReads {
  const reads = (s: OpenedStorage): ModerationReads => {
    if (!s.chat.moderation) throw notOpen();
    return s.chat.moderation;
  };
  return {
    get: async (key) => {
      checkKey('moderation.get', 'key', key);
      return call((s) => reads(s).get(key));
    },
    list: async (prefix, after, limit) => {
      checkKey('moderation.list', 'prefix', prefix);
      if (after !== undefined) checkKey('moderation.list', 'after', after);
      checkLimit('moderation.list', limit);
      return call((s) => reads(s).list(prefix, after, limit));
    },
  };
}
