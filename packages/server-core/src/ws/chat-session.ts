import {
  type ClientFrame,
  CloseCode,
  ErrorCode,
  type ErrorFrame,
  isNatterError,
  PROTOCOL_VERSION,
  parseClientFrame,
  type ServerFrame,
  type SyncEntry,
} from '@natter/protocol';
import type { ChatService } from '../chat/chat-service.js';
import type { LiveEndpoint, LocalHub } from '../chat/local-hub.js';
import { TokenBucket } from '../chat/rate-limiter.js';
import type { ResolvedConfig } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';
import type { Principal } from '../ports/authenticator.js';
import type { ClientConnection, ConnectionHandler } from '../ports/connection.js';
import type { EphemeralSink } from '../ports/delivery.js';
import type { ChatStore } from '../ports/storage.js';
import type { PresenceService } from '../presence/presence-service.js';
import { type Deadline, DeadlineQueue } from './deadline-queue.js';

/** What a session needs from the server. */
export interface SessionDeps {
  service: ChatService;
  presence: PresenceService;
  chat: ChatStore;
  hub: LocalHub;
  config: ResolvedConfig;
  logger: Logger;
  metrics: NatterMetrics;
  /** Where presence-like ephemeral frames (typing) go: the hub on one node, the broker when scaled out. */
  ephemeral: EphemeralSink;
  /** Cross-node routing: subscribe to the user's traffic before the snapshot, unsubscribe after the last close. */
  routing?: { follow(userId: string): Promise<void>; unfollow(userId: string): void };
  /**
   * Closes sessions whose credential expired, behind one timer for all of them; on `config.now`'s clock.
   * The server shares one between its sessions (as it shares this whole object). When absent, one is made
   * for this `deps` object.
   */
  expiry?: DeadlineQueue<ChatSession>;
}

/** Expiry queues made for `deps` objects that came without one. */
const fallbackQueues = new WeakMap<SessionDeps, DeadlineQueue<ChatSession>>();

function expiryQueueOf(deps: SessionDeps): DeadlineQueue<ChatSession> {
  if (deps.expiry) return deps.expiry;
  let queue = fallbackQueues.get(deps);
  if (!queue) {
    queue = new DeadlineQueue<ChatSession>(deps.config.now);
    fallbackQueues.set(deps, queue);
  }
  return queue;
}

/** Invalid frames tolerated per connection before it is closed with 1008. */
const MAX_BAD_FRAMES = 20;
/** Rate-limited sends tolerated in a row before the flood is closed with 1008. */
const MAX_RATE_LIMIT_STRIKES = 50;
/** How long a typing indicator lasts unless renewed, ms. */
export const TYPING_TTL_MS = 5_000;

/**
 * One authenticated connection speaking the natter protocol: validates frames, calls the chat service,
 * answers with typed frames, and receives live entries from the hub. Transport-neutral.
 *
 * An idle session is kept small, because a node holds tens of thousands of them: the dependencies are one
 * object shared by every session, the rate limiters are made at the first frame that needs them, and
 * token expiry is a slot in the server's {@link DeadlineQueue}, not a timer per session.
 */
export class ChatSession implements ConnectionHandler, LiveEndpoint, Deadline {
  readonly userId: string;
  lastSeenAt: number;
  /** When the credential expires (ms, on `config.now`'s clock); the session is closed with 4001 then. */
  readonly deadline: number;
  /** @internal Position in the expiry queue, owned by {@link DeadlineQueue}. */
  queueIndex = -1;
  /** Made at the first `send`: a full bucket then is what a bucket made at connect would hold. */
  private sendLimiter: TokenBucket | undefined = undefined;
  /** Made at the first `typing`. Typing is ephemeral chatter: two per second is plenty for a live indicator. */
  private typingLimiter: TokenBucket | undefined = undefined;
  private badFrames = 0;
  private rateLimitStrikes = 0;
  private closed = false;

  constructor(
    readonly connectionId: string,
    readonly deviceId: string,
    principal: Principal,
    private readonly connection: ClientConnection,
    private readonly deps: SessionDeps,
  ) {
    this.userId = principal.userId;
    this.lastSeenAt = deps.config.now();
    const { expiresAt } = principal;
    // A NaN expiry is no expiry we can trust: treat it as already past.
    this.deadline =
      expiresAt === undefined ? Number.POSITIVE_INFINITY : Number.isNaN(expiresAt) ? 0 : expiresAt;
    if (this.deadline !== Number.POSITIVE_INFINITY) expiryQueueOf(deps).add(this);
  }

  /** @internal Called by the expiry queue when the credential has expired. */
  expire(): void {
    this.close(CloseCode.TOKEN_EXPIRED, 'token expired');
  }

  /**
   * Registers for live delivery, then reads the sync head and says hello. Registering first means every
   * entry committed after `head` is delivered live: the snapshot and the subscription are atomic.
   */
  async start(sessionId: string): Promise<void> {
    this.deps.hub.add(this);
    this.deps.metrics.connections.inc();
    try {
      await this.deps.routing?.follow(this.userId);
      // Presence is a nicety: a presence-store outage must not refuse sessions that storage can serve.
      await this.deps.presence.connected(this).catch((err: unknown) => {
        this.deps.metrics.errors.inc({ code: 'presence_failed' });
        this.deps.logger.warn({ err, userId: this.userId }, 'presence update failed');
      });
      const head = await this.deps.chat.syncHead(this.userId);
      this.connection.send({
        t: 'hello',
        protocol: PROTOCOL_VERSION,
        userId: this.userId,
        deviceId: this.deviceId,
        sessionId,
        epoch: this.deps.chat.epoch(),
        head,
        limits: this.deps.config.limits,
        serverTime: this.deps.config.now(),
      });
    } catch (err) {
      this.deps.logger.error({ err, userId: this.userId }, 'session start failed');
      this.close(CloseCode.TRY_AGAIN_LATER, 'storage unavailable');
    }
  }

  onFrame(raw: unknown): void {
    if (this.closed) return;
    this.lastSeenAt = this.deps.config.now();
    const parsed = parseClientFrame(raw);
    if (!parsed.ok) {
      this.sendError({
        code: parsed.code,
        message: parsed.message,
        ...(parsed.rid === undefined ? {} : { rid: parsed.rid }),
      });
      if (++this.badFrames > MAX_BAD_FRAMES)
        this.close(CloseCode.POLICY_VIOLATION, 'too many invalid frames');
      return;
    }
    this.handle(parsed.frame).catch((err: unknown) => this.fail(parsed.frame.rid, err));
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.queueIndex >= 0) expiryQueueOf(this.deps).remove(this);
    this.deps.hub.remove(this);
    this.deps.routing?.unfollow(this.userId);
    this.deps.metrics.connections.dec();
  }

  pushEntry(entry: SyncEntry): void {
    if (this.closed) return;
    // A consumer that stopped reading must not grow our memory without bound; sync repairs what it misses.
    if (this.connection.bufferedBytes() > this.deps.config.maxBufferedBytes) {
      this.close(CloseCode.POLICY_VIOLATION, 'slow consumer');
      return;
    }
    this.deps.metrics.messagesOut.inc();
    this.connection.send({ t: 'msg', entry });
  }

  pushFrame(frame: ServerFrame): void {
    if (this.closed) return;
    // Ephemeral frames are the first thing to shed for a consumer that is falling behind.
    if (this.connection.bufferedBytes() > this.deps.config.maxBufferedBytes / 2) return;
    this.connection.send(frame);
  }

  /** Closes the connection (idempotent). */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.deps.metrics.errors.inc({ code: `close_${code}` });
    this.connection.close(code, reason);
    this.onClose();
  }

  private async handle(frame: ClientFrame): Promise<void> {
    const { service } = this.deps;
    switch (frame.t) {
      case 'send': {
        const { limits, now } = this.deps.config;
        this.sendLimiter ??= new TokenBucket(limits.sendsPerSecond, limits.sendBurst, now);
        const wait = this.sendLimiter.take();
        if (wait > 0) {
          this.sendError({
            rid: frame.rid,
            code: ErrorCode.RATE_LIMITED,
            message: 'too many sends',
            retryAfterMs: wait,
          });
          if (++this.rateLimitStrikes > MAX_RATE_LIMIT_STRIKES)
            this.close(CloseCode.POLICY_VIOLATION, 'send flood');
          return;
        }
        this.rateLimitStrikes = 0;
        const started = performance.now();
        const { rid } = frame;
        await service.sendMessage(
          this.userId,
          {
            channelId: frame.channelId,
            clientMsgId: frame.clientMsgId,
            text: frame.text,
            mentions: frame.mentions ?? [],
            ...(frame.attachments ? { attachments: frame.attachments } : {}),
          },
          {
            connectionId: this.connectionId,
            onAck: (entry, duplicate) => {
              if (!duplicate) this.deps.metrics.messagesIn.inc();
              if (!this.closed) this.connection.send({ t: 'ack', rid, entry, duplicate });
            },
          },
        );
        this.deps.metrics.storeWriteSeconds.observe((performance.now() - started) / 1000);
        return;
      }
      case 'sync': {
        const page = await service.sync(this.userId, frame.epoch, frame.after, frame.limit);
        this.reply({ t: 'sync.page', rid: frame.rid, ...page });
        return;
      }
      case 'history': {
        const { t: _t, rid, channelId, ...request } = frame;
        const page = await service.history(this.userId, channelId, request);
        this.reply({ t: 'history.page', rid, channelId, ...page });
        return;
      }
      case 'ping':
        this.reply({ t: 'pong', rid: frame.rid, serverTime: this.deps.config.now() });
        return;
      case 'typing': {
        this.typingLimiter ??= new TokenBucket(2, 4, this.deps.config.now);
        if (this.typingLimiter.take() > 0) return; // dropped silently: a missed typing blip harms no one
        const memberIds = await service.memberIdsFor(this.userId, frame.channelId);
        const active = frame.active ?? true;
        this.deps.ephemeral.sendToUsers(
          memberIds.filter((id) => id !== this.userId),
          {
            t: 'typing',
            channelId: frame.channelId,
            userId: this.userId,
            active,
            expiresInMs: active ? TYPING_TTL_MS : 0,
          },
        );
        return;
      }
      case 'read': {
        const result = await service.markRead(this.userId, frame.channelId, frame.seq);
        this.reply({ t: 'read.ok', rid: frame.rid, channelId: frame.channelId, ...result });
        return;
      }
      case 'received':
        await service.markDelivered(this.userId, frame.channelId, frame.seq);
        return;
      case 'presence.get': {
        const users = await this.deps.presence.query(this.userId, {
          ...(frame.userIds ? { userIds: frame.userIds } : {}),
          ...(frame.channelId ? { channelId: frame.channelId } : {}),
        });
        this.reply({ t: 'presence.list', rid: frame.rid, users });
        return;
      }
      case 'status':
        await this.deps.presence.setStatus(this.userId, frame.status);
        this.reply({ t: 'status.ok', rid: frame.rid, status: frame.status });
        return;
    }
  }

  private reply(frame: ServerFrame): void {
    if (!this.closed) this.connection.send(frame);
  }

  private fail(rid: number, err: unknown): void {
    if (isNatterError(err)) {
      this.sendError({
        rid,
        code: err.code,
        message: err.message,
        ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
      });
      return;
    }
    this.deps.logger.error({ err, userId: this.userId, rid }, 'request failed');
    this.sendError({ rid, code: ErrorCode.INTERNAL, message: 'internal error' });
  }

  private sendError(error: Omit<ErrorFrame, 't'>): void {
    this.deps.metrics.errors.inc({ code: error.code });
    this.reply({ t: 'error', ...error });
  }
}
