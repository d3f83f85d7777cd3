import type { ChosenStatus, ExpiredUser, PresenceRecord, PresenceStore } from '../ports/presence.js';

interface UserState {
  devices: Map<string, number>;
  status: ChosenStatus;
  lastActiveAt: number | null;
}

/** The in-process {@link PresenceStore}: the default on one node. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly users = new Map<string, UserState>();

  private state(userId: string): UserState {
    let state = this.users.get(userId);
    if (!state) {
      state = { devices: new Map(), status: 'online', lastActiveAt: null };
      this.users.set(userId, state);
    }
    return state;
  }

  async touch(beats: ReadonlyArray<{ userId: string; deviceKey: string; at: number }>): Promise<string[]> {
    const cameOnline: string[] = [];
    for (const { userId, deviceKey, at } of beats) {
      const state = this.state(userId);
      if (state.devices.size === 0) cameOnline.push(userId);
      state.devices.set(deviceKey, Math.max(at, state.devices.get(deviceKey) ?? 0));
      // An invisible user's last_active_at stays where it was when they went invisible.
      if (state.status !== 'invisible') state.lastActiveAt = Math.max(at, state.lastActiveAt ?? 0);
    }
    return cameOnline;
  }

  async drop(userId: string, deviceKey: string): Promise<void> {
    this.users.get(userId)?.devices.delete(deviceKey);
  }

  async expire(before: number): Promise<ExpiredUser[]> {
    const expired: ExpiredUser[] = [];
    for (const [userId, state] of this.users) {
      if (state.devices.size === 0) continue;
      for (const [key, at] of state.devices) if (at < before) state.devices.delete(key);
      if (state.devices.size === 0) expired.push({ userId, lastActiveAt: state.lastActiveAt ?? before });
    }
    return expired;
  }

  async setStatus(userId: string, status: ChosenStatus): Promise<void> {
    this.state(userId).status = status;
  }

  async get(userIds: readonly string[]): Promise<PresenceRecord[]> {
    return userIds.map((userId) => {
      const state = this.users.get(userId);
      if (!state) return { userId, liveSince: null, status: 'online', lastActiveAt: null };
      const newest = state.devices.size > 0 ? Math.max(...state.devices.values()) : null;
      return { userId, liveSince: newest, status: state.status, lastActiveAt: state.lastActiveAt };
    });
  }
}
