/**
 * The last read and delivery markers the demo saw per channel, kept in localStorage per account.
 *
 * The SDK asks the server for a channel's receipts and caches messages, not markers, so after a reload
 * while offline "Seen" fell back to "Sent": the page knew nothing. Markers only ever rise, so a remembered
 * one is never wrong, only possibly behind; the server's answer replaces it as soon as it comes.
 */
import type { MemberReceipt } from '@natter/client';

const PREFIX = 'natter-demo.receipts.';
/** Channels remembered per account; the least recently updated are dropped beyond this. */
const MAX_CHANNELS = 200;

type Saved = Record<string, MemberReceipt[]>;

/** Remembered markers of one account's channels. */
export class ReceiptMemory {
  private readonly key: string;

  constructor(
    account: string,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage,
  ) {
    this.key = PREFIX + account.toLowerCase();
  }

  /** What is remembered of a channel (empty when nothing is). */
  get(channelId: string): MemberReceipt[] {
    return this.read()[channelId] ?? [];
  }

  /** Merges markers in; each member's markers only rise. */
  remember(channelId: string, receipts: readonly MemberReceipt[]): void {
    const saved = this.read();
    const byUser = new Map((saved[channelId] ?? []).map((r) => [r.userId, r]));
    for (const r of receipts) {
      const known = byUser.get(r.userId);
      byUser.set(r.userId, {
        userId: r.userId,
        readSeq: Math.max(known?.readSeq ?? 0, r.readSeq),
        deliveredSeq: Math.max(known?.deliveredSeq ?? 0, r.deliveredSeq),
      });
    }
    // Re-inserted last: object key order is the eviction order.
    delete saved[channelId];
    saved[channelId] = [...byUser.values()];
    const ids = Object.keys(saved);
    for (const id of ids.slice(0, Math.max(0, ids.length - MAX_CHANNELS))) delete saved[id];
    try {
      this.storage.setItem(this.key, JSON.stringify(saved));
    } catch {
      // Storage full: the markers come from the server next time.
    }
  }

  private read(): Saved {
    try {
      const parsed = JSON.parse(this.storage.getItem(this.key) ?? '{}') as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as Saved) : {};
    } catch {
      return {};
    }
  }
}
