import type { ChatStore, StorageAdapter, WriteTransaction } from '@natter/server-core';
import type { StorageFactory } from './harness.js';

/**
 * `factory` with `WriteTransaction.appendChecked` hidden from every write, so `ChatService` sends
 * through its own path (`findByClientMsgId`, `listMembers`, `appendMessage`) on the same store. An
 * adapter that implements `appendChecked` runs the `send (ChatService)` checks through this too, so
 * both paths are held to one contract.
 */
export function withoutAppendChecked(factory: StorageFactory): StorageFactory {
  return async () => {
    const harness = await factory();
    const reopen = harness.reopen;
    return {
      adapter: hide(harness.adapter),
      ...(reopen ? { reopen: async () => hide(await reopen()) } : {}),
      cleanup: () => harness.cleanup(),
    };
  };
}

/** `target` seen through a proxy that answers `hidden` as absent and binds methods to `target`. */
function without<T extends object>(target: T, hidden: PropertyKey, replaced: Partial<T> = {}): T {
  return new Proxy(target, {
    get: (t, prop) => {
      if (prop === hidden) return undefined;
      if (prop in replaced) return replaced[prop as keyof T];
      const value = Reflect.get(t, prop) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
    },
  });
}

function hide(adapter: StorageAdapter): StorageAdapter {
  const { chat } = adapter;
  const write: ChatStore['write'] = (fn, hint) =>
    chat.write((tx) => fn(without<WriteTransaction>(tx, 'appendChecked')), hint);
  return {
    manifest: adapter.manifest,
    accounts: adapter.accounts,
    chat: without<ChatStore>(chat, Symbol('none'), { write }),
    open: () => adapter.open(),
    close: () => adapter.close(),
  };
}
