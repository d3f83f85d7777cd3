import type { PushSubscriptionInput } from '@natter/server-core';

/**
 * What one send attempt came to:
 * - `ok`: the push service (or the app's webhook) accepted it;
 * - `gone`: the subscription no longer exists (Web Push 404/410, webhook 410): it is removed;
 * - `retry`: a transient failure (network, timeout, 429, 5xx): tried again with backoff, up to a bound;
 * - `failed`: a permanent failure for this notification (another 4xx): not retried, logged.
 */
export type SendOutcome = 'ok' | 'gone' | 'retry' | 'failed';

/** A device's registered subscription, as notifiers receive it. */
export interface StoredSubscription {
  userId: string;
  deviceId: string;
  subscription: PushSubscriptionInput;
  /** When it was registered (or last re-registered), ms since the Unix epoch. */
  registeredAt: number;
}

/**
 * The notification a device gets: ids and counts so it wakes up and syncs. Push is a hint, never the
 * record: the device fetches the messages themselves through sync.
 */
export type PushPayload = MessagePushPayload | ReactionPushPayload;

/** New messages in a channel, collapsed: how many, and which is the newest. */
export interface MessagePushPayload {
  type: 'natter.message';
  /** The notification's id; the same for every device of the user, and stable across retries (dedupe on it). */
  id: string;
  channelId: string;
  /** Messages in the channel since the previous notification (collapse). */
  count: number;
  /** `seq` of the newest of them. */
  latestSeq: number;
  latestMessageId: string;
  /** Only with `includeContent: true`: the newest message's sender and text (truncated). */
  latest?: { senderId: string; text: string };
  /** Without content: "Photo", "Video" or "File" when the newest message carries attachments. */
  label?: 'Photo' | 'Video' | 'File';
}

/**
 * Someone reacted to the user's message (only with the gateway's `notifyReactions` option): at most one per
 * channel per collapse window.
 */
export interface ReactionPushPayload {
  type: 'natter.reaction';
  /** The notification's id, as for messages. */
  id: string;
  channelId: string;
  /** `seq` of the message reacted to. */
  seq: number;
  /** Only with `includeContent: true`: who reacted, and with what ("Alice reacted 👍 to your message"). */
  reaction?: { userId: string; emoji: string };
}

/**
 * The notifier port: delivers one payload to one subscription. Implementations must not throw for
 * delivery failures (return `retry` or `failed`), and must bound their own time (a timeout).
 */
export interface Notifier {
  /** The subscription kind this notifier serves. */
  readonly kind: PushSubscriptionInput['kind'];
  /** Attempts before a notification is given up. @default 5 */
  readonly maxAttempts?: number;
  /** Throws a `NATTER_BAD_REQUEST` NatterError for a subscription it could never deliver to (checked at registration). */
  validate?(subscription: PushSubscriptionInput): void;
  send(subscription: StoredSubscription, payload: PushPayload): Promise<SendOutcome>;
}

/** How a push service's or webhook's HTTP status maps to an outcome. `goneStatuses` differ per notifier. */
export function outcomeOfStatus(status: number, goneStatuses: readonly number[]): SendOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (goneStatuses.includes(status)) return 'gone';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'retry';
  return 'failed';
}
