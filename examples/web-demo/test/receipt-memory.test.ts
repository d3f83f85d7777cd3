import { describe, expect, it } from 'vitest';
import { ReceiptMemory } from '../src/receipt-memory.js';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> {
  const items = new Map<string, string>();
  return { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v) };
}

describe('ReceiptMemory', () => {
  it('remembers markers per channel and account, and markers only rise', () => {
    const storage = memoryStorage();
    const alice = new ReceiptMemory('Alice', storage);
    alice.remember('c1', [{ userId: 'bob', readSeq: 5, deliveredSeq: 6 }]);
    alice.remember('c1', [{ userId: 'bob', readSeq: 3, deliveredSeq: 9 }]);
    alice.remember('c2', [{ userId: 'carol', readSeq: 1, deliveredSeq: 1 }]);
    // Another instance (a reload) reads the same; another account reads nothing.
    expect(new ReceiptMemory('alice', storage).get('c1')).toEqual([
      { userId: 'bob', readSeq: 5, deliveredSeq: 9 },
    ]);
    expect(new ReceiptMemory('bob', storage).get('c1')).toEqual([]);
    expect(alice.get('c2')).toHaveLength(1);
  });

  it('treats damaged storage as empty', () => {
    const storage = memoryStorage();
    storage.setItem('natter-demo.receipts.alice', '{not json');
    const memory = new ReceiptMemory('alice', storage);
    expect(memory.get('c1')).toEqual([]);
    memory.remember('c1', [{ userId: 'bob', readSeq: 2, deliveredSeq: 2 }]);
    expect(memory.get('c1')).toEqual([{ userId: 'bob', readSeq: 2, deliveredSeq: 2 }]);
  });
});
