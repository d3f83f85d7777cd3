import type { Message, UserProfile } from '@natter/client';
import { describe, expect, it } from 'vitest';
import {
  attachmentsLabel,
  avatarColor,
  findMentions,
  markMatches,
  splitText,
  systemLine,
  systemPeople,
} from '../src/components/format.js';
import { buildRows } from '../src/components/rows.js';
import { applyPending, mergeMessages } from '../src/stores/message-items.js';

const bob: UserProfile = { id: 'b'.repeat(26), username: 'bob', displayName: 'Bob Stone', createdAt: 0 };
const carol: UserProfile = { id: 'c'.repeat(26), username: 'carol', displayName: 'Carol', createdAt: 0 };

function message(seq: number, senderId: string, at: number, extra: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`.padEnd(26, '0'),
    channelId: 'x'.repeat(26),
    seq,
    senderId,
    clientMsgId: `k${seq}`.padEnd(26, '0'),
    kind: 'text',
    text: `text ${seq}`,
    mentions: [],
    system: null,
    createdAt: at,
    ...extra,
  };
}

describe('system lines and previews', () => {
  const users = new Map([
    [bob.id, bob],
    [carol.id, carol],
  ]);
  it('names the actor and the members of a system message, and the people to load', () => {
    const added = message(2, bob.id, 0, {
      kind: 'system',
      text: '',
      system: { action: 'members_added', actorId: bob.id, memberIds: [carol.id] },
    });
    expect(systemLine(added, users)).toBe('Bob Stone added Carol');
    expect(systemPeople(added)).toEqual([bob.id, carol.id]);
    const slow = message(3, bob.id, 0, {
      kind: 'system',
      text: '',
      system: { action: 'slow_mode', actorId: bob.id, seconds: 30 },
    });
    expect(systemLine(slow, users)).toBe('Bob Stone turned slow mode on: one message per 30 s');
    const notice = message(4, bob.id, 0, {
      kind: 'system',
      text: 'Maintenance at 6',
      system: { action: 'notice', actorId: bob.id },
    });
    expect(systemLine(notice, users)).toBe('Maintenance at 6');
    const encrypted = message(5, bob.id, 0, {
      kind: 'system',
      text: '',
      system: { action: 'mls_message', actorId: bob.id, deviceId: 'dev_1', ciphertext: 'AAAA' },
    });
    expect(systemLine(encrypted, users)).toBe('Encrypted message');
    const commit = message(6, bob.id, 0, {
      kind: 'system',
      text: '',
      system: {
        action: 'mls_commit',
        actorId: bob.id,
        deviceId: 'dev_1',
        epoch: 2,
        commit: 'AAAA',
        added: [],
        removed: [],
      },
    });
    expect(systemLine(commit, users)).toBe('Bob Stone changed the encryption keys');
  });

  it('labels a message without text by its attachments', () => {
    const attachment = (kind: 'image' | 'video' | 'file') =>
      ({ kind }) as unknown as NonNullable<Message['attachments']>[number];
    expect(attachmentsLabel(message(1, bob.id, 0, { text: '' }))).toBe('');
    expect(attachmentsLabel(message(1, bob.id, 0, { attachments: [attachment('image')] }))).toBe('Photo');
    expect(
      attachmentsLabel(message(1, bob.id, 0, { attachments: [attachment('image'), attachment('image')] })),
    ).toBe('2 photos');
    expect(
      attachmentsLabel(message(1, bob.id, 0, { attachments: [attachment('image'), attachment('file')] })),
    ).toBe('2 files');
    expect(attachmentsLabel(message(1, bob.id, 0, { attachments: [attachment('video')] }))).toBe('Video');
  });
});

describe('text helpers', () => {
  it('splits links (http and https only) and mentions by username or display name', () => {
    const parts = splitText('see https://a.example/x?y=1. @Bob Stone and @carol, not javascript:alert(1)', [
      bob,
      carol,
    ]);
    expect(parts).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://a.example/x?y=1', href: 'https://a.example/x?y=1' },
      { kind: 'text', text: '. ' },
      { kind: 'mention', text: '@Bob Stone', userId: bob.id },
      { kind: 'text', text: ' and ' },
      { kind: 'mention', text: '@carol', userId: carol.id },
      { kind: 'text', text: ', not javascript:alert(1)' },
    ]);
  });

  it('finds mentions by @username and @Display Name, not inside longer words', () => {
    expect(findMentions('hi @Bob Stone', [bob, carol])).toEqual([bob.id]);
    expect(findMentions('hi @carolyn', [bob, carol])).toEqual([]);
    expect(findMentions('@carol!', [bob, carol])).toEqual([carol.id]);
  });

  it('marks every occurrence of the query words, case-insensitively', () => {
    expect(markMatches('Blue whale, blue sky', 'blue')).toEqual([
      { kind: 'mark', text: 'Blue' },
      { kind: 'text', text: ' whale, ' },
      { kind: 'mark', text: 'blue' },
      { kind: 'text', text: ' sky' },
    ]);
  });

  it('gives one user the same avatar colour every time', () => {
    expect(avatarColor(bob.id)).toBe(avatarColor(bob.id));
    expect(avatarColor(bob.id)).not.toBe(avatarColor(carol.id));
  });
});

describe('rows and items', () => {
  const day = new Date(2026, 0, 5, 10, 0).getTime();

  it('groups by sender within five minutes, separates days, and places the divider after the read marker', () => {
    const items = mergeMessages(
      [],
      [
        message(1, bob.id, day),
        message(2, bob.id, day + 60_000),
        message(3, carol.id, day + 120_000),
        message(4, carol.id, day + 86_400_000),
      ],
    );
    const rows = buildRows(items, 'me', 2, day + 86_400_000);
    expect(rows.map((r) => (r.kind === 'message' ? `${r.item.key.slice(0, 2)}:${r.first}` : r.kind))).toEqual(
      ['day', 'k1:true', 'k2:false', 'divider', 'k3:true', 'day', 'k4:true'],
    );
  });

  it('keeps unchanged rows as the same objects and replaces a pending row by its stored copy in place', () => {
    const first = mergeMessages([], [message(1, bob.id, day)]);
    const pending = applyPending(first, {
      clientMsgId: 'k2'.padEnd(26, '0'),
      channelId: 'x'.repeat(26),
      text: 'text 2',
      mentions: [],
      createdAt: day,
      status: 'pending',
      attempts: 0,
    });
    expect(pending[1]?.status).toBe('pending');
    const stored = mergeMessages(pending, [message(2, 'me', day)]);
    expect(stored).toHaveLength(2);
    expect(stored[0]).toBe(first[0]);
    expect(stored[1]).toMatchObject({ status: 'sent', key: 'k2'.padEnd(26, '0') });
    expect(mergeMessages(stored, [message(1, bob.id, day)])[0]).toBe(first[0]);
  });
});
