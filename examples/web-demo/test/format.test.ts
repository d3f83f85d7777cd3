import type { Message, UserProfile } from '@natter/client';
import { describe, expect, it } from 'vitest';
import {
  ago,
  dayKey,
  dayLabel,
  findMentions,
  initials,
  joinNames,
  presenceLabel,
  previewText,
  systemText,
  typingText,
} from '../src/format.js';

const at = (y: number, m: number, d: number, h = 12, min = 0) => new Date(y, m - 1, d, h, min).getTime();
const user = (id: string, username: string, displayName: string): UserProfile => ({
  id,
  username,
  displayName,
  createdAt: 0,
});
const users = new Map([
  ['u_a', user('u_a', 'alice', 'Alice')],
  ['u_b', user('u_b', 'bob', 'Bob')],
  ['u_c', user('u_c', 'carol', 'Carol')],
]);
const message = (over: Partial<Message>): Message => ({
  id: 'm1',
  channelId: 'g_1',
  seq: 1,
  senderId: 'u_b',
  clientMsgId: 'c1',
  kind: 'text',
  text: 'hi',
  mentions: [],
  system: null,
  createdAt: 0,
  ...over,
});

describe('format', () => {
  it('labels days relative to now', () => {
    const now = at(2025, 3, 12, 9);
    expect(dayLabel(at(2025, 3, 12, 1), now, 'en-GB')).toBe('Today');
    expect(dayLabel(at(2025, 3, 11, 23), now, 'en-GB')).toBe('Yesterday');
    expect(dayLabel(at(2025, 3, 8), now, 'en-GB')).toBe('Saturday');
    expect(dayLabel(at(2025, 1, 3), now, 'en-GB')).toBe('3 January');
    expect(dayLabel(at(2024, 1, 3), now, 'en-GB')).toBe('3 January 2024');
  });

  it('keys a day by the local calendar date', () => {
    expect(dayKey(at(2025, 3, 2, 23, 59))).toBe('2025-03-02');
    expect(dayKey(at(2025, 3, 3, 0, 1))).toBe('2025-03-03');
  });

  it('tells presence and last seen', () => {
    const now = at(2025, 3, 12, 12);
    expect(presenceLabel({ userId: 'u', status: 'online', lastActiveAt: now }, now)).toBe('online');
    expect(presenceLabel({ userId: 'u', status: 'away', lastActiveAt: now }, now)).toBe('away');
    expect(presenceLabel({ userId: 'u', status: 'offline', lastActiveAt: now - 5 * 60_000 }, now)).toBe(
      'last seen 5 min ago',
    );
    expect(presenceLabel({ userId: 'u', status: 'offline', lastActiveAt: null }, now)).toBe('offline');
    expect(presenceLabel(undefined, now)).toBe('offline');
    expect(ago(now - 10_000, now)).toBe('just now');
    expect(ago(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(ago(at(2025, 3, 11, 14, 5), now, 'en-GB')).toBe('yesterday at 14:05');
  });

  it('describes system messages with names', () => {
    const system = (s: Message['system']) =>
      systemText(message({ kind: 'system', text: '', system: s }), users, 'u_a');
    expect(system({ action: 'created', actorId: 'u_a', name: 'Team', memberIds: ['u_b'] })).toBe(
      'You created the group “Team”',
    );
    expect(system({ action: 'members_added', actorId: 'u_b', memberIds: ['u_a', 'u_c'] })).toBe(
      'Bob added You and Carol',
    );
    expect(system({ action: 'member_removed', actorId: 'u_b', memberId: 'u_c' })).toBe('Bob removed Carol');
    expect(system({ action: 'member_left', actorId: 'u_c' })).toBe('Carol left');
    expect(system({ action: 'renamed', actorId: 'u_c', name: 'Crew' })).toBe(
      'Carol renamed the group to “Crew”',
    );
    const notice = message({
      kind: 'system',
      text: 'Maintenance at 10:00',
      system: { action: 'notice', actorId: 'app' },
    });
    expect(systemText(notice, users, 'u_a')).toBe('Maintenance at 10:00');
  });

  it('previews the last message of a conversation', () => {
    expect(previewText(message({ senderId: 'u_a' }), users, 'u_a', true)).toBe('You: hi');
    expect(previewText(message({}), users, 'u_a', true)).toBe('Bob: hi');
    expect(previewText(message({}), users, 'u_a', false)).toBe('hi');
    expect(previewText(null, users, 'u_a', false)).toBe('No messages yet');
  });

  it('joins names, initials and typing sentences', () => {
    expect(joinNames(['Bob'])).toBe('Bob');
    expect(joinNames(['Bob', 'Carol', 'Dan'])).toBe('Bob, Carol and Dan');
    expect(initials('Ada Lovelace')).toBe('AL');
    expect(initials('bob')).toBe('B');
    expect(typingText(['Bob'])).toBe('Bob is typing…');
    expect(typingText(['Bob', 'Carol'])).toBe('Bob and Carol are typing…');
    expect(typingText([])).toBe('');
  });

  it('finds @mentions of members only', () => {
    const members = [...users.values()];
    expect(findMentions('hey @bob and @Carol.', members)).toEqual(['u_b', 'u_c']);
    expect(findMentions('mail me at x@bob.com or @nobody', members)).toEqual([]);
    expect(findMentions('@alice @alice', members)).toEqual(['u_a']);
  });
});
