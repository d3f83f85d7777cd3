import {
  ErrorCode,
  type HelloFrame,
  isKnownEntry,
  NatterError,
  type SyncEntry,
  type SyncPageFrame,
  type WireEntry,
} from '@natter/protocol';
import type { ChatCache } from './cache.js';
import type { RequestSender } from './connection.js';
import { errorCodeOf, toError } from './errors.js';
import type { SyncCursor } from './store.js';

/** Where an emitted entry came from: a sync page (catch-up) or live delivery (`msg`/`ack`). */
export type EntrySource = 'sync' | 'live';

/** Payload of the `resync` event: continuity was lost and local state was dropped. */
export interface ResyncEvent {
  /** Why: the server's message (another epoch, cursor ahead) or `user changed`. */
  reason: string;
  /** The cursor that was abandoned. */
  previous: SyncCursor;
}

/** Counters of the sync engine. */
export interface SyncStats {
  /** Live entries that skipped positions, each followed by a catch-up. */
  gapsDetected: number;
  /** Gaps closed by such a catch-up. */
  gapsFilled: number;
  /** Times the cursor was abandoned (`NATTER_RESYNC_REQUIRED`, epoch change, user change). */
  resyncs: number;
  /** Entries dropped because their position had already been applied. */
  duplicatesDropped: number;
  /** Sync pages fetched. */
  pagesFetched: number;
  /** Sync pages refused because their positions did not continue the cursor without a hole. */
  pagesRejected: number;
  /** Entries of kinds this version does not know, skipped (their positions still count). */
  unknownSkipped: number;
}

/** What the sync engine needs from the client. */
export interface SyncDeps {
  request: RequestSender;
  cache: ChatCache;
  /**
   * Hands applied entries to the app, in order; called once per position. Entries of kinds this version
   * does not know are not handed on, but their positions count (the cursor moves past them).
   */
  deliver(entries: readonly SyncEntry[], source: EntrySource): void;
  onResync(event: ResyncEvent): void;
  onError(err: Error): void;
  /** Delay before retrying a failed sync request. */
  retryDelay(attempt: number, retryAfterMs: number | undefined): number;
  /** Page size to ask for; the server caps it. */
  pageSize?: number;
}

type Phase = 'offline' | 'syncing' | 'live';

const META_USER = 'userId';
// Empty pages while a buffered entry still waits for its predecessor: the server's log is gap-free, so this
// only happens with a broken server; give up rather than spin.
const MAX_EMPTY_GAP_PAGES = 3;

/**
 * Keeps the device's cursor and turns sync pages and live entries into one gap-free, duplicate-free,
 * in-order stream. On every open it pulls pages until `hasMore` is false while buffering live entries, then
 * drains the buffer; a live entry that skips positions triggers the same catch-up. Entries are committed to
 * the store (cache and cursor together) before they are delivered, so a position is delivered exactly once
 * per store.
 */
export class SyncEngine {
  /** Counters, for `stats()`. */
  readonly stats: SyncStats = {
    gapsDetected: 0,
    gapsFilled: 0,
    resyncs: 0,
    duplicatesDropped: 0,
    pagesFetched: 0,
    pagesRejected: 0,
    unknownSkipped: 0,
  };
  private accepted: SyncCursor = { epoch: undefined, pos: 0 };
  private phase: Phase = 'offline';
  private buffer: WireEntry[] = [];
  private generation = 0;
  private chain: Promise<void> = Promise.resolve();
  private gapOpen = false;
  private userId: string | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: SyncDeps) {}

  /** Reads the stored cursor and user; call once before the first open. */
  async load(): Promise<void> {
    const store = this.deps.cache.store;
    this.accepted = (await store.getCursor()) ?? { epoch: undefined, pos: 0 };
    this.userId = await store.getMeta(META_USER);
  }

  /** The highest position handed to the store so far, and its epoch. */
  get cursor(): SyncCursor {
    return { ...this.accepted };
  }

  /** `offline`, `syncing` (catching up; live entries are buffered) or `live`. */
  get status(): Phase {
    return this.phase;
  }

  /** Resolves once the engine is live and every accepted entry has been delivered. */
  async whenLive(): Promise<void> {
    while (this.phase !== 'live') await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.chain;
  }

  /** Resolves when every accepted entry has been committed and delivered. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** A session opened: catch up from the cursor before anything live is delivered. */
  onOpen(hello: HelloFrame): void {
    const generation = ++this.generation;
    this.phase = 'syncing';
    this.buffer = [];
    void this.catchUp(generation, hello);
  }

  /** The session ended: stop catching up and forget buffered entries (the next open fetches them). */
  onDown(): void {
    this.generation++;
    this.phase = 'offline';
    this.buffer = [];
  }

  /** A live entry (`msg` or the entry of an `ack`), in arrival order. */
  onLive(entry: WireEntry): void {
    if (this.phase === 'offline') return;
    if (this.phase === 'syncing') {
      this.buffer.push(entry);
      return;
    }
    if (entry.pos <= this.accepted.pos) {
      this.stats.duplicatesDropped++;
      return;
    }
    if (entry.pos === this.accepted.pos + 1) {
      this.accept([entry], 'live');
      return;
    }
    // Positions are gap-free, so a skipped one exists on the server: fetch it before delivering this one.
    this.stats.gapsDetected++;
    this.gapOpen = true;
    this.phase = 'syncing';
    this.buffer = [entry];
    void this.catchUp(this.generation);
  }

  private async catchUp(generation: number, hello?: HelloFrame): Promise<void> {
    if (hello) {
      if (this.userId !== undefined && this.userId !== hello.userId) {
        await this.resync('user changed');
      } else if (this.accepted.epoch !== undefined && this.accepted.epoch !== hello.epoch) {
        await this.resync('the sync log has a new epoch');
      } else if (hello.head < this.accepted.pos) {
        await this.resync('cursor is ahead of the log');
      }
      if (this.userId !== hello.userId) {
        this.userId = hello.userId;
        await this.deps.cache.store.setMeta(META_USER, hello.userId);
      }
    }
    let failures = 0;
    let emptyGapPages = 0;
    while (generation === this.generation) {
      let page: SyncPageFrame;
      try {
        page = await this.fetchPage();
      } catch (err) {
        if (generation !== this.generation) return;
        if (errorCodeOf(err) === ErrorCode.RESYNC_REQUIRED) {
          await this.resync(toError(err).message);
          continue;
        }
        const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
        await sleep(this.deps.retryDelay(failures++, retryAfterMs));
        continue;
      }
      if (generation !== this.generation) return;
      this.stats.pagesFetched++;
      if (this.accepted.epoch !== undefined && page.epoch !== this.accepted.epoch) {
        failures = 0;
        await this.resync('the sync log has a new epoch');
        continue;
      }
      // The page is the record: it starts right after the cursor, so everything newer in it is accepted,
      // but only when it continues the cursor without a hole. The log is gap-free, so a page that skips a
      // position is a protocol error: applying it would move the cursor past an entry never delivered.
      const fresh = page.entries.filter((e) => e.pos > this.accepted.pos).sort((a, b) => a.pos - b.pos);
      const hole = firstHole(fresh, this.accepted.pos);
      if (hole !== undefined) {
        this.stats.pagesRejected++;
        this.deps.onError(
          new NatterError(
            ErrorCode.BAD_RESPONSE,
            `sync page after position ${this.accepted.pos} has a hole at position ${hole}: refused, fetching it again`,
          ),
        );
        await sleep(this.deps.retryDelay(failures++, undefined));
        continue;
      }
      failures = 0;
      this.accepted = { ...this.accepted, epoch: page.epoch };
      this.accept(fresh, 'sync');
      if (page.hasMore) continue;
      if (this.drainBuffer()) return;
      emptyGapPages = fresh.length === 0 ? emptyGapPages + 1 : 0;
      if (emptyGapPages >= MAX_EMPTY_GAP_PAGES) {
        this.deps.onError(
          new NatterError(
            ErrorCode.BAD_RESPONSE,
            `sync could not fill the gap before position ${this.buffer[0]?.pos}`,
          ),
        );
        this.buffer = [];
        this.goLive();
        return;
      }
    }
  }

  private async fetchPage(): Promise<SyncPageFrame> {
    const { epoch, pos } = this.accepted;
    return this.deps.request({
      t: 'sync',
      after: pos,
      ...(epoch !== undefined ? { epoch } : {}),
      ...(this.deps.pageSize !== undefined ? { limit: this.deps.pageSize } : {}),
    });
  }

  /** Accepts buffered live entries that continue the cursor; true when the buffer is empty afterwards. */
  private drainBuffer(): boolean {
    const sorted = this.buffer.sort((a, b) => a.pos - b.pos);
    const run: WireEntry[] = [];
    const rest: WireEntry[] = [];
    let next = this.accepted.pos + 1;
    for (const entry of sorted) {
      if (entry.pos < next) this.stats.duplicatesDropped++;
      else if (entry.pos === next && rest.length === 0) {
        run.push(entry);
        next++;
      } else rest.push(entry);
    }
    this.accept(run, 'live');
    this.buffer = rest;
    if (rest.length > 0) return false;
    this.goLive();
    return true;
  }

  private goLive(): void {
    this.phase = 'live';
    if (this.gapOpen) {
      this.gapOpen = false;
      this.stats.gapsFilled++;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Hands contiguous entries to the store and then the app, strictly after everything accepted before.
   * Entries of unknown kinds move the cursor and go no further.
   */
  private accept(entries: readonly WireEntry[], source: EntrySource): void {
    if (entries.length === 0) return;
    this.accepted = { ...this.accepted, pos: entries[entries.length - 1]!.pos };
    const cursor = { ...this.accepted };
    const known = entries.filter(isKnownEntry);
    this.stats.unknownSkipped += entries.length - known.length;
    this.chain = this.chain
      .then(async () => {
        await this.deps.cache.commitEntries(known, cursor);
        if (known.length > 0) this.deps.deliver(known, source);
      })
      .catch((err: unknown) => this.deps.onError(toError(err)));
  }

  /** Abandons the cursor and the cached data; the caller then syncs again from position 0. */
  private async resync(reason: string): Promise<void> {
    const previous = { ...this.accepted };
    this.accepted = { epoch: undefined, pos: 0 };
    this.stats.resyncs++;
    const reset = this.chain.then(() => this.deps.cache.reset());
    this.chain = reset.catch((err: unknown) => this.deps.onError(toError(err)));
    await this.chain;
    // Even if the session ended meanwhile the local state is gone, so the app must hear about it.
    this.deps.onResync({ reason, previous });
  }
}

/**
 * Where `sorted` (ascending) stops continuing `after` one position at a time: the first position that is
 * missing (or taken by a repeat of the one before), or undefined when there is no hole.
 */
function firstHole(sorted: readonly WireEntry[], after: number): number | undefined {
  for (let i = 0; i < sorted.length; i++) {
    const expected = after + 1 + i;
    if (sorted[i]!.pos !== expected) return expected;
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
