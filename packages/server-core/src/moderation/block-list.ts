import type { ModerationReads } from '../ports/moderation.js';
import type { AccountStore } from '../ports/storage.js';
import { lastPart, moderationKeys } from './keys.js';

/** What a user's block relations are, as far as others' traffic is concerned. */
interface BlockView {
  /** Users this user blocked. */
  blocked: ReadonlySet<string>;
  /** Users who blocked this user. */
  blockedBy: ReadonlySet<string>;
  /** The account is deactivated (its 1-1 channels take no messages either). */
  deactivated: boolean;
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

/**
 * The block relations the hot paths consult (1-1 sends, typing and presence fan-out), read from the
 * store and kept for a few seconds, so a presence flip costs no query per contact.
 */
export class BlockList {
  private readonly views = new Map<string, BlockView>();
  private readonly ttlMs: number;
  private readonly maxUsers: number;

  constructor(private readonly options: BlockListOptions) {
    this.ttlMs = options.ttlMs ?? 2_000;
    this.maxUsers = options.maxUsers ?? 10_000;
  }

  /** Users who must not see `userId`'s presence or typing, nor show theirs to them: blocks either way. */
  async hiddenFrom(userId: string): Promise<ReadonlySet<string>> {
    const view = await this.viewOf(userId);
    if (view.blockedBy.size === 0) return view.blocked;
    if (view.blocked.size === 0) return view.blockedBy;
    return new Set([...view.blocked, ...view.blockedBy]);
  }

  /**
   * Whether `recipientId` takes no 1-1 messages from `senderId`: the recipient blocked the sender, or the
   * recipient's account is deactivated. The two are one answer, so the sender cannot tell a block.
   */
  async refusesDirect(recipientId: string, senderId: string): Promise<boolean> {
    const view = await this.viewOf(recipientId);
    return view.deactivated || view.blocked.has(senderId);
  }

  /** Whether `blockerId` blocked `userId`. */
  async isBlocking(blockerId: string, userId: string): Promise<boolean> {
    return (await this.viewOf(blockerId)).blocked.has(userId);
  }

  /** Drops what is cached of these users: called on this node right after their relations changed. */
  forget(...userIds: string[]): void {
    for (const id of userIds) this.views.delete(id);
  }

  private async viewOf(userId: string): Promise<BlockView> {
    const now = this.options.now();
    const cached = this.views.get(userId);
    if (cached && now - cached.loadedAt < this.ttlMs) return cached;
    const { reads, accounts } = this.options;
    const [blocked, blockedBy, user] = await Promise.all([
      reads.list(moderationKeys.blocksOf(userId), undefined, MAX_ROWS),
      reads.list(moderationKeys.blockersOf(userId), undefined, MAX_ROWS),
      accounts.getUser(userId),
    ]);
    const view: BlockView = {
      blocked: new Set(blocked.map((e) => lastPart(e.key))),
      blockedBy: new Set(blockedBy.map((e) => lastPart(e.key))),
      deactivated: user?.deactivatedAt !== undefined,
      loadedAt: now,
    };
    if (this.views.size >= this.maxUsers) this.views.clear();
    this.views.set(userId, view);
    return view;
  }
}
