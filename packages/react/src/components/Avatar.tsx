import type { ReactNode } from 'react';
import { usePresence, useUser } from '../hooks.js';
import { avatarColor, initials } from './format.js';

/** Props of {@link PresenceDot}. */
export interface PresenceDotProps {
  userId: string;
}

/** A dot for a user's presence (online, away, offline), with the status as its accessible name. */
export function PresenceDot({ userId }: PresenceDotProps): ReactNode {
  const presence = usePresence(userId);
  const status = presence?.status ?? 'offline';
  return <span className="natter-presence" data-status={status} role="img" aria-label={status} />;
}

/** Props of {@link Avatar}. */
export interface AvatarProps {
  /** The user shown, or the group (a channel id) when `name` is given. */
  id: string;
  /** The name to take initials from; when absent, `id` is a user id and the profile's name is used. */
  name?: string;
  /** Show the presence dot (users only). @default false */
  presence?: boolean;
}

/**
 * Initials on a colour derived from the id (never from the name, which loads late and changes), so a person
 * has one colour everywhere. Decorative: the name is always shown beside it.
 */
export function Avatar({ id, name, presence = false }: AvatarProps): ReactNode {
  const user = useUser(name === undefined ? id : undefined);
  const shown = name ?? (user?.displayName || user?.username || '');
  return (
    <span
      className="natter-avatar"
      style={{ background: avatarColor(id) }}
      aria-hidden={presence ? undefined : true}
    >
      <span aria-hidden="true">{shown ? initials(shown) : ''}</span>
      {presence ? <PresenceDot userId={id} /> : null}
    </span>
  );
}
