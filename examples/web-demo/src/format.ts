/** Pure formatting: times, days, "last seen", names and system messages. No DOM, so it is unit-tested in Node. */
import type { Message, PresenceInfo, UserProfile } from '@natter/client';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Local calendar day of a time, as `YYYY-MM-DD`: the key of a day separator. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** Whole calendar days between two times (0 = same day, 1 = yesterday). */
export function daysBetween(earlier: number, later: number): number {
  return Math.round((startOfDay(later) - startOfDay(earlier)) / DAY);
}

/** "Today", "Yesterday", "Monday" within a week, else a date ("3 March 2025"). */
export function dayLabel(ms: number, now: number, locale?: string): string {
  const days = daysBetween(ms, now);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days > 1 && days < 7) return new Intl.DateTimeFormat(locale, { weekday: 'long' }).format(ms);
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  }).format(ms);
}

/** Clock time of a message ("14:05"). */
export function clockTime(ms: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' }).format(ms);
}

/** Time in the conversation list: the clock today, "Yesterday", a weekday this week, else a short date. */
export function listTime(ms: number, now: number, locale?: string): string {
  const days = daysBetween(ms, now);
  if (days <= 0) return clockTime(ms, locale);
  if (days === 1) return 'Yesterday';
  if (days < 7) return new Intl.DateTimeFormat(locale, { weekday: 'short' }).format(ms);
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(ms);
}

/** "online", "away", "last seen 5 min ago", "last seen yesterday at 14:05", or "offline". */
export function presenceLabel(info: PresenceInfo | undefined, now: number, locale?: string): string {
  if (!info) return 'offline';
  if (info.status === 'online') return 'online';
  if (info.status === 'away') return 'away';
  return info.lastActiveAt === null ? 'offline' : `last seen ${ago(info.lastActiveAt, now, locale)}`;
}

/** "just now", "5 min ago", "2 h ago", "yesterday at 14:05", "on 3 March". */
export function ago(ms: number, now: number, locale?: string): string {
  const elapsed = Math.max(0, now - ms);
  if (elapsed < MINUTE) return 'just now';
  if (elapsed < HOUR) return `${Math.floor(elapsed / MINUTE)} min ago`;
  const days = daysBetween(ms, now);
  if (days === 0) return `${Math.floor(elapsed / HOUR)} h ago`;
  if (days === 1) return `yesterday at ${clockTime(ms, locale)}`;
  return `on ${dayLabel(ms, now, locale)}`;
}

/** A user's display name, or a placeholder until the profile is loaded. */
export function nameOf(users: ReadonlyMap<string, UserProfile>, userId: string, me?: string): string {
  if (userId === me) return 'You';
  return users.get(userId)?.displayName ?? '…';
}

/** "Bob", "Bob and Carol", "Bob, Carol and Dan". */
export function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The line a system message shows ("Alice added Bob and Carol"). */
export function systemText(message: Message, users: ReadonlyMap<string, UserProfile>, me?: string): string {
  const s = message.system;
  if (!s) return '';
  const actor = nameOf(users, s.actorId, me);
  switch (s.action) {
    case 'created':
      return s.name === null ? `${actor} started the conversation` : `${actor} created the group “${s.name}”`;
    case 'members_added':
      return `${actor} added ${joinNames(s.memberIds.map((id) => nameOf(users, id, me)))}`;
    case 'member_removed':
      return `${actor} removed ${nameOf(users, s.memberId, me)}`;
    case 'member_left':
      return `${actor} left`;
    case 'renamed':
      return `${actor} renamed the group to “${s.name}”`;
    case 'notice':
      // A notice the app posted through the server API: its text is the line to show.
      return message.text;
    case 'slow_mode':
      return s.seconds === 0
        ? `${actor} turned slow mode off`
        : `${actor} turned slow mode on: one message per ${s.seconds} s`;
  }
}

/** The preview line of a conversation ("You: hi", "Bob: hi", or a system line). */
export function previewText(
  message: Message | null | undefined,
  users: ReadonlyMap<string, UserProfile>,
  me: string | undefined,
  isGroup: boolean,
): string {
  if (!message) return 'No messages yet';
  if (message.kind === 'system') return systemText(message, users, me);
  const text = message.text || attachmentLabel(message);
  if (message.senderId === me) return `You: ${text}`;
  return isGroup ? `${nameOf(users, message.senderId, me)}: ${text}` : text;
}

/** "Photo" or "File" for a message with attachments and no text. */
function attachmentLabel(message: Message): string {
  const first = message.attachments?.[0];
  return first ? (first.kind === 'image' ? 'Photo' : first.kind === 'video' ? 'Video' : 'File') : '';
}

/** Up to two initials for an avatar. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0]!, parts[parts.length - 1]!] : parts.slice(0, 1);
  return letters.map((p) => [...p][0]!.toUpperCase()).join('') || '?';
}

/** A stable hue for an id, so a person keeps one avatar colour everywhere. */
export function hueOf(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return hash % 360;
}

/** Who is typing, as a sentence ("Bob is typing…", "Bob and Carol are typing…"). */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length > 3) return 'Several people are typing…';
  return `${joinNames(names)} ${names.length === 1 ? 'is' : 'are'} typing…`;
}

/** The `@username` tokens of a text that name one of `candidates`, as user ids (for `send`'s mentions). */
export function findMentions(text: string, candidates: readonly UserProfile[]): string[] {
  const byName = new Map(candidates.map((u) => [u.username.toLowerCase(), u.id]));
  const ids = new Set<string>();
  for (const match of text.matchAll(/(^|[^\w@])@([a-z0-9_.-]{3,32})/gi)) {
    const id = byName.get(match[2]!.toLowerCase().replace(/[.-]+$/, ''));
    if (id) ids.add(id);
  }
  return [...ids];
}
