import type { ReactNode } from 'react';
import { knownUserId } from '../known-users.js';

/**
 * The kit's avatar rule (the same initials, on `hsl(hash(userId) 65% 26%)`), for the sign-in screen, which is outside
 * any provider. A user id not known yet (a demo user never signed in here) gets a neutral avatar instead of
 * a colour the app would then change. The browser test compares this colour with the app's.
 */
export function LoginAvatar({
  username,
  name,
  userId,
}: {
  username: string;
  name: string;
  userId?: string;
}): ReactNode {
  const id = userId ?? knownUserId(username);
  return (
    <span
      className="natter-avatar"
      data-neutral={id ? undefined : true}
      style={{ background: id ? colourOf(id) : 'var(--natter-muted)' }}
      aria-hidden="true"
    >
      {initialsOf(name)}
    </span>
  );
}

function colourOf(userId: string): string {
  let hash = 0;
  for (let i = 0; i < userId.length; i++) hash = (hash * 31 + userId.charCodeAt(i)) >>> 0;
  return `hsl(${hash % 360} 65% 26%)`;
}

function initialsOf(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters =
    parts.length > 1 ? `${parts[0]?.[0] ?? ''}${parts.at(-1)?.[0] ?? ''}` : (parts[0]?.slice(0, 2) ?? '?');
  return letters.toUpperCase() || '?';
}
