import type { ChosenStatus, ExpiredUser, PresenceRecord, PresenceStore } from '../ports/presence.js';

interface UserState {
  /**
   * The user's live devices and the time of each one's last beat, as two parallel arrays: a user has a
   * few devices at most (`maxConnectionsPerUser`), and a Map per online user cost ~400 bytes of heap,
   * a tenth of an idle connection's.
   */
  deviceKeys: string[];
  beatAt: number[];
  status: ChosenStatus;
  lastActiveAt: number | null;
}

/** Keeps the devices `keep` accepts, in order. */
function dropDevices(state: UserState, keep: (key: string, at: number) => boolean): void {
  let kept = 0;
  for (let i = 0; i < state.deviceKeys.length; i++) {
    if (!keep(state.deviceKeys[i]!, state.beatAt[i]!)) continue;
    state.deviceKeys[kept] = state.deviceKeys[i]!;
    state.beatAt[kept] = state.beatAt[i]!;
    kept++;
  }
  // slice: arrays of exactly this size (an array grown by push keeps room for 16 more).
  state.deviceKeys = state.deviceKeys.slice(0, kept);
  state.beatAt = state.beatAt.slice(0, kept);
}

/** The in-process {@link PresenceStore}: the default on one node. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly users = new Map<string, UserState>();

  private state(userId: string): UserState {
    let state = this.users.get(userId);
    if (!state) {
      state = { deviceKeys: [], beatAt: [], status: 'online', lastActiveAt: null };
      this.users.set(userId, state);
    }
    return state;
  }

  async touch(beats: ReadonlyArray<{ userId: string; deviceKey: string; at: number }>): Promise<string[]> {
    const cameOnline: string[] = [];
    for (const { userId, deviceKey, at } of beats) {
      const state = this.state(userId);
      if (state.deviceKeys.length === 0) cameOnline.push(userId);
      const i = state.deviceKeys.indexOf(deviceKey);
      if (i < 0) {
        state.deviceKeys = [...state.deviceKeys, deviceKey];
        state.beatAt = [...state.beatAt, at];
      } else state.beatAt[i] = Math.max(at, state.beatAt[i]!);
      // An invisible user's last_active_at stays where it was when they went invisible.
      if (state.status !== 'invisible') state.lastActiveAt = Math.max(at, state.lastActiveAt ?? 0);
    }
    return cameOnline;
  }

  async drop(userId: string, deviceKey: string): Promise<void> {
    const state = this.users.get(userId);
    if (state) dropDevices(state, (key) => key !== deviceKey);
  }

  async expire(before: number): Promise<ExpiredUser[]> {
    const expired: ExpiredUser[] = [];
    for (const [userId, state] of this.users) {
      if (state.deviceKeys.length === 0) continue;
      dropDevices(state, (_key, at) => at >= before);
      if (state.deviceKeys.length === 0) expired.push({ userId, lastActiveAt: state.lastActiveAt ?? before });
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
      const newest = state.beatAt.length > 0 ? Math.max(...state.beatAt) : null;
      return { userId, liveSince: newest, status: state.status, lastActiveAt: state.lastActiveAt };
    });
  }
}
