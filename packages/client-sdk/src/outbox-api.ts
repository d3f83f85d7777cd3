import type { Message, ProtocolLimits } from '@natter/protocol';
import type { MutationResult } from './client-types.js';
import type { RequestSender } from './connection.js';
import type { AnyErrorCode } from './errors.js';
import type { OutboxFile } from './media.js';
import {
  type OutboxStatus,
  type PendingChange,
  type PendingMessage,
  toPendingChange,
  toPendingMessage,
} from './outbox-items.js';
import { type OutboxEntry, visibleStatus } from './outbox-state.js';
import { type ClientStore, isSendItem, type OutboxSendItem } from './store.js';

export type { ChangeRequest, OutboxStatus, PendingChange, PendingMessage } from './outbox-items.js';

/** Payload of the `mutation` event: a pending edit, delete or reaction changed status. */
export interface ChangeEvent {
  change: PendingChange;
  status: OutboxStatus;
  /** The error behind `failed` (terminal) or `pending` (retry scheduled), with its code. */
  error?: Error & { code?: AnyErrorCode; retryAfterMs?: number };
  /** The server's answer, with `sent`. */
  result?: MutationResult;
}

/** Payload of the `outbox` event: a pending message changed status. */
export interface OutboxEvent {
  message: PendingMessage;
  status: OutboxStatus;
  /** The error behind `failed` (terminal) or `pending` (retry scheduled), with its code. */
  error?: Error & { code?: AnyErrorCode; retryAfterMs?: number };
}

/** Payload of the `ack` event: the server stored a pending message. */
export interface AckEvent {
  clientMsgId: string;
  /** The stored message. */
  message: Message;
  /** Its position in the user's sync log. */
  pos: number;
  /** True when the server had already stored it (a retry of a send whose ack was lost). */
  duplicate: boolean;
}

/** What `send()` and `retry()` return. */
export interface SendHandle {
  /** The message as it stands now (status `pending`): render it right away. */
  message: PendingMessage;
  /**
   * Settles when the server acknowledges (with the stored message) or the message fails terminally (with a
   * `NatterError`). Also rejects with `NATTER_CLIENT_CLOSED` when the client closes first (the message stays
   * in the outbox) or `NATTER_CLIENT_DISCARDED`. Never causes an unhandled rejection if ignored.
   */
  acked: Promise<Message>;
}

/** Options of {@link Outbox}. */
export interface OutboxDeps {
  store: ClientStore;
  request: RequestSender;
  isOpen(): boolean;
  /** The current user (from the session); items of other users in a shared store are left alone. */
  userId(): string | undefined;
  limits(): ProtocolLimits;
  now(): number;
  /** Delay before retry `attempt` of a message, honouring the server's `retryAfterMs`. */
  retryDelay(attempt: number, retryAfterMs: number | undefined): number;
  /** How long a lease on a pending message lasts, ms. */
  leaseMs: number;
  /** How long to wait for an ack before resending, ms. */
  ackTimeoutMs: number;
  /**
   * How often to re-read the store while open, to pick up messages other clients (tabs) sharing the store
   * added or settled, ms. @default a quarter of `leaseMs`, at least 1000
   */
  scanIntervalMs?: number;
  /**
   * Whether sync has caught up: a message another client removed from the store that sync has not delivered
   * by then is reported `discarded`. @default isOpen
   */
  isLive?(): boolean;
  /** Uploads a file an item carries (before its send); without it such items fail. */
  upload?(file: OutboxFile): Promise<{ id: string }>;
  /**
   * The seq of the user's message `clientMsgId` in `channelId`, if the client knows it (its cache): how a
   * change made after its send was settled elsewhere (another tab, an earlier run) finds its target.
   */
  findSent?(channelId: string, clientMsgId: string): Promise<number | undefined>;
  /**
   * Sends an end-to-end encrypted item (`item.e2ee`): encrypts it unless it carries its ciphertext, saves
   * the ciphertext with `persist` before it leaves, and answers the stored message as its sender sees it.
   */
  sendEncrypted?(item: OutboxSendItem, persist: (item: OutboxSendItem) => Promise<void>): Promise<Message>;
  onStatus(event: OutboxEvent): void;
  onChange(event: ChangeEvent): void;
  onAck(event: AckEvent): void;
  onError(err: Error): void;
}

/** What an announcement adds to an entry: a final status, the error behind it, a change's answer. */
export type AnnounceArgs = [
  final?: 'sent' | 'discarded',
  error?: OutboxEvent['error'],
  result?: MutationResult,
];

/** Reports an entry's status (its current one unless a final one is given): `outbox` or `mutation`. */
export function announce(
  deps: Pick<OutboxDeps, 'onStatus' | 'onChange'>,
  entry: OutboxEntry,
  ...[final, error, result]: AnnounceArgs
): void {
  const { item } = entry;
  const status = final ?? visibleStatus(entry);
  const extra = { ...(error ? { error } : {}) };
  if (isSendItem(item)) deps.onStatus({ message: toPendingMessage(entry, item, final), status, ...extra });
  else
    deps.onChange({
      change: toPendingChange(entry, item, final),
      status,
      ...extra,
      ...(result ? { result } : {}),
    });
}
