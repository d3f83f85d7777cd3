import type { OutboxError, OutboxItem } from './store.js';

/**
 * Where one outbox entry is, as one union: what a phase needs lives in that phase only, so no flag can
 * disagree with another. Transitions are the pure functions below; the {@link Outbox} does the I/O.
 */
export type EntryPhase =
  /** Being written to the store: nothing goes on the wire before the write lands. */
  | { name: 'persisting' }
  /** Waiting for its turn in its channel, a connection, a lease, or `notBefore` (a retry delay), ms. */
  | { name: 'queued'; notBefore: number }
  /** Its frame is on the wire under this client's lease. */
  | { name: 'in-flight' }
  /** The server refused it for good; waits for `retry()` or `discard()`. */
  | { name: 'failed'; error: OutboxError }
  /**
   * Another client sharing the store removed it (it sent or discarded it) at `since`: settled as sent when
   * sync delivers it, reported discarded if sync has not after a lease period of being live.
   */
  | { name: 'vanished'; since: number };

/** One message of the outbox: its persisted form and where it is. */
export interface OutboxEntry {
  readonly item: OutboxItem;
  readonly phase: EntryPhase;
  /**
   * Local edit stamp: a store snapshot read before this stamp must not undo the edit (the write of a local
   * edit may be queued behind the read).
   */
  readonly editedAt: number;
}

/** The status an app sees: `sending` while in flight, `failed` when refused, else `pending`. */
export function visibleStatus(entry: OutboxEntry): 'pending' | 'sending' | 'failed' {
  switch (entry.phase.name) {
    case 'in-flight':
      return 'sending';
    case 'failed':
      return 'failed';
    default:
      return 'pending';
  }
}

/** A new message, or one read from the store: queued when stored as pending, failed when stored failed. */
export function fromStore(item: OutboxItem, editedAt: number): OutboxEntry {
  return {
    item,
    editedAt,
    phase:
      item.status === 'failed'
        ? { name: 'failed', error: item.error ?? { code: 'NATTER_INTERNAL', message: 'failed' } }
        : { name: 'queued', notBefore: 0 },
  };
}

/** A message being written before it may be sent (a new one, or one the app retries). */
export function persisting(item: OutboxItem, editedAt: number): OutboxEntry {
  return { item, editedAt, phase: { name: 'persisting' } };
}

/** The write landed: the message may go out. */
export function persisted(entry: OutboxEntry): OutboxEntry {
  return entry.phase.name === 'persisting' ? { ...entry, phase: { name: 'queued', notBefore: 0 } } : entry;
}

/** This client took the lease and puts the frame on the wire. */
export function transmitting(_entry: OutboxEntry, leased: OutboxItem, editedAt: number): OutboxEntry {
  return { item: { ...leased, attempts: leased.attempts + 1 }, editedAt, phase: { name: 'in-flight' } };
}

/** A retryable failure: back in the queue, not before `notBefore`. */
export function retryLater(entry: OutboxEntry, notBefore: number): OutboxEntry {
  return { ...entry, phase: { name: 'queued', notBefore } };
}

/** A terminal failure: kept (without its lease) until the app retries or discards it. */
export function failed(entry: OutboxEntry, error: OutboxError, editedAt: number): OutboxEntry {
  const { lease: _lease, ...rest } = entry.item;
  return { item: { ...rest, status: 'failed', error }, editedAt, phase: { name: 'failed', error } };
}

/** `retry()`: pending again from attempt 0, sent after everything queued now in its channel. */
export function resent(entry: OutboxEntry, order: number, editedAt: number): OutboxEntry {
  const { error: _error, lease: _lease, ...rest } = entry.item;
  return persisting({ ...rest, status: 'pending', attempts: 0, order }, editedAt);
}

/** Another client removed it from the store. */
export function vanished(entry: OutboxEntry, since: number): OutboxEntry {
  return { ...entry, phase: { name: 'vanished', since } };
}

/** The first sendable message of each channel of `me`: stop-and-wait per channel. */
export function channelHeads(entries: Iterable<OutboxEntry>, me: string): OutboxEntry[] {
  const heads = new Map<string, OutboxEntry>();
  const mine = [...entries]
    .filter((e) => e.item.userId === me || e.item.userId === '')
    .sort((a, b) => a.item.order - b.item.order);
  for (const entry of mine) {
    const { name } = entry.phase;
    // A failed or vanished message does not hold up its channel; one in flight or being written does.
    if (name === 'failed' || name === 'vanished') continue;
    if (!heads.has(entry.item.channelId)) heads.set(entry.item.channelId, entry);
  }
  return [...heads.values()];
}
