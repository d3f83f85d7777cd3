/**
 * `@natter/push/verify`: what an app's webhook endpoint needs, without the gateway's dependencies
 * (no SQLite, no web-push). Verify each request before trusting its body.
 * @packageDocumentation
 */
export type { MessagePushPayload, PushPayload, ReactionPushPayload } from './notifier.js';
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhookSignature,
} from './sign.js';
export type { WebhookBody } from './webhook-notifier.js';
