/**
 * `@natter/server-client`: what an app's backend needs to drive natter. `NatterServerClient` calls the
 * server API (`/v1/server/...`) with an API key: users, channels, members, messages and notices, user
 * tokens and the event log. `verifyEvent` checks an event webhook request and returns its typed event.
 * @packageDocumentation
 */
export {
  EVENT_HEADERS,
  EVENT_TYPES,
  type EventType,
  isNatterError,
  NatterError,
  type NatterEvent,
  SERVER_API_SCOPES,
  type ServerApiScope,
  type ServerUser,
} from '@natter/protocol';
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature } from '@natter/protocol/signature';
export {
  NatterServerClient,
  type NatterServerClientOptions,
  type PostInput,
  type ServerCallInput,
  type ServerRouteName,
} from './server-client.js';
export { type VerifyEventOptions, verifyEvent } from './verify-event.js';
