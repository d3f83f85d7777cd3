import type { ModerationReads } from '../ports/moderation.js';
import type { AccountStore } from '../ports/storage.js';
import { lastPart, moderationKeys } from './keys.js';

/**
 * What a user's own choices are, as far as others' traffic is concerned: the half a 1-1 send to them
 * needs. Kept apart from {@link Blockers} so the hot path reads two rows, not three.
 */
interface OwnView {
  /** Users this user blocked. */
  blocked: ReadonlySet<string>;
  /** The account is deactivated (its 1-1 channels take no messages either). */
  deactivated: boolean;
}

/** Users who blocked this user: only presence and typing fan-out need them. */
type Blockers = ReadonlySet<string>;

/**
 * One cached read. The promise is cached, not its value, so the sends that arrive while a read is
 * running share it instead of each starting their own (under load a read waits for the running fsync,
 * and every send of that window used to miss the cache).
 */
interface Cached<T> {
  value: Promise<T>;
  loadedAt: number;
}

/** Options of {@link BlockList}. */
export interface BlockListOptions {
  reads: ModerationReads;
  accounts: Pick<AccountStore, 'getUser'>;
  now: () => number;
  /**
   * How long a user's block relations are reused before they are read again, ms: the bound on how late
   * another node applies a block. The node that takes the block applies it at once. @default 2000
   */
  ttlMs?: number;
  /** Most users whose relations are kept; the cache is emptied when it is full. @default 10000 */
  maxUsers?: number;
}

/** Bound on the rows read per user and direction (the per-user block limit is far below it). */
const MAX_ROWS = 10_000;

/** The answer for the many users with no block either way, shared: a Set per connected user is heap. */
const NONE: ReadonlySet<string> = new Set();

/** The users named by the last part of `rows`' keys; {@link NONE} for no rows. */
const usersOf = (rows: ReadonlyArray<{ key: string }>): ReadonlySet<string> =>
  rows.length === 0 ? NONE : new Set(rows.map((e) => lastPart(e.key)));

/**
 * The block relations the hot paths consult (1-1 sends, typing and presence fan-out), read from the
 * store and kept for a few seconds, so a presence flip costs no query per contact.
 */
export class BlockList {
  private readonly own = new Map<string, Cached<OwnView>>();
  private readonly blockers = new Map<string, Cached<Blockers>>();
  private readonly ttlMs: number;
  private readonly maxUsers: number;

  constructor(private readonly options: BlockListOptions) {
    this.ttlMs = options.ttlMs ?? 2_000;
    this.maxUsers = options.maxUsers ?? 10_000;
  }

  /** Users who must not see `userId`'s presence or typing, nor show theirs to them: blocks either way. */
  async hiddenFrom(userId: string): Promise<ReadonlySet<string>> {
    const [{ blocked }, blockedBy] = await Promise.all([this.ownOf(userId), this.blockersOf(userId)]);
    if (blockedBy.size === 0) return blocked;
    if (blocked.size === 0) return blockedBy;
    return new Set([...blocked, ...blockedBy]);
  }

  /**
   * Whether `recipientId` takes no 1-1 messages from `senderId`: the recipient blocked the sender, or the
   * recipient's account is deactivated. The two are one answer, so the sender cannot tell a block.
   */
  async refusesDirect(recipientId: string, senderId: string): Promise<boolean> {
    const view = await this.ownOf(recipientId);
    return view.deactivated || view.blocked.has(senderId);
  }

  /** Whether `blockerId` blocked `userId`. */
  async isBlocking(blockerId: string, userId: string): Promise<boolean> {
    return (await this.ownOf(blockerId)).blocked.has(userId);
  }

  /** Drops what is cached of these users: called on this node right after their relations changed. */
  forget(...userIds: string[]): void {
    for (const id of userIds) {
      this.own.delete(id);
      this.blockers.delete(id);
    }
  }

  private ownOf(userId: string): Promise<OwnView> {
    return this.cached(this.own, userId, async () => {
      const { reads, accounts } = this.options;
      const [blocked, user] = await Promise.all([
        reads.list(moderationKeys.blocksOf(userId), undefined, MAX_ROWS),
        accounts.getUser(userId),
      ]);
      return { blocked: usersOf(blocked), deactivated: user?.deactivatedAt !== undefined };
    });
  }

  private blockersOf(userId: string): Promise<Blockers> {
    return this.cached(this.blockers, userId, async () => {
      return usersOf(await this.options.reads.list(moderationKeys.blockersOf(userId), undefined, MAX_ROWS));
    });
  }

  /** The cached read of `userId` in `cache` if younger than the TTL, else a fresh one (shared while it runs). */
  private cached<T>(cache: Map<string, Cached<T>>, userId: string, load: () => Promise<T>): Promise<T> {
    const now = this.options.now();
    const hit = cache.get(userId);
    if (hit && now - hit.loadedAt < this.ttlMs) return hit.value;
    const value = load();
    const entry: Cached<T> = { value, loadedAt: now };
    if (cache.size >= this.maxUsers) cache.clear();
    cache.set(userId, entry);
    // A failed read is not kept: the next call tries again. Only this entry goes (forget may have replaced it).
    value.catch(() => {
      if (cache.get(userId) === entry) cache.delete(userId);
    });
    return value;
  }
}
