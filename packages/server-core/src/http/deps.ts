import type { DiscoveryAnswer, DiscoveryQuery } from '@natter/protocol';
import type { AccountService } from '../accounts/account-service.js';
import type { ChatService } from '../chat/chat-service.js';
import type { ResolvedConfig } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { EventSink } from '../ports/events.js';
import type { MediaPlug } from '../ports/media.js';
import type { PushGateway } from '../ports/push.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { ApiKeys } from '../server-api/api-keys.js';
import type { ServerApiService } from '../server-api/server-api-service.js';
import type { E2eeParts } from './routes/e2ee.js';
import type { ModerationParts } from './routes/moderation.js';

/** What the HTTP API is built from; the server assembly supplies it. */
export interface HttpApiDeps {
  /** The chat domain; channel and group routes are thin wrappers over it. */
  service: ChatService;
  /** The account domain: signup, login, refresh, logout, profiles. */
  accounts: AccountService;
  /** Push notifications; without it the `/v1/push/*` and mute routes answer 404. */
  push?: PushGateway;
  /** Uploads and downloads; without it the `/v1/media` routes answer 404. */
  media?: MediaPlug;
  /** Blocks, reports, bans and slow mode; without it (a store without the capability) their routes answer 404. */
  moderation?: ModerationParts;
  /** The end-to-end encryption Delivery Service; without it (a store without keyed rows) its routes answer 404. */
  e2ee?: E2eeParts;
  /** Presence queries (`GET /v1/presence`). */
  presence: PresenceService;
  /** Verifies bearer tokens on every authenticated route. */
  authenticator: Authenticator;
  config: ResolvedConfig;
  logger: Logger;
  metrics: NatterMetrics;
  /**
   * The nodes a client should connect to, best first (`GET /v1/discovery`); rejects with
   * `NATTER_UNAVAILABLE` and `retryAfterMs` when no node is healthy. `clientIp` identifies the client's
   * reports of failed nodes.
   */
  discovery(request: Request, query: DiscoveryQuery, clientIp: string | undefined): Promise<DiscoveryAnswer>;
  /** This node as `GET /v1/ping` reports it. */
  node(): { nodeId: string; region: string; draining: boolean };
  /** The server API for app backends; its routes are mounted only with at least one key. */
  serverApi?: { keys: ApiKeys; service: ServerApiService; events: EventSink | undefined };
  /** Called after a logout so the server closes that device's sockets (all of the user's without `deviceId`). */
  onLogout(userId: string, deviceId: string | undefined): void;
  /** Called after a password change so the server closes the sockets of the user's other devices. */
  onPasswordChanged?(userId: string, keptDeviceId: string | undefined): void;
}
