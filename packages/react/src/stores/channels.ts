import type { CachedChannel, ChannelSummary, ChatClient, Message } from '@natter/client';
import { ExternalStore, unsubscribeAll } from './external-store.js';

/** A channel as the channel list shows it. */
export interface ChannelView {
  readonly channel: CachedChannel;
  /** Highest `seq` known. */
  readonly lastSeq: number;
  /** The newest message known, if any. */
  readonly lastMessage: Message | null;
  /** The user's read marker. */
  readonly readSeq: number;
  /** Messages of others after the read marker. */
  readonly unread: number;
  /** When something last happened in the channel (newest message, else creation), ms: the sort key. */
  readonly lastActivityAt: number;
}

/** The user's channels, newest activity first. */
export type ChannelsSnapshot =
  | { readonly phase: 'loading'; readonly channels: readonly ChannelView[] }
  | {
      readonly phase: 'ready';
      readonly source: 'cache' | 'server';
      readonly channels: readonly ChannelView[];
    }
  | { readonly phase: 'error'; readonly error: Error; readonly channels: readonly ChannelView[] };

/**
 * The channel list: the cache at once, then the server's summaries (with unread counts), kept current from
 * sync (new messages, channels joined and left, renames) and the user's own read markers, without asking
 * the server again. A channel whose data did not change keeps its object.
 */
export class ChannelsStore extends ExternalStore<ChannelsSnapshot> {
  private readonly offs: Array<() => void> = [];
  private generation = 0;
  private structureReload: Promise<void> | undefined;

  constructor(private readonly client: ChatClient) {
    super(Object.freeze({ phase: 'loading', channels: Object.freeze([]) }));
  }

  protected activate(): void {
    this.offs.push(
      this.client.on('message', ({ message, encrypted }) => {
        if (encrypted) this.markEncrypted(message.channelId);
        this.onMessage(message);
      }),
      // Encrypted entries come as decrypted messages or failures only; either says the channel is encrypted
      // when its view came from a `created` entry, which does not say so.
      this.client.on('decryptionFailed', ({ channelId }) => this.markEncrypted(channelId)),
      this.client.on('channel', ({ channel }) => this.upsert([view(channel)])),
      this.client.on('receipt', (receipt) => {
        if (receipt.userId === this.client.userId) this.markedRead(receipt.channelId, receipt.readSeq);
      }),
      this.client.on('resync', () => void this.load()),
    );
    void this.load();
  }

  protected deactivate(): void {
    unsubscribeAll(this.offs);
    this.generation++;
  }

  /** The channel's view, if the list has it. */
  find(channelId: string): ChannelView | undefined {
    return this.getSnapshot().channels.find((c) => c.channel.id === channelId);
  }

  /** Reads the list again (cache, then server): after creating a channel, to show it as the server has it. */
  refresh(): Promise<void> {
    return this.load();
  }

  /** Shows the lock on a channel (fixed at creation, so never taken back). */
  private markEncrypted(channelId: string): void {
    this.patch(channelId, (c) =>
      c.channel.encrypted ? c : freezeView({ ...c, channel: { ...c.channel, encrypted: true } }),
    );
  }

  /** Lowers the unread count at once when the app marks a channel read (the receipt confirms it later). */
  markedRead(channelId: string, readSeq: number): void {
    this.patch(channelId, (c) => {
      if (readSeq <= c.readSeq) return c;
      // Own messages are never unread, so this can only overestimate; the next summary corrects it.
      const unread = readSeq >= c.lastSeq ? 0 : Math.min(c.unread, c.lastSeq - readSeq);
      return freezeView({ ...c, readSeq, unread });
    });
  }

  private async load(): Promise<void> {
    const generation = ++this.generation;
    try {
      const cached = await this.client.cachedChannels();
      if (generation === this.generation && cached.length > 0 && this.getSnapshot().phase === 'loading')
        this.show(cached.map(view), 'cache');
    } catch {
      // The server's list below is what counts.
    }
    try {
      const summaries = await this.client.listChannels();
      if (generation !== this.generation) return;
      this.show(summaries.map(view), 'server');
    } catch (err) {
      if (generation !== this.generation || this.getSnapshot().phase === 'ready') return;
      const error = err instanceof Error ? err : new Error(String(err));
      this.set(Object.freeze({ phase: 'error', error, channels: this.getSnapshot().channels }));
    }
  }

  private onMessage(message: Message): void {
    const known = this.find(message.channelId);
    if (message.kind === 'system' || !known) this.reloadStructure();
    this.patch(message.channelId, (c) => {
      if (message.seq <= c.lastSeq && c.lastMessage && c.lastMessage.seq >= message.seq) return c;
      const fromOther = message.kind === 'text' && message.senderId !== this.client.userId;
      const counts = fromOther && message.seq > c.readSeq && message.seq > c.lastSeq;
      return freezeView({
        ...c,
        lastSeq: Math.max(c.lastSeq, message.seq),
        lastMessage: message,
        // The user's own message means they read everything before it (the server moves the marker too).
        readSeq: message.senderId === this.client.userId ? Math.max(c.readSeq, message.seq) : c.readSeq,
        unread: message.senderId === this.client.userId ? 0 : c.unread + (counts ? 1 : 0),
        lastActivityAt: Math.max(c.lastActivityAt, message.createdAt),
      });
    });
  }

  /**
   * Renames, membership changes, slow mode and channels left are applied to the cache by sync: read them from there
   * (one read at a time; a change during a read schedules one more).
   */
  private reloadStructure(): void {
    if (this.structureReload) {
      void this.structureReload.then(() => this.reloadStructure());
      return;
    }
    const generation = this.generation;
    this.structureReload = this.client
      .cachedChannels()
      .then((cached) => {
        if (generation !== this.generation) return;
        const byId = new Map(cached.map((c) => [c.id, c]));
        const kept: ChannelView[] = [];
        for (const current of this.getSnapshot().channels) {
          const fresh = byId.get(current.channel.id);
          if (!fresh) continue;
          byId.delete(current.channel.id);
          const same =
            fresh.name === current.channel.name &&
            !!fresh.encrypted === !!current.channel.encrypted &&
            fresh.slowModeSeconds === current.channel.slowModeSeconds &&
            fresh.memberIds.length === current.channel.memberIds.length &&
            fresh.memberIds.every((id, i) => id === current.channel.memberIds[i]);
          // `encrypted` is fixed at creation: a view that knows it keeps it over a cache entry that does not.
          const channel = current.channel.encrypted ? { ...fresh, encrypted: true as const } : fresh;
          kept.push(same ? current : freezeView({ ...current, channel }));
        }
        for (const added of byId.values()) kept.push(view(added));
        this.show(kept, this.sourceNow());
      })
      .catch(() => undefined)
      .finally(() => {
        this.structureReload = undefined;
      });
  }

  private upsert(views: readonly ChannelView[]): void {
    const ids = new Set(views.map((v) => v.channel.id));
    this.show(
      [...this.getSnapshot().channels.filter((c) => !ids.has(c.channel.id)), ...views],
      this.sourceNow(),
    );
  }

  private patch(channelId: string, change: (current: ChannelView) => ChannelView): void {
    const channels = this.getSnapshot().channels;
    const index = channels.findIndex((c) => c.channel.id === channelId);
    const current = channels[index];
    if (!current) return;
    const next = change(current);
    if (next === current) return;
    this.show(
      channels.map((c, i) => (i === index ? next : c)),
      this.sourceNow(),
    );
  }

  private sourceNow(): 'cache' | 'server' {
    const current = this.getSnapshot();
    return current.phase === 'ready' ? current.source : 'cache';
  }

  private show(channels: readonly ChannelView[], source: 'cache' | 'server'): void {
    const sorted = Object.freeze([...channels].sort(byActivity));
    this.set(Object.freeze({ phase: 'ready', source, channels: sorted }));
  }
}

function byActivity(a: ChannelView, b: ChannelView): number {
  return b.lastActivityAt - a.lastActivityAt || (a.channel.id < b.channel.id ? -1 : 1);
}

function view(channel: CachedChannel | ChannelSummary): ChannelView {
  const lastMessage = channel.lastMessage ?? null;
  return freezeView({
    channel,
    lastSeq: channel.lastSeq ?? lastMessage?.seq ?? 0,
    lastMessage,
    readSeq: channel.readSeq ?? 0,
    unread: channel.unread ?? 0,
    lastActivityAt: lastMessage?.createdAt ?? channel.createdAt,
  });
}

function freezeView(v: ChannelView): ChannelView {
  return Object.freeze(v);
}
