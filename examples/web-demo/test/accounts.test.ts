import type { Session } from '@natter/client';
import { describe, expect, it } from 'vitest';
import {
  type AccountStorage,
  chooseAccount,
  currentAccount,
  forgetSession,
  leaveAccount,
  loadSession,
  savedAccounts,
  saveSession,
} from '../src/accounts.js';

class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const session = (username: string): Session => ({
  user: { id: `u_${username}`, username, displayName: username.toUpperCase(), createdAt: 0 },
  deviceId: 'dev_1',
  accessToken: 'a',
  refreshToken: 'r',
  expiresAt: 0,
});

describe('accounts', () => {
  it('lets two windows use two accounts while a new tab opens on the last one', () => {
    const local = new MemoryStorage();
    const windowA: AccountStorage = { local, tab: new MemoryStorage() };
    const windowB: AccountStorage = { local, tab: new MemoryStorage() };
    saveSession(session('alice'), windowA);
    chooseAccount('alice', windowA);
    expect(currentAccount(windowB)).toBe('alice');
    saveSession(session('bob'), windowB);
    chooseAccount('bob', windowB);
    expect(currentAccount(windowA)).toBe('alice');
    expect(currentAccount(windowB)).toBe('bob');
    expect(currentAccount({ local, tab: new MemoryStorage() })).toBe('bob');
    expect(savedAccounts(windowA).map((s) => s.user.username)).toEqual(['alice', 'bob']);
  });

  it('forgets a session and falls back to the sign-in screen', () => {
    const storage: AccountStorage = { local: new MemoryStorage(), tab: new MemoryStorage() };
    saveSession(session('alice'), storage);
    chooseAccount('alice', storage);
    forgetSession('alice', storage);
    expect(loadSession('alice', storage)).toBeUndefined();
    expect(currentAccount(storage)).toBeUndefined();
  });

  it('switching account keeps the session saved', () => {
    const storage: AccountStorage = { local: new MemoryStorage(), tab: new MemoryStorage() };
    saveSession(session('alice'), storage);
    chooseAccount('alice', storage);
    leaveAccount(storage);
    expect(currentAccount(storage)).toBeUndefined();
    expect(loadSession('alice', storage)?.user.id).toBe('u_alice');
  });

  it('ignores a damaged saved session', () => {
    const storage: AccountStorage = { local: new MemoryStorage(), tab: new MemoryStorage() };
    storage.local.setItem('natter-demo.session.alice', '{not json');
    expect(loadSession('alice', storage)).toBeUndefined();
  });
});
