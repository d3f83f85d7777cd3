/**
 * Push notifications for natter: tells users with no online device about new messages, through Web Push
 * (VAPID, RFC 8291 encryption) for browsers or a signed webhook the app forwards to APNs/FCM, from a
 * durable queue behind a `PushStore` port (SQLite by default, PostgreSQL in `@natter/push/postgres` for
 * many nodes). Plug it into `createNatterServer({ push: createPushGateway(...) })`.
 * @packageDocumentation
 */
export { MemoryNotifier, type MemoryResponder, type RecordedSend } from './memory-notifier.js';
export type {
  MessagePushPayload,
  Notifier,
  PushPayload,
  ReactionPushPayload,
  SendOutcome,
  StoredSubscription,
} from './notifier.js';
export type { PushGatewayOptions } from './options.js';
export { MAX_CONTENT_CHARS } from './payload.js';
export { createPushGateway, type NatterPushGateway } from './push-gateway.js';
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhookSignature,
} from './sign.js';
export type {
  JobOutcome,
  OwedMessage,
  PendingNotification,
  PromoteResult,
  PushJob,
  PushStore,
  PushStoreSettings,
} from './store/push-store.js';
export { createSqlitePushStore, type SqlitePushStoreOptions } from './store/sqlite.js';
export {
  isKnownPushService,
  type VapidKeys,
  WebPushNotifier,
  type WebPushOptions,
} from './web-push-notifier.js';
export { type WebhookBody, WebhookNotifier, type WebhookOptions } from './webhook-notifier.js';
