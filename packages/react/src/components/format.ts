/** Pure helpers the components share: names, avatar colours, times, and splitting text into links and mentions. */
import type { CachedChannel, Message, UserProfile } from '@natter/client';

/** What a user is called: the display name, else the username, else a short form of the id. */
export function nameOf(userId: string, users: ReadonlyMap<string, UserProfile>): string {
  const user = users.get(userId);
  return user?.displayName || user?.username || 'Someone';
}

/** A channel's title: the group name, or the other member's name in a direct channel. */
export function channelTitle(
  channel: CachedChannel,
  me: string | undefined,
  users: ReadonlyMap<string, UserProfile>,
): string {
  if (channel.kind === 'group') return channel.name ?? 'Group';
  const other = channel.memberIds.find((id) => id !== me) ?? me;
  return other ? nameOf(other, users) : 'Direct';
}

/** Up to two initials of a name, for avatars. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters =
    parts.length > 1 ? `${parts[0]?.[0] ?? ''}${parts.at(-1)?.[0] ?? ''}` : (parts[0]?.slice(0, 2) ?? '?');
  return letters.toUpperCase() || '?';
}

/**
 * An avatar colour from the user id (never the name, which changes and loads late), so one person has
 * the same colour everywhere. Dark enough for white initials (contrast at least 4.5:1).
 */
export function avatarColor(userId: string): string {
  let hash = 0;
  for (let i = 0; i < userId.length; i++) hash = (hash * 31 + userId.charCodeAt(i)) >>> 0;
  return `hsl(${hash % 360} 65% 26%)`;
}

/** `14:05`, in the user's locale. */
export function timeOf(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** The calendar day of a timestamp in local time, as a comparable key. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** `Today`, `Yesterday`, or the date. */
export function dayLabel(ms: number, now = Date.now()): string {
  if (dayKey(ms) === dayKey(now)) return 'Today';
  if (dayKey(ms) === dayKey(now - 86_400_000)) return 'Yesterday';
  return new Date(ms).toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}

/** A piece of message text: plain, a link, a mention, or a search hit. */
export type TextPart =
  | { kind: 'text'; text: string }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'mention'; text: string; userId: string }
  | { kind: 'mark'; text: string };

const LINK = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/**
 * Splits text into plain parts, links (http and https only, so no `javascript:`), and mentions of the given
 * users (by `@username` or `@Display Name`).
 */
export function splitText(text: string, mentioned: readonly UserProfile[] = []): TextPart[] {
  const names = mentioned
    .flatMap((u) => [
      { token: `@${u.username}`, userId: u.id },
      { token: `@${u.displayName}`, userId: u.id },
    ])
    .filter((n) => n.token.length > 1)
    .sort((a, b) => b.token.length - a.token.length);
  const parts: TextPart[] = [];
  let last = 0;
  const push = (part: TextPart) => {
    const previous = parts.at(-1);
    if (part.kind === 'text' && previous?.kind === 'text') previous.text += part.text;
    else parts.push(part);
  };
  for (const match of text.matchAll(LINK)) {
    pushMentions(text.slice(last, match.index), names, push);
    push({ kind: 'link', text: match[0], href: match[0] });
    last = match.index + match[0].length;
  }
  pushMentions(text.slice(last), names, push);
  return parts;
}

function pushMentions(
  text: string,
  names: ReadonlyArray<{ token: string; userId: string }>,
  push: (part: TextPart) => void,
): void {
  let i = 0;
  let plainFrom = 0;
  while (i < text.length) {
    const found = text[i] === '@' ? names.find((n) => text.startsWith(n.token, i)) : undefined;
    if (found) {
      if (i > plainFrom) push({ kind: 'text', text: text.slice(plainFrom, i) });
      push({ kind: 'mention', text: found.token, userId: found.userId });
      i += found.token.length;
      plainFrom = i;
    } else i++;
  }
  if (plainFrom < text.length) push({ kind: 'text', text: text.slice(plainFrom) });
}

/** Splits text around case-insensitive occurrences of the query's words, for highlighting search hits. */
export function markMatches(text: string, query: string): TextPart[] {
  const words = query
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (words.length === 0) return [{ kind: 'text', text }];
  const pattern = new RegExp(`(${words.join('|')})`, 'gi');
  // With one capturing group, `split` puts the matches at the odd indices.
  return text
    .split(pattern)
    .map(
      (piece, i): TextPart => (i % 2 === 1 ? { kind: 'mark', text: piece } : { kind: 'text', text: piece }),
    )
    .filter((part) => part.text !== '');
}

/**
 * The users a text mentions: `@username` or `@Display Name` of any of the candidates, followed by a
 * word boundary. What the composer sends as `mentions`.
 */
export function findMentions(text: string, candidates: readonly UserProfile[]): string[] {
  const found = new Set<string>();
  for (const user of candidates) {
    for (const token of [`@${user.username}`, `@${user.displayName}`]) {
      if (token.length < 2) continue;
      let at = text.indexOf(token);
      while (at >= 0) {
        const after = text[at + token.length];
        if (after === undefined || !/[\p{L}\p{N}_]/u.test(after)) {
          found.add(user.id);
          break;
        }
        at = text.indexOf(token, at + 1);
      }
    }
  }
  return [...found];
}

/** The users a system message names (actor and members), to load their names. */
export function systemPeople(message: Message): string[] {
  const system = message.system;
  if (!system) return [];
  return [
    system.actorId,
    ...('memberIds' in system ? system.memberIds : []),
    ...('memberId' in system ? [system.memberId] : []),
  ];
}

/** The line a system message shows, in the timeline and as a channel's preview. */
export function systemLine(message: Message, users: ReadonlyMap<string, UserProfile>): string {
  const system = message.system;
  if (!system) return message.text;
  const actor = nameOf(system.actorId, users);
  switch (system.action) {
    case 'created':
      return system.name
        ? `${actor} created the group “${system.name}”`
        : `${actor} started the conversation`;
    case 'members_added':
      return `${actor} added ${system.memberIds.map((id) => nameOf(id, users)).join(', ')}`;
    case 'member_removed':
      return `${actor} removed ${nameOf(system.memberId, users)}`;
    case 'member_left':
      return `${actor} left`;
    case 'renamed':
      return `${actor} renamed the group to “${system.name}”`;
    case 'slow_mode':
      return system.seconds
        ? `${actor} turned slow mode on: one message per ${system.seconds} s`
        : `${actor} turned slow mode off`;
    case 'notice':
      // A notice the app posted through the server API: its text is the line to show.
      return message.text;
    // Entries of an end-to-end encrypted channel as the server holds them (the SDK shows decrypted ones).
    case 'mls_message':
      // `text` is the kit's placeholder when this device could not read it (stores/encrypted-entries.ts).
      return message.text || 'Encrypted message';
    case 'mls_commit':
      return `${actor} changed the encryption keys`;
  }
}

/** What a message without text shows in a preview: its attachments by kind ("Photo", "2 files"). */
export function attachmentsLabel(message: Message): string {
  const attachments = message.attachments ?? [];
  if (attachments.length === 0) return '';
  const kinds = new Set(attachments.map((a) => a.kind));
  const only = kinds.size === 1 ? [...kinds][0] : undefined;
  const noun = only === 'image' ? 'Photo' : only === 'video' ? 'Video' : 'File';
  if (attachments.length === 1) return noun;
  return `${attachments.length} ${only === 'image' ? 'photos' : only === 'video' ? 'videos' : 'files'}`;
}
