import type { UserProfile } from '@natter/client';
import { useMemo } from 'react';
import { useChannels, useConnectionState, useUsers } from '../hooks.js';

const NONE: readonly string[] = Object.freeze([]);

/** The profiles of a channel's other members (loaded ones), for mentions and their autocomplete. */
export function useOtherMembers(channelId: string): readonly UserProfile[] {
  const { userId: me } = useConnectionState();
  const channels = useChannels();
  const memberIds = channels.channels.find((c) => c.channel.id === channelId)?.channel.memberIds ?? NONE;
  const users = useUsers(memberIds);
  return useMemo(
    () =>
      memberIds
        .filter((id) => id !== me)
        .map((id) => users.get(id))
        .filter((u): u is UserProfile => u !== undefined),
    [memberIds, users, me],
  );
}
