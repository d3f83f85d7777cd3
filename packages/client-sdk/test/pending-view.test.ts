import type { Message } from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import { withPendingChanges } from '../src/pending-view.js';
import type { OutboxMutationItem } from '../src/store.js';

const message: Message = {
  id: 'm_1',
  channelId: 'g_1',
  seq: 4,
  senderId: 'u_1',
  clientMsgId: 'c_1',
  kind: 'text',
  text: 'secret plan',
  mentions: ['u_2'],
  system: null,
  createdAt: 1_000,
  reactions: [{ emoji: '👍', count: 2, me: false }],
};

function change(extra: Partial<OutboxMutationItem> & Pick<OutboxMutationItem, 'kind'>): OutboxMutationItem {
  return {
    clientMsgId: 'mut_1',
    userId: 'u_1',
    channelId: 'g_1',
    target: { seq: 4 },
    createdAt: 2_000,
    order: 1,
    status: 'pending',
    attempts: 0,
    ...extra,
  } as OutboxMutationItem;
}

describe('the optimistic view of pending changes', () => {
  it('shows a pending edit with its new text and mentions', () => {
    const [view] = withPendingChanges(
      [message],
      [change({ kind: 'edit', text: 'new plan', mentions: [] })],
      'u_1',
    );
    expect(view).toMatchObject({ text: 'new plan', mentions: [], seq: 4 });
  });

  it('shows a pending delete as the tombstone the server will return, with nothing of the content', () => {
    const [view] = withPendingChanges([message], [change({ kind: 'delete' })], 'u_1');
    expect(view).toMatchObject({ text: '', mentions: [], deletedAt: 2_000, deletedBy: 'u_1' });
    expect(view?.reactions).toBeUndefined();
    expect(JSON.stringify(view)).not.toContain('secret');
  });

  it("adds the user's own reaction once, however often the change is applied", () => {
    const react = change({ kind: 'react', emoji: '👍', add: true });
    const [once] = withPendingChanges([message], [react], 'u_1');
    expect(once?.reactions).toEqual([{ emoji: '👍', count: 3, me: true }]);
    const [twice] = withPendingChanges([once!], [react], 'u_1');
    expect(twice?.reactions).toEqual([{ emoji: '👍', count: 3, me: true }]);
  });

  it('leaves other messages and changes to other channels alone', () => {
    const other = change({ kind: 'edit', text: 'x', channelId: 'g_2' });
    expect(withPendingChanges([message], [other], 'u_1')).toEqual([message]);
  });
});
