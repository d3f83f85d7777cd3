import type { LateEntriesListener } from '@natter/server-core';
import { copyEntries, copyKey, type LockMode, lookUpCopies, type UserCopy } from './copy.js';
import type { ShardServer } from './server.js';
import type { ShardMap } from './shard-map.js';

/** The outcome of one fan-out round: where each local entry went, and the users whose server failed. */
export interface FanoutRound {
  copies: Map<string, UserCopy>;
  failed: Map<string, unknown>;
}

interface Waiter {
  users: readonly string[];
  resolve: (round: FanoutRound) => void;
}

/**
 * The fan-out of one source server's outbox: its local sync entries copied into the recipients' logs
 * on their own servers (copy.ts). Writes of this process queue the users they appended for and wait
 * for the round that copies them; rounds run one at a time and take every user queued meanwhile
 * (concurrent sends share the copy transactions, as they share the group commit). A worker polls the
 * outbox for rows nobody here is draining: left by a process that crashed after its commit, or kept
 * while a recipient's server was down. It backs off while a server is unreachable.
 */
export class SourceFanout {
  private waiting: Waiter[] = [];
  private running = false;
  /** Users a write of this process is settling: the worker leaves them to it. */
  private readonly settling = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private backoffMs: number;
  private stopped = false;

  constructor(
    private readonly source: ShardServer,
    private readonly servers: readonly ShardServer[],
    private readonly map: ShardMap,
    private readonly timing: { pollMs: number; maxBackoffMs: number },
    private readonly onLate: () => LateEntriesListener | undefined,
  ) {
    this.backoffMs = timing.pollMs;
  }

  /**
   * Copies every pending entry of `users` (the local positions `wanted` among them) and returns each
   * wanted entry's position in its user's log; entries whose user's server failed are absent.
   */
  async settle(
    wanted: ReadonlyArray<{ userId: string; localPos: number }>,
  ): Promise<{ positions: Map<string, number>; failed: Map<string, unknown> }> {
    const users = [...new Set(wanted.map((w) => w.userId))];
    for (const u of users) this.settling.set(u, (this.settling.get(u) ?? 0) + 1);
    try {
      const round = await new Promise<FanoutRound>((resolve) => {
        this.waiting.push({ users, resolve });
        void this.run();
      });
      const positions = new Map<string, number>();
      const missing: Array<{ userId: string; localPos: number }> = [];
      for (const w of wanted) {
        if (round.failed.has(w.userId)) continue;
        const pos = round.copies.get(w.userId)?.positions.get(w.localPos);
        if (pos === undefined) missing.push(w);
        else positions.set(copyKey(w.userId, w.localPos), pos);
      }
      // Copied by an earlier round (another write's, another process's): read where they went.
      const failed = new Map(round.failed);
      await Promise.all(
        this.byServer(missing).map(async ([dest, list]) => {
          try {
            for (const [key, pos] of await lookUpCopies(this.source, dest, list)) positions.set(key, pos);
          } catch (error) {
            for (const w of list) failed.set(w.userId, error);
          }
        }),
      );
      return { positions, failed };
    } finally {
      for (const u of users) {
        const n = this.settling.get(u)! - 1;
        if (n === 0) this.settling.delete(u);
        else this.settling.set(u, n);
      }
    }
  }

  /**
   * The position in its user's log of one local entry, from inside a write transaction on the source
   * (a duplicate send, a repeated mutation): copied now if it is not yet; undefined while the entry is
   * not committed. Bypasses the queue, whose
   * round may be waiting on that transaction's outbox row.
   */
  async positionOf(userId: string, localPos: number): Promise<number | undefined> {
    const dest = this.servers[this.map.serverOf(userId)]!;
    const wanted = [{ userId, localPos }];
    const key = copyKey(userId, localPos);
    const found = (await lookUpCopies(this.source, dest, wanted)).get(key);
    if (found !== undefined) return found;
    const copy = await copyEntries(this.source, dest, [userId], 'wait');
    return (
      copy.get(userId)?.positions.get(localPos) ?? (await lookUpCopies(this.source, dest, wanted)).get(key)!
    );
  }

  /** Starts the worker. */
  start(): void {
    this.schedule(0);
  }

  /** Stops the worker and waits for the rounds in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0);
        const round = await this.round(
          batch.flatMap((w) => w.users),
          'wait',
        );
        for (const w of batch) w.resolve(round);
      }
    } finally {
      this.running = false;
    }
  }

  /** Copies the users' pending entries, server by server at once, then clears their outbox rows. */
  private async round(users: readonly string[], lock: LockMode): Promise<FanoutRound> {
    const copies = new Map<string, UserCopy>();
    const failed = new Map<string, unknown>();
    const groups = new Map<ShardServer, string[]>();
    for (const u of new Set(users)) {
      const dest = this.servers[this.map.serverOf(u)]!;
      groups.set(dest, [...(groups.get(dest) ?? []), u]);
    }
    await Promise.all(
      [...groups].map(async ([dest, list]) => {
        try {
          for (const [u, copy] of await copyEntries(this.source, dest, list, lock)) copies.set(u, copy);
        } catch (error) {
          for (const u of list) failed.set(u, error);
        }
      }),
    );
    await this.clearOutbox(copies).catch(() => undefined);
    return { copies, failed };
  }

  /**
   * Removes the outbox rows the round passed. Rows a write transaction holds (it appends for the user
   * right now) are skipped: that write's own round clears them, or the worker does later.
   */
  private async clearOutbox(copies: Map<string, UserCopy>): Promise<void> {
    if (copies.size === 0) return;
    const s = this.source.s;
    await this.source.query(
      `DELETE FROM ${s}.shard_outbox o
        WHERE o.user_id IN (
          SELECT b.user_id FROM ${s}.shard_outbox b
            JOIN unnest($1::text[], $2::bigint[]) AS d(user_id, copied) ON b.user_id = d.user_id
           WHERE b.upto <= d.copied
           FOR UPDATE OF b SKIP LOCKED)`,
      [[...copies.keys()], [...copies.values()].map((c) => c.copied)],
    );
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
      });
    }, delayMs);
    this.timer.unref?.();
  }

  /** One worker pass: the outbox rows of users no write here is settling, copied; backoff on failure. */
  private async poll(): Promise<void> {
    let ok = true;
    try {
      const rows = await this.source.query<{ user_id: string }>(
        `SELECT user_id FROM ${this.source.s}.shard_outbox ORDER BY user_id LIMIT 1000`,
      );
      const users = rows.map((r) => r.user_id).filter((u) => !this.settling.has(u));
      if (users.length > 0) {
        const round = await this.round(users, 'skipLocked');
        ok = round.failed.size === 0;
        const late = [...round.copies].flatMap(([userId, copy]) =>
          [...copy.positions.values()].map((pos) => ({ userId, pos })),
        );
        late.push(...(await this.newestOfCopiedElsewhere(round)));
        if (late.length > 0) this.onLate()?.(late);
      }
    } catch {
      ok = false;
    }
    this.backoffMs = ok ? this.timing.pollMs : Math.min(this.backoffMs * 2, this.timing.maxBackoffMs);
    this.schedule(this.backoffMs);
  }

  /**
   * Users whose outbox row this round passed although it copied nothing for them: another process
   * copied their entries and may have died before announcing them (a copy commits as one statement,
   * so a process killed while it waited still commits it). Their newest entry is announced: a device
   * behind it sees the gap and syncs the rest, one that has it drops it as a duplicate.
   */
  private async newestOfCopiedElsewhere(round: FanoutRound): Promise<Array<{ userId: string; pos: number }>> {
    const quiet = [...round.copies].filter(([, copy]) => copy.positions.size === 0 && copy.copied > 0);
    const found: Array<{ userId: string; pos: number }> = [];
    for (const [dest, list] of this.byServer(quiet.map(([userId]) => ({ userId })))) {
      const heads = await dest
        .query<{ user_id: string; head: number }>(
          `SELECT user_id, head FROM ${dest.s}.shard_sync_heads WHERE user_id = ANY ($1::text[])`,
          [list.map((u) => u.userId)],
        )
        .catch(() => []);
      for (const h of heads) if (h.head > 0) found.push({ userId: h.user_id, pos: Number(h.head) });
    }
    return found;
  }

  private byServer<T extends { userId: string }>(list: readonly T[]): Array<[ShardServer, T[]]> {
    const groups = new Map<ShardServer, T[]>();
    for (const item of list) {
      const dest = this.servers[this.map.serverOf(item.userId)]!;
      groups.set(dest, [...(groups.get(dest) ?? []), item]);
    }
    return [...groups];
  }
}
