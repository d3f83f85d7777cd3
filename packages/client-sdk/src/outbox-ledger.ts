import { fromStore, type OutboxEntry, persisted, vanished } from './outbox-state.js';
import type { ClientStore, OutboxItem } from './store.js';

/** Most recently settled ids remembered, so a store read racing with their deletion cannot revive them. */
const MAX_SETTLED = 10_000;

/** What the ledger needs from its outbox. */
export interface LedgerHooks {
  store: ClientStore;
  /** Whether `item` belongs to the current user (items of other users in a shared store are left alone). */
  isMine(item: OutboxItem): boolean;
  /** An entry another client sharing the store added (or an earlier run's, seen after the first load). */
  onAppeared(entry: OutboxEntry): void;
}

/**
 * The outbox's entries and their mirror in the client store: one `Map<id, Entry>`, the store operations run
 * one at a time in call order, and the re-read that merges what other clients (tabs) sharing the store
 * changed. Local edits carry a stamp, so a store snapshot read before an edit never undoes it.
 */
export class OutboxLedger {
  entries = new Map<string, OutboxEntry>();
  /** Recently settled ids (acked, seen through sync, discarded): a store read must not bring them back. */
  private readonly settled = new Set<string>();
  /** Local edit counter. */
  private edits = 0;
  /** Store operations run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Closed while the client is closed (its store is closed): store operations wait here, so an entry added
   * meanwhile is persisted once the store reopens.
   */
  private storeGate: { promise: Promise<void>; open(): void } | undefined;
  private lastOrder = 0;
  /** Set after the first read of the store: later reads announce what other clients changed. */
  loaded = false;

  constructor(private readonly hooks: LedgerHooks) {}

  get(id: string): OutboxEntry | undefined {
    return this.entries.get(id);
  }

  set(entry: OutboxEntry): void {
    this.entries.set(entry.item.clientMsgId, entry);
  }

  isSettled(id: string): boolean {
    return this.settled.has(id);
  }

  /** Drops an entry for good: a re-read racing with its deletion from the store must not revive it. */
  forget(id: string): void {
    this.settled.add(id);
    if (this.settled.size > MAX_SETTLED) this.settled.delete(this.settled.values().next().value as string);
    this.entries.delete(id);
    this.stamp();
  }

  /** Takes back a {@link forget}: the entry is the outbox's again (a cancel that found it held elsewhere). */
  unforget(entry: OutboxEntry): void {
    this.settled.delete(entry.item.clientMsgId);
    this.entries.set(entry.item.clientMsgId, { ...entry, editedAt: this.stamp() });
  }

  /** Entries (not vanished) whose item passes `keep`, in sending order. */
  inOrder(keep: (item: OutboxItem) => boolean): OutboxEntry[] {
    return [...this.entries.values()]
      .filter((entry) => entry.phase.name !== 'vanished' && keep(entry.item))
      .sort((a, b) => a.item.order - b.item.order);
  }

  /** Forgets and returns the entries other clients removed from the store before `before`. */
  takeVanished(before: number): OutboxEntry[] {
    const gone = [...this.entries.values()].filter(
      (entry) => entry.phase.name === 'vanished' && entry.phase.since <= before,
    );
    for (const entry of gone) this.forget(entry.item.clientMsgId);
    return gone;
  }

  /**
   * Writes a new or retried entry to the store, then lets it go out. Unwritten, it still goes out (the
   * failure is reported): losing durability beats losing the entry.
   */
  async persist(item: OutboxItem, report: (err: unknown) => void): Promise<void> {
    try {
      await this.write((store) => store.putOutbox(item));
    } catch (err) {
      report(err);
    }
    const entry = this.entries.get(item.clientMsgId);
    if (entry) this.set(persisted(entry));
  }

  /** A new local edit stamp. */
  stamp(): number {
    return ++this.edits;
  }

  /** Strictly increasing per client, roughly time-ordered across clients. */
  nextOrder(now: number): number {
    this.lastOrder = Math.max(now * 1000, this.lastOrder + 1);
    return this.lastOrder;
  }

  /** Holds store operations until {@link openStore} (the store is closed meanwhile). */
  closeStore(): void {
    let open!: () => void;
    this.storeGate ??= { promise: new Promise<void>((resolve) => (open = resolve)), open: () => open() };
  }

  openStore(): void {
    const gate = this.storeGate;
    this.storeGate = undefined;
    gate?.open();
  }

  /**
   * Runs outbox writes and store re-reads one at a time, in call order: a re-read then never overtakes a
   * write issued before it, and writes issued during it are protected by the edit stamps.
   */
  write<T>(operation: (store: ClientStore) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      while (this.storeGate) await this.storeGate.promise;
      return operation(this.hooks.store);
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Gives up `owner`'s leases: those this ledger knows of at once, before anything else can run (a page
   * being unloaded may not get further), then, after queued writes, any other the store holds.
   */
  async releaseLeases(owner: string, report: (err: unknown) => void): Promise<void> {
    const { store } = this.hooks;
    const known = [...this.entries.values()].filter((e) => e.item.lease?.owner === owner);
    const direct = known.map((e) => store.releaseLease(e.item.clientMsgId, owner).catch(report));
    const scan = this.write(async (s) => {
      for (const item of await s.listOutbox())
        if (item.lease?.owner === owner) await s.releaseLease(item.clientMsgId, owner);
    }).catch(report);
    await Promise.all([...direct, scan]);
  }

  /**
   * Removes an entry nothing of which can be on the wire: a failed one, or one whose lease `owner` takes
   * atomically now (so no other client sharing the store sends it). False when another client holds it or
   * already removed it (it sent it).
   */
  removeUnsent(id: string, owner: string, leaseMs: number, now: () => number): Promise<boolean> {
    return this.write(async (store) => {
      const row = (await store.listOutbox()).find((item) => item.clientMsgId === id);
      if (!row) return false;
      if (row.status !== 'failed' && !(await store.leaseOutbox(id, owner, leaseMs, now()))) return false;
      await store.deleteOutbox(id);
      return true;
    });
  }

  /** Re-reads the store: picks up items of earlier runs and other tabs, marks those settled elsewhere. */
  refresh(now: () => number): Promise<void> {
    // An edit made after this point may have its write queued behind this re-read, so the snapshot may lack
    // it: counted from now, not from when the re-read runs, or an entry added meanwhile is forgotten.
    const since = this.edits;
    return this.write((store) => this.reread(store, since, now()));
  }

  private async reread(store: ClientStore, since: number, now: number): Promise<void> {
    const stored = (await store.listOutbox()).filter((item) => !this.settled.has(item.clientMsgId));
    const storedIds = new Set(stored.map((item) => item.clientMsgId));
    const next = new Map<string, OutboxEntry>();
    for (const item of stored) {
      this.lastOrder = Math.max(this.lastOrder, item.order);
      const local = this.entries.get(item.clientMsgId);
      // Edited here after the snapshot was taken: the local state is newer.
      if (local && local.editedAt > since) next.set(item.clientMsgId, local);
      else if (local) next.set(item.clientMsgId, withStoredRow(local, item));
      else {
        const added = fromStore(item, 0);
        next.set(item.clientMsgId, added);
        if (this.loaded && this.hooks.isMine(item)) this.hooks.onAppeared(added);
      }
    }
    for (const [id, local] of this.entries) {
      if (storedIds.has(id)) continue;
      // Edited here after the snapshot was taken (e.g. its first write is still queued): keep it.
      if (local.editedAt > since) next.set(id, local);
      // Removed by another client sharing the store: it sent it, or discarded it.
      else if (this.loaded && this.hooks.isMine(local.item))
        next.set(id, local.phase.name === 'vanished' ? local : vanished(local, now));
    }
    this.entries = next;
  }
}

/**
 * An entry this client holds, updated from the store's row (another client may have leased, retried or
 * failed it). While this client writes or sends it, its own state stands; otherwise the row decides between
 * queued and failed, and a retry delay set here is kept.
 */
function withStoredRow(local: OutboxEntry, stored: OutboxItem): OutboxEntry {
  switch (local.phase.name) {
    case 'persisting':
    case 'in-flight':
      return local;
    case 'queued':
      return stored.status === 'failed' ? fromStore(stored, local.editedAt) : { ...local, item: stored };
    case 'failed':
    case 'vanished':
      // A vanished entry that came back changes nothing for the app; it is queued or failed as stored.
      return fromStore(stored, local.editedAt);
  }
}
