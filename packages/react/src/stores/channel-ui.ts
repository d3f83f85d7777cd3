import { ExternalStore } from './external-store.js';

/** What the user is doing in one channel's UI, shared by its list, rows, composer and thread panel. */
export interface ChannelUi {
  /** The `seq` of the message being edited inline, if any. */
  readonly editing?: number;
  /** The `seq` of the message the composer's next send answers, if any. */
  readonly replyingTo?: number;
  /** The `seq` of the thread open in the thread panel, if any. */
  readonly thread?: number;
}

const NONE: ChannelUi = Object.freeze({});

/**
 * UI state per channel: which message is edited, answered, or has its thread open. Kept here rather than in
 * a component because several components act on it (the composer's up arrow starts an edit in a row, a
 * row's Reply button fills the composer's banner); rows select only their own flag, so a change re-renders
 * the rows it concerns.
 */
export class ChannelUiStore extends ExternalStore<ReadonlyMap<string, ChannelUi>> {
  constructor() {
    super(new Map());
  }

  /** The state of one channel. */
  of(channelId: string): ChannelUi {
    return this.getSnapshot().get(channelId) ?? NONE;
  }

  /** Changes some fields of a channel's state (`undefined` clears one). */
  update(channelId: string, change: { [K in keyof ChannelUi]?: number | undefined }): void {
    const current = this.of(channelId);
    const next: Record<string, number> = {};
    for (const key of ['editing', 'replyingTo', 'thread'] as const) {
      const value = key in change ? change[key] : current[key];
      if (value !== undefined) next[key] = value;
    }
    if (
      next.editing === current.editing &&
      next.replyingTo === current.replyingTo &&
      next.thread === current.thread
    )
      return;
    const map = new Map(this.getSnapshot());
    map.set(channelId, Object.freeze(next));
    this.set(map);
  }

  protected activate(): void {}
  protected deactivate(): void {}
}
