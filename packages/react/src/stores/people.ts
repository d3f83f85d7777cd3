import type { ChatClient, PresenceInfo, UserProfile } from '@natter/client';
import { unsubscribeAll } from './external-store.js';
import { KeyedStore } from './keyed.js';

/** Profiles by user id, fetched once each (display names rarely change; a reload shows a new one). */
export class UsersStore extends KeyedStore<UserProfile> {
  constructor(private readonly client: ChatClient) {
    super();
  }

  protected activate(): void {}
  protected deactivate(): void {}

  protected async fetch(ids: readonly string[]): Promise<ReadonlyMap<string, UserProfile>> {
    const settled = await Promise.allSettled(ids.map((id) => this.client.http.getUser(id)));
    const found = new Map<string, UserProfile>();
    for (const result of settled)
      if (result.status === 'fulfilled') found.set(result.value.id, Object.freeze(result.value));
    return found;
  }

  /** Adds profiles the app already has (from `searchUsers`, `me()`), so they need no request. */
  remember(profiles: readonly UserProfile[]): void {
    this.put(new Map(profiles.map((p) => [p.id, Object.freeze(p)])));
  }
}

/**
 * Presence by user id: fetched for the users shown, then kept current by `presence` events, and fetched
 * again after each reconnection (events missed while disconnected are not replayed).
 */
export class PresenceStore extends KeyedStore<PresenceInfo> {
  private readonly offs: Array<() => void> = [];

  constructor(private readonly client: ChatClient) {
    super();
  }

  protected activate(): void {
    this.offs.push(
      this.client.on('presence', (info) => this.put(new Map([[info.userId, Object.freeze({ ...info })]]))),
      this.client.on('state', (change) => {
        if (change.status === 'open' && change.previous !== 'open') this.refreshAll();
      }),
    );
  }

  protected deactivate(): void {
    unsubscribeAll(this.offs);
  }

  /**
   * Fetches these users' presence again now, and forgets what was known of those the answer leaves out:
   * after a block (the server stops telling either side, and leaves the other out of answers) the last
   * status seen must not stay on screen, and after an unblock the current one is shown at once.
   */
  async refresh(userIds: readonly string[]): Promise<void> {
    const found = await this.fetch(userIds);
    const next = new Map(this.getSnapshot());
    for (const id of userIds) {
      const info = found.get(id);
      if (info) next.set(id, info);
      else next.delete(id);
    }
    this.set(next);
  }

  protected async fetch(userIds: readonly string[]): Promise<ReadonlyMap<string, PresenceInfo>> {
    // The protocol caps ids per request (`maxIdsPerRequest`, 200); the client does not expose the value.
    const max = 200;
    const found = new Map<string, PresenceInfo>();
    for (let i = 0; i < userIds.length; i += max) {
      const infos = await this.client.getPresence({ userIds: userIds.slice(i, i + max) });
      for (const info of infos) found.set(info.userId, Object.freeze(info));
    }
    return found;
  }
}
