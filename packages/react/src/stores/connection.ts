import type { ChatClient, ConnectionStatus, StateReason } from '@natter/client';
import { ExternalStore, unsubscribeAll } from './external-store.js';

/** The connection as the UI shows it. */
export interface ConnectionSnapshot {
  readonly status: ConnectionStatus;
  /** Why the status last changed; undefined before the first change. */
  readonly reason: StateReason | undefined;
  /** Delay before the next attempt, while `reconnecting`. */
  readonly delayMs: number | undefined;
  /** The signed-in user, once there is a session. */
  readonly userId: string | undefined;
}

/** `client.status` and the `state` and `session` events as one snapshot. */
export class ConnectionStore extends ExternalStore<ConnectionSnapshot> {
  private readonly offs: Array<() => void> = [];

  constructor(private readonly client: ChatClient) {
    super(read(client, undefined, undefined));
  }

  protected activate(): void {
    this.set(read(this.client, this.getSnapshot().reason, this.getSnapshot().delayMs));
    this.offs.push(
      this.client.on('state', (change) => this.set(read(this.client, change.reason, change.delayMs))),
      this.client.on('session', () => {
        const current = this.getSnapshot();
        if (current.userId !== this.client.userId) this.set({ ...current, userId: this.client.userId });
      }),
    );
  }

  protected deactivate(): void {
    unsubscribeAll(this.offs);
  }
}

function read(
  client: ChatClient,
  reason: StateReason | undefined,
  delayMs: number | undefined,
): ConnectionSnapshot {
  return Object.freeze({ status: client.status, reason, delayMs, userId: client.userId });
}
