import { type Channel, type ChannelSummary, ErrorCode } from '@natter/protocol';
import type { ChatCache } from './cache.js';
import { errorCodeOf, toError } from './errors.js';
import type { HttpClient } from './http.js';

// Joined channels fetched with one request each up to this many at once; more take one channel list.
const JOIN_FETCH_ONE_BY_ONE = 3;

/** What {@link JoinedChannels} needs. */
export interface JoinedChannelsDeps {
  http: Pick<HttpClient, 'listChannels' | 'getChannel'>;
  cache: ChatCache;
  /** True once the client is closing: nothing more is adopted. */
  isClosing(): boolean;
  onError(err: Error): void;
}

/**
 * Fetches the channels the user was added to that the cache did not know (a `members_added` entry carries
 * too little to build one), batched, and hands them to the cache (see the `channel` event).
 */
export class JoinedChannels {
  private readonly queue = new Set<string>();

  constructor(private readonly deps: JoinedChannelsDeps) {}

  /** Queues channels to fetch; one batch runs on the next turn of the event loop. */
  fetch(channelIds: readonly string[]): void {
    const idle = this.queue.size === 0;
    for (const id of channelIds) this.queue.add(id);
    if (idle) setTimeout(() => void this.flush(), 0);
  }

  private async flush(): Promise<void> {
    const { http, cache } = this.deps;
    const ids = [...this.queue];
    this.queue.clear();
    if (this.deps.isClosing() || ids.length === 0) return;
    const fetched: (Channel | ChannelSummary)[] = [];
    const gone = (err: unknown) => {
      const code = errorCodeOf(err);
      return code === ErrorCode.NOT_FOUND || code === ErrorCode.FORBIDDEN;
    };
    try {
      if (ids.length > JOIN_FETCH_ONE_BY_ONE) {
        // Many at once (a new device replaying its log): one channel list instead of a request each.
        const list = await http.listChannels();
        const wanted = new Set(ids);
        fetched.push(...list.filter((channel) => wanted.has(channel.id)));
        const listed = new Set(list.map((channel) => channel.id));
        for (const id of ids) if (!listed.has(id)) cache.forgetJoining(id);
      } else {
        for (const id of ids) {
          try {
            fetched.push(await http.getChannel(id));
          } catch (err) {
            if (!gone(err)) throw err;
            cache.forgetJoining(id);
          }
        }
      }
    } catch (err) {
      // Still waiting in the cache: fetched again on the next open.
      this.deps.onError(toError(err));
    }
    try {
      for (const channel of fetched) if (!this.deps.isClosing()) await cache.adoptJoined(channel);
    } catch (err) {
      this.deps.onError(toError(err));
    }
  }
}
