import type { ChatClient, Message, MutationResult } from '@natter/client';

/** One change to a stored message, from the sync log or from the answer to the user's own change. */
export type LifecycleChange =
  | { readonly kind: 'edited' | 'deleted'; readonly channelId: string; readonly message: Message }
  | {
      readonly kind: 'reaction';
      readonly channelId: string;
      readonly seq: number;
      readonly userId: string;
      readonly emoji: string;
      readonly added: boolean;
    };

/** How many applied positions are remembered to drop a second copy of an entry. */
const REMEMBERED = 2_000;

/**
 * Edits, deletes and reactions for the stores, each applied once. The device that made a change gets its
 * entry in the answer (shown at once), and the same entry again later through sync: the feed remembers the
 * positions it passed on and drops the second copy.
 */
export class LifecycleFeed {
  private readonly listeners = new Set<(change: LifecycleChange) => void>();
  private readonly applied = new Set<number>();
  private offs: Array<() => void> = [];

  constructor(private readonly client: ChatClient) {}

  /** Registers a listener (the client is listened to while there is one); returns its removal. */
  subscribe(listener: (change: LifecycleChange) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.listen();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) for (const off of this.offs.splice(0)) off();
    };
  }

  /** Passes on the entry of the user's own change (the answer of `edit`, `delete` or `react`). */
  applyOwn(result: MutationResult): void {
    const entry = result.entry;
    if (!entry) return;
    if (entry.kind === 'edited' || entry.kind === 'deleted')
      this.pass(entry.pos, { kind: entry.kind, channelId: entry.message.channelId, message: entry.message });
    else if (entry.kind === 'reaction') {
      const { channelId, seq, userId, emoji, added } = entry;
      this.pass(entry.pos, { kind: 'reaction', channelId, seq, userId, emoji, added });
    }
  }

  private listen(): void {
    this.offs = [
      this.client.on('messageEdited', ({ message, pos }) =>
        this.pass(pos, { kind: 'edited', channelId: message.channelId, message }),
      ),
      this.client.on('messageDeleted', ({ message, pos }) =>
        this.pass(pos, { kind: 'deleted', channelId: message.channelId, message }),
      ),
      this.client.on('reactionChanged', ({ pos, channelId, seq, userId, emoji, added }) =>
        this.pass(pos, { kind: 'reaction', channelId, seq, userId, emoji, added }),
      ),
      // A new log starts from position 1 again.
      this.client.on('resync', () => this.applied.clear()),
    ];
  }

  private pass(pos: number, change: LifecycleChange): void {
    if (this.applied.has(pos)) return;
    this.applied.add(pos);
    if (this.applied.size > REMEMBERED) {
      const oldest = this.applied.values().next().value;
      if (oldest !== undefined) this.applied.delete(oldest);
    }
    for (const listener of [...this.listeners]) listener(change);
  }
}
