// The signature scheme is shared by push and event webhooks, so it lives in the protocol package.
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhookSignature,
} from '@natter/protocol/signature';
