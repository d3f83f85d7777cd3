/**
 * Profiles of the people in the user's conversations, kept in localStorage per account and handed to the
 * kit's user store at start, so names and initials show at once after sign-in and after a reload while
 * offline (the kit fetches a profile only when it does not have it).
 */
import type { UserProfile } from '@natter/client';
import { useChatStores } from '@natter/react';
import { useEffect, useState } from 'react';

const PREFIX = 'natter-demo.users.';

/** The saved profiles of an account. */
export function savedProfiles(account: string): UserProfile[] {
  try {
    const saved = JSON.parse(localStorage.getItem(PREFIX + account.toLowerCase()) ?? '[]') as unknown;
    return Array.isArray(saved) ? (saved as UserProfile[]) : [];
  } catch {
    return [];
  }
}

/**
 * Seeds the kit's user store with the signed-in user and the saved profiles, then saves what it learns.
 * Returns false until the seed is in, so the app renders no nameless row first.
 */
export function useProfileCache(me: UserProfile): boolean {
  const stores = useChatStores();
  const [seeded, setSeeded] = useState(false);
  useEffect(() => {
    const { users } = stores;
    users.remember([...savedProfiles(me.username), me]);
    setSeeded(true);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = users.subscribe(() => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          localStorage.setItem(
            PREFIX + me.username.toLowerCase(),
            JSON.stringify([...users.getSnapshot().values()]),
          );
        } catch {
          // Storage full: names are fetched again next time.
        }
      }, 500);
    });
    return () => {
      clearTimeout(timer);
      off();
    };
  }, [stores, me]);
  return seeded;
}
