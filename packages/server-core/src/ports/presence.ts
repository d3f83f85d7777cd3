import type { ChosenStatus } from '@natter/protocol';

/** A status a user chooses. `invisible` users appear offline to others but still count as online for push. */
export type { ChosenStatus };

/** A user whose devices all stopped heartbeating. */
export interface ExpiredUser {
  userId: string;
  /** Newest heartbeat of any of their devices: becomes `last_active_at`. */
  lastActiveAt: number;
}

/** What the presence store knows about one user. */
export interface PresenceRecord {
  userId: string;
  /** Newest heartbeat of any live device; null when no device is live. */
  liveSince: number | null;
  status: ChosenStatus;
  lastActiveAt: number | null;
}

/**
 * The presence key-value store of the design: one entry per device with its newest heartbeat, and per user
 * the chosen status and `last_active_at`. In memory on one node; Redis (with TTLs) when scaled out.
 */
export interface PresenceStore {
  /**
   * Records device heartbeats (`at` is the device's newest activity). Returns the users that had no live
   * device before this call: they just came online.
   */
  touch(
    beats: ReadonlyArray<{ userId: string; deviceKey: string; at: number }>,
    graceMs: number,
  ): Promise<string[]>;
  /** Forgets a device at once (logout), instead of letting it expire. */
  drop(userId: string, deviceKey: string): Promise<void>;
  /** Removes devices whose newest heartbeat is older than `before`; returns users left with no live device. */
  expire(before: number): Promise<ExpiredUser[]>;
  setStatus(userId: string, status: ChosenStatus): Promise<void>;
  get(userIds: readonly string[]): Promise<PresenceRecord[]>;
}
