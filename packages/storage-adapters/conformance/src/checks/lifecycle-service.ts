import { DEFAULT_LIMITS, type ProtocolLimits } from '@natter/protocol';
import type { Delivery, StorageAdapter } from '@natter/server-core';
import { ChatService } from '@natter/server-core/internals';

/** A chat service over the adapter, recording what it hands to live delivery; `now` is settable. */
export function lifecycleService(
  adapter: StorageAdapter,
  limits: Partial<ProtocolLimits> = {},
): { service: ChatService; deliveries: Delivery[]; clock: { now: number } } {
  const deliveries: Delivery[] = [];
  const clock = { now: 1_700_000_000_000 };
  const service = new ChatService({
    chat: adapter.chat,
    accounts: adapter.accounts,
    limits: { ...DEFAULT_LIMITS, ...limits },
    sink: { deliver: (batch) => deliveries.push(...batch) },
    now: () => clock.now,
  });
  return { service, deliveries, clock };
}

/** The NatterError code a promise rejects with (or a marker when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  const error: unknown = await promise.then(
    () => 'resolved',
    (e: unknown) => e,
  );
  return typeof error === 'string' ? error : (error as { code?: unknown }).code;
}

/** Every member's sync head, to show a refused mutation stored nothing. */
export function heads(adapter: StorageAdapter, users: readonly string[]): Promise<number[]> {
  return Promise.all(users.map((u) => adapter.chat.syncHead(u)));
}
