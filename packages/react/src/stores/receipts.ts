import type { ChatClient, MemberReceipt } from '@natter/client';
import { ExternalStore, unsubscribeAll } from './external-store.js';

const NONE: readonly MemberReceipt[] = Object.freeze([]);

/**
 * Every member's read and delivery markers in one channel: fetched when first shown, then raised by
 * `receipt` events (markers only rise, so a late answer never lowers one).
 */
export class ReceiptsStore extends ExternalStore<readonly MemberReceipt[]> {
  private readonly offs: Array<() => void> = [];
  private generation = 0;

  constructor(
    private readonly client: ChatClient,
    readonly channelId: string,
  ) {
    super(NONE);
  }

  protected activate(): void {
    this.offs.push(
      this.client.on('receipt', (receipt) => {
        if (receipt.channelId === this.channelId) this.raise([receipt]);
      }),
    );
    const generation = ++this.generation;
    this.client
      .receipts(this.channelId)
      .then((receipts) => {
        if (generation === this.generation) this.raise(receipts);
      })
      .catch(() => undefined);
  }

  protected deactivate(): void {
    unsubscribeAll(this.offs);
    this.generation++;
  }

  private raise(receipts: readonly MemberReceipt[]): void {
    let next: MemberReceipt[] | undefined;
    for (const receipt of receipts) {
      const list = next ?? this.getSnapshot();
      const index = list.findIndex((r) => r.userId === receipt.userId);
      const current = list[index];
      const readSeq = Math.max(current?.readSeq ?? 0, receipt.readSeq);
      const deliveredSeq = Math.max(current?.deliveredSeq ?? 0, receipt.deliveredSeq, readSeq);
      if (current && current.readSeq === readSeq && current.deliveredSeq === deliveredSeq) continue;
      next ??= [...this.getSnapshot()];
      const entry = Object.freeze({ userId: receipt.userId, readSeq, deliveredSeq });
      if (index >= 0) next[index] = entry;
      else next.push(entry);
    }
    if (next) this.set(Object.freeze(next));
  }
}
