import {
  type AccountStore,
  type ChatStore,
  type CheckedAppendResult,
  type CheckedSend,
  defineStorage,
  type StorageAdapter,
  type WriteHint,
  type WriteTransaction,
} from '@natter/server-core';
import { remoteObject } from './remote-object.js';
import { errorToWire, type RpcClient } from './rpc.js';
import type { StoreDescription } from './storage-host.js';

/** The chat reads every store has; each is a call to the primary. */
const CHAT_READS = [
  'getChannel',
  'getMember',
  'listMembers',
  'listChannelsOf',
  'getMessage',
  'countUnread',
  'readHistory',
  'mentionsOf',
  'syncHead',
  'readSync',
] as const;

/** The operations every transaction has (`appendChecked`, `lifecycle`, `moderation` are added when present). */
const TX_OPERATIONS = [
  'getChannel',
  'getMember',
  'listMembers',
  'findDirectChannel',
  'findByClientMsgId',
  'insertChannel',
  'upsertMember',
  'deleteMember',
  'renameChannel',
  'raiseReadMarker',
  'raiseDeliveredMarker',
  'appendMessage',
] as const;

let nextWriteId = 1;

/**
 * One `write(fn)` of a worker: `fn` runs here, and each operation it calls on the transaction runs in the
 * primary inside one store transaction (see StorageHost). The primary must queue writes in call order, so
 * the write is opened there before `write()` returns: with its first operation when `fn` calls one at once
 * (it usually does), else by itself. A write whose first operation, called at once, is `appendChecked`
 * (the port's one-round-trip send) is one call: the primary runs the whole send and answers after the
 * commit; the transaction ends there, and a later operation throws.
 */
function remoteWrite<T>(
  rpc: RpcClient,
  description: StoreDescription,
  fn: (tx: WriteTransaction) => Promise<T>,
  hint: WriteHint | undefined,
): Promise<T> {
  const id = nextWriteId++;
  let state: 'calling' | 'open' | 'sealed' = 'calling';
  const op = (path: string, args: unknown[]): Promise<unknown> => {
    if (state === 'sealed')
      return Promise.reject(new Error(`${path} after appendChecked: a send ends its transaction`));
    if (state === 'calling') {
      state = 'open';
      return rpc.call('write.begin', [id, hint, path, args]);
    }
    return rpc.call('write.op', [id, path, args]);
  };
  const tx: Record<string, unknown> = {};
  for (const name of TX_OPERATIONS) tx[name] = (...args: unknown[]) => op(name, args);
  if (description.appendChecked) {
    tx.appendChecked = (send: CheckedSend): Promise<CheckedAppendResult> => {
      if (state !== 'calling') return op('appendChecked', [send]) as Promise<CheckedAppendResult>;
      state = 'sealed';
      return rpc.call('write.one', [hint, send]);
    };
  }
  const { capabilities } = description.manifest;
  if (capabilities.lifecycle) tx.lifecycle = nested(op, 'lifecycle');
  if (capabilities.moderation) tx.moderation = nested(op, 'moderation');

  let running: Promise<T>;
  try {
    running = fn(tx as unknown as WriteTransaction);
  } catch (error) {
    running = Promise.reject(error);
  }
  if (state === 'calling') {
    state = 'open';
    rpc.call('write.open', [id, hint]).catch(() => undefined);
  }
  const finish = async (outcome: { ok: true; value: T } | { ok: false; error: unknown }): Promise<T> => {
    if (state === 'open') {
      await rpc.call('write.end', [id, outcome.ok, outcome.ok ? undefined : errorToWire(outcome.error)]);
    }
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  };
  return running.then(
    (value) => finish({ ok: true, value }),
    (error: unknown) =>
      finish({ ok: false, error }).catch(() => {
        throw error;
      }),
  );
}

/** Operations of a transaction's part (`lifecycle`, `moderation`), by name. */
function nested(op: (path: string, args: unknown[]) => Promise<unknown>, prefix: string): object {
  return new Proxy(
    {},
    {
      get: (_target, name) =>
        typeof name === 'string' && name !== 'then'
          ? (...args: unknown[]) => op(`${prefix}.${name}`, args)
          : undefined,
    },
  );
}

/**
 * The storage of a worker: every call goes to the store the primary opened ({@link StorageHost}), so one
 * process writes the SQLite file and the sync contract holds across workers (one writer allocates every
 * `seq` and `pos` inside its transactions). Resolves once the primary described its store.
 */
export async function connectIpcStorage(rpc: RpcClient): Promise<StorageAdapter> {
  const description = await rpc.call<StoreDescription>('store.describe', []);
  const { capabilities } = description.manifest;
  return defineStorage({
    manifest: description.manifest,
    async open() {
      const chat: Record<string, unknown> = {
        epoch: () => description.epoch,
        write: <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint) =>
          remoteWrite(rpc, description, fn, hint),
      };
      for (const name of CHAT_READS) chat[name] = (...args: unknown[]) => rpc.call(`chat.${name}`, args);
      if (capabilities.search)
        chat.searchMessages = (...args: unknown[]) => rpc.call('chat.searchMessages', args);
      if (capabilities.lifecycle) chat.lifecycle = remoteObject(rpc, 'chat.lifecycle');
      if (capabilities.moderation) chat.moderation = remoteObject(rpc, 'chat.moderation');
      return {
        accounts: remoteObject<AccountStore>(rpc, 'accounts'),
        chat: chat as unknown as ChatStore,
        // The primary owns the store and closes it; a worker only stops using it.
        close: async () => undefined,
      };
    },
  });
}
