import type { Delivery, DeliverySink } from '../ports/delivery.js';
import type { ChatStore } from '../ports/storage.js';
import { entriesWithPreviews } from './decorate.js';

/** Most entries read back per user for one report (a longer backlog is left to the clients' sync). */
const MAX_LATE_ENTRIES_PER_USER = 256;

/**
 * Delivers the entries a store committed after their write returned (`ChatStore.onLateEntries`): each
 * user's entries are read back from their log (the store reports positions only) and go to the same
 * sink as a write's entries. Best effort like all live delivery: a failed read leaves the entries to
 * the clients' sync, which finds them because positions are gap-free.
 */
export function deliverLateEntries(chat: ChatStore, sink: DeliverySink, onError: (error: unknown) => void) {
  return (entries: ReadonlyArray<{ userId: string; pos: number }>): void => {
    const byUser = new Map<string, number[]>();
    for (const { userId, pos } of entries) byUser.set(userId, [...(byUser.get(userId) ?? []), pos]);
    void (async () => {
      const deliveries: Delivery[] = [];
      for (const [userId, positions] of byUser) {
        const from = Math.min(...positions);
        const wanted = new Set(positions);
        const read = await chat.readSync(
          userId,
          from - 1,
          Math.min(MAX_LATE_ENTRIES_PER_USER, Math.max(...positions) - from + 1),
        );
        for (const entry of await entriesWithPreviews(chat, read)) {
          if (wanted.has(entry.pos)) deliveries.push({ userId, entry });
        }
      }
      if (deliveries.length > 0) sink.deliver(deliveries);
    })().catch(onError);
  };
}
