import { createMemoryStorage } from '@natter/storage-memory';
import { describe, expect, it } from 'vitest';
import { deliverLateEntries } from '../src/chat/late-entries.js';
import {
  type ChatStore,
  type Delivery,
  defineStorage,
  type LateEntriesListener,
  STORAGE_CONTRACT_VERSION,
} from '../src/index.js';

describe('late entries (ChatStore.onLateEntries)', () => {
  it('defineStorage forwards the opened store’s reports while open, and not after close', async () => {
    const inner = createMemoryStorage();
    let report: LateEntriesListener | undefined;
    const storage = defineStorage({
      manifest: { ...inner.manifest, contractVersion: STORAGE_CONTRACT_VERSION },
      async open() {
        await inner.open();
        const chat: ChatStore = Object.assign(Object.create(inner.chat) as ChatStore, {
          onLateEntries(listener: LateEntriesListener) {
            report = listener;
            return () => {
              report = undefined;
            };
          },
        });
        return { accounts: inner.accounts, chat, close: () => inner.close() };
      },
    });
    const seen: Array<{ userId: string; pos: number }> = [];
    storage.chat.onLateEntries!((entries) => seen.push(...entries));
    await storage.open();
    report?.([{ userId: 'u_a', pos: 3 }]);
    await storage.close();
    expect(report).toBeUndefined();
    expect(seen).toEqual([{ userId: 'u_a', pos: 3 }]);
  });

  it('deliverLateEntries reads the reported entries back and hands them to the sink', async () => {
    const storage = createMemoryStorage();
    await storage.open();
    await storage.chat.write(async (tx) => {
      await tx.insertChannel({
        id: 'c1',
        kind: 'group',
        name: 'g',
        createdBy: 'u_a',
        createdAt: 1,
        directKey: null,
      });
      for (const userId of ['u_a', 'u_b']) {
        await tx.upsertMember({
          channelId: 'c1',
          userId,
          role: 'member',
          joinedAt: 1,
          joinedSeq: 1,
          readSeq: 0,
          deliveredSeq: 0,
        });
      }
    });
    for (const text of ['one', 'two', 'three']) {
      await storage.chat.write(
        (tx) =>
          tx.appendMessage(
            {
              id: `m_${text}`,
              channelId: 'c1',
              senderId: 'u_a',
              clientMsgId: null,
              kind: 'text',
              text,
              mentions: [],
              system: null,
              createdAt: 2,
            },
            ['u_a', 'u_b'],
          ),
        { channelId: 'c1' },
      );
    }
    const delivered: Delivery[][] = [];
    const failures: unknown[] = [];
    const deliver = deliverLateEntries(storage.chat, { deliver: (d) => delivered.push([...d]) }, (e) =>
      failures.push(e),
    );
    deliver([
      { userId: 'u_b', pos: 2 },
      { userId: 'u_b', pos: 3 },
      { userId: 'u_a', pos: 3 },
    ]);
    for (let i = 0; i < 200 && delivered.length === 0 && failures.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(failures).toEqual([]);
    expect(delivered).toHaveLength(1);
    expect(
      delivered[0]!.map((d) => [
        d.userId,
        d.entry.pos,
        d.entry.kind === 'message' ? d.entry.message.text : '?',
      ]),
    ).toEqual([
      ['u_b', 2, 'two'],
      ['u_b', 3, 'three'],
      ['u_a', 3, 'three'],
    ]);
    await storage.close();
  });
});
