import type { Message, MessageEntry } from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import { applyEncryptedChange } from '../../src/e2ee/encrypted-changes.js';
import type { EncryptedPayload } from '../../src/e2ee/payload.js';
import { decodePayload, encodePayload } from '../../src/e2ee/payload.js';

const original: Message = {
  id: 'm1',
  channelId: 'g_1',
  seq: 3,
  senderId: 'u_ada',
  clientMsgId: 'c_target',
  kind: 'text',
  text: 'teh plan',
  mentions: [],
  system: null,
  createdAt: 1,
};

function carrier(senderId: string): MessageEntry {
  return {
    kind: 'message',
    pos: 9,
    message: {
      ...original,
      id: 'm2',
      seq: 4,
      senderId,
      clientMsgId: 'c_change',
      kind: 'system',
      text: '',
      createdAt: 5,
    },
  };
}

async function apply(senderId: string, payload: EncryptedPayload) {
  const stored = new Map([[original.clientMsgId!, { ...original }]]);
  const events: string[] = [];
  await applyEncryptedChange(
    {
      find: async (_channelId, clientMsgId) => stored.get(clientMsgId),
      put: async (m) => void stored.set(m.clientMsgId!, m),
      me: () => 'u_ada',
      edited: (m) => events.push(`edited:${m.text}:v${m.version}`),
      deleted: (m) => events.push(`deleted:${m.deletedBy}`),
      reaction: (e) => events.push(`react:${e.userId}:${e.emoji}:${e.seq}`),
    },
    carrier(senderId),
    { sender: { userId: senderId, deviceId: 'd' }, payload },
    'live',
  );
  return { events, stored: stored.get(original.clientMsgId!)! };
}

describe('encrypted edits, deletes and reactions', () => {
  it("applies the author's edit and delete to the cached message", async () => {
    const edit = await apply('u_ada', { t: 'edit', target: 'c_target', text: 'the plan' });
    expect(edit.events).toEqual(['edited:the plan:v2']);
    expect(edit.stored).toMatchObject({ text: 'the plan', editedAt: 5, version: 2 });
    const del = await apply('u_ada', { t: 'delete', target: 'c_target' });
    expect(del.events).toEqual(['deleted:u_ada']);
    expect(del.stored).toMatchObject({ text: '', deletedAt: 5 });
  });

  it("ignores another member's edit or delete: the server cannot check what it cannot read", async () => {
    expect((await apply('u_eve', { t: 'edit', target: 'c_target', text: 'forged' })).events).toEqual([]);
    expect((await apply('u_eve', { t: 'delete', target: 'c_target' })).stored.text).toBe('teh plan');
  });

  it("lets anyone react, naming the reactor and the target's seq, and counts it on the cached message", async () => {
    const reacted = await apply('u_eve', { t: 'react', target: 'c_target', emoji: '👍', add: true });
    expect(reacted.events).toEqual(['react:u_eve:👍:3']);
    expect(reacted.stored.reactions).toEqual([{ emoji: '👍', count: 1, me: false }]);
  });

  it('refuses payloads that are not natter messages', () => {
    expect(decodePayload(encodePayload({ t: 'msg', text: 'hi' }))).toEqual({ t: 'msg', text: 'hi' });
    const bad = (value: unknown) => decodePayload(new TextEncoder().encode(JSON.stringify(value)));
    expect(bad({ t: 'msg', text: 3 })).toBeUndefined();
    expect(bad({ t: 'edit', target: 'x' })).toBeUndefined();
    expect(bad({ t: 'react', target: 'x', emoji: '👍' })).toBeUndefined();
    expect(bad({ t: 'msg', text: 'x', attachments: [{ v: 1 }] })).toBeUndefined();
    expect(decodePayload(new Uint8Array([0xff, 0xfe]))).toBeUndefined();
  });
});
