import type { ChatClient } from '@natter/client';
import { ExternalStore, unsubscribeAll } from './external-store.js';

const NOBODY: readonly string[] = Object.freeze([]);

/**
 * Who is typing where: user ids per channel (never the user), each dropped when its `expiresInMs` passes
 * or the person's message arrives. A channel's array is a new object only when its typists changed.
 */
export class TypingStore extends ExternalStore<ReadonlyMap<string, readonly string[]>> {
  private readonly offs: Array<() => void> = [];
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly client: ChatClient) {
    super(new Map());
  }

  /** The users typing in a channel, in the order they started. */
  typingIn(channelId: string): readonly string[] {
    return this.getSnapshot().get(channelId) ?? NOBODY;
  }

  protected activate(): void {
    this.offs.push(
      this.client.on('typing', ({ channelId, userId, active, expiresInMs }) => {
        if (userId === this.client.userId) return;
        this.change(channelId, userId, active);
        const key = `${channelId} ${userId}`;
        clearTimeout(this.timers.get(key));
        this.timers.delete(key);
        if (active)
          this.timers.set(
            key,
            setTimeout(() => {
              this.timers.delete(key);
              this.change(channelId, userId, false);
            }, expiresInMs),
          );
      }),
      this.client.on('message', ({ message }) => this.change(message.channelId, message.senderId, false)),
    );
  }

  protected deactivate(): void {
    unsubscribeAll(this.offs);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.set(new Map());
  }

  private change(channelId: string, userId: string, active: boolean): void {
    const current = this.typingIn(channelId);
    const has = current.includes(userId);
    if (has === active) return;
    const next = new Map(this.getSnapshot());
    const users = active ? [...current, userId] : current.filter((id) => id !== userId);
    if (users.length === 0) next.delete(channelId);
    else next.set(channelId, Object.freeze(users));
    this.set(next);
  }
}
