/**
 * Profiles of the people in the user's conversations, fetched once each and kept in localStorage so names
 * show even after a reload while offline.
 */
import type { UserProfile } from '@natter/client';

const PREFIX = 'natter-demo.users.';

/** Known user profiles, by id. */
export class UserDirectory {
  /** Every known profile. */
  readonly all = new Map<string, UserProfile>();
  private readonly loading = new Set<string>();
  private saveQueued = false;

  constructor(
    private readonly account: string,
    private readonly fetchUser: (userId: string) => Promise<UserProfile>,
    private readonly onChange: () => void,
  ) {
    try {
      const saved = JSON.parse(localStorage.getItem(PREFIX + account) ?? '[]') as UserProfile[];
      for (const user of saved) this.all.set(user.id, user);
    } catch {
      // A damaged entry only costs a refetch.
    }
  }

  /** A profile, if known. */
  get(userId: string): UserProfile | undefined {
    return this.all.get(userId);
  }

  /** Records a profile. */
  put(user: UserProfile): void {
    const known = this.all.get(user.id);
    if (known && known.displayName === user.displayName) return;
    this.all.set(user.id, user);
    this.save();
    this.onChange();
  }

  /** Fetches the profiles not known yet (failures are retried on the next call). */
  ensure(userIds: Iterable<string>): void {
    for (const id of new Set(userIds)) {
      if (this.all.has(id) || this.loading.has(id)) continue;
      this.loading.add(id);
      this.fetchUser(id)
        .then((user) => this.put(user))
        .catch(() => undefined)
        .finally(() => this.loading.delete(id));
    }
  }

  private save(): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    setTimeout(() => {
      this.saveQueued = false;
      try {
        localStorage.setItem(PREFIX + this.account, JSON.stringify([...this.all.values()]));
      } catch {
        // Storage full: names are fetched again next time.
      }
    }, 500);
  }
}
