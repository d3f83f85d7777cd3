import {
  type ClientFrame,
  CloseCode,
  ErrorCode,
  type ErrorFrame,
  isNatterError,
  PROTOCOL_VERSION,
  parseClientFrame,
  type RateLimitedFrameKind,
  rateKindOf,
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
import type { DeliveryOrigin, EphemeralSink } from '../ports/delivery.js';
import type { ChatStore } from '../ports/storage.js';
import type { PresenceService } from '../presence/presence-service.js';
import { type Deadline, DeadlineQueue } from './deadline-queue.js';
import { type CoalescedFrame, HeldFrames } from './held-frames.js';
import type { UserQuotas } from './user-quotas.js';

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
  /** Per-user socket counts and frame buckets on this node, shared by every session. */
  quotas: UserQuotas;
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
  /**
   * This socket's bucket per frame kind, made at the first frame of the kind: a full bucket then is what a
   * bucket made at connect would hold, and an idle session carries none.
   */
  private limiters: Map<RateLimitedFrameKind, TokenBucket> | undefined = undefined;
  /** Coalesced frames (typing, received, status) waiting for their buckets to refill. */
  private held: HeldFrames | undefined = undefined;
  /** Requests being processed now. */
  private inFlight = 0;
  private badFrames = 0;
  private rateLimitStrikes = 0;
  /** False when the user was at `maxConnectionsPerUser`: the session closes at start and counted nothing. */
  private counted = false;
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
    // Counted in the engine, not the ws transport, so every transport gets the cap.
    const refusedFor = this.deps.quotas.tryOpen(this.userId, this.deps.config.overloadRetryAfterMs);
    if (refusedFor > 0) {
      this.deps.metrics.errors.inc({ code: 'too_many_connections' });
      this.connection.close(
        CloseCode.TOO_MANY_CONNECTIONS,
        `too many connections; retryAfterMs=${refusedFor}`,
      );
      this.closed = true;
      if (this.queueIndex >= 0) expiryQueueOf(this.deps).remove(this);
      return;
    }
    this.counted = true;
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
      if (++this.badFrames > this.deps.config.resources.maxBadFrames)
        this.close(CloseCode.POLICY_VIOLATION, 'too many invalid frames');
      return;
    }
    const { frame } = parsed;
    // A client that stopped reading gets no new work: its answers could only pile up.
    if (this.connection.bufferedBytes() > this.deps.config.maxBufferedBytes) {
      this.close(CloseCode.POLICY_VIOLATION, 'slow consumer');
      return;
    }
    // Pipelined requests must not pile up promises and store calls without bound.
    if (this.inFlight >= this.deps.config.resources.maxInFlightPerConnection) {
      this.refuse(frame.rid, 'too many requests in flight', 50);
      return;
    }
    const wait = this.admit(rateKindOf(frame.t));
    if (wait > 0) {
      if (frame.t === 'typing' || frame.t === 'received' || frame.t === 'status') this.coalesce(frame, wait);
      else this.refuse(frame.rid, `too many ${frame.t} frames`, wait);
      return;
    }
    this.rateLimitStrikes = 0;
    this.run(frame);
  }

  /**
   * Runs one admitted frame, counting it in flight for the socket and for the user until it is answered.
   * Past the user's bound a request is refused, and a coalesced frame waits for a later try.
   */
  private run(frame: ClientFrame, replayed = false): void {
    if (!this.deps.quotas.tryStart(this.userId)) {
      if (replayed) this.held?.hold(frame as CoalescedFrame, 50);
      else this.refuse(frame.rid, 'too many requests in flight for this user', 50);
      return;
    }
    this.inFlight += 1;
    this.handle(frame, replayed)
      .catch((err: unknown) => this.fail(frame.rid, err))
      .finally(() => {
        this.inFlight -= 1;
        this.deps.quotas.finish(this.userId);
      });
  }

  /**
   * Takes a token of `kind` from this socket's bucket and from the user's bucket on this node: 0 when both
   * allow, else the longer wait in ms.
   */
  private admit(kind: RateLimitedFrameKind): number {
    const { resources, now } = this.deps.config;
    this.limiters ??= new Map();
    let bucket = this.limiters.get(kind);
    if (!bucket) {
      const { perSecond, burst } = resources.frameRates[kind].socket;
      bucket = new TokenBucket(perSecond, burst, now);
      this.limiters.set(kind, bucket);
    }
    const socketWait = bucket.take();
    if (socketWait > 0) return socketWait;
    return this.deps.quotas.take(this.userId, kind);
  }

  /** Answers a refused request with `NATTER_RATE_LIMITED`; a flood of refusals closes the socket. */
  private refuse(rid: number, message: string, retryAfterMs: number): void {
    this.sendError({ rid, code: ErrorCode.RATE_LIMITED, message, retryAfterMs });
    if (++this.rateLimitStrikes > this.deps.config.resources.maxRateLimitStrikes)
      this.close(CloseCode.POLICY_VIOLATION, 'flood');
  }

  /**
   * Typing, delivery receipts and status flips past their rate are not refused: only their latest state
   * matters, so it is held and applied once the bucket refills. A status is answered at once.
   */
  private coalesce(frame: CoalescedFrame, waitMs: number): void {
    this.held ??= new HeldFrames((held) => this.replay(held));
    this.held.hold(frame, waitMs);
    if (frame.t === 'status') this.reply({ t: 'status.ok', rid: frame.rid, status: frame.status });
  }

  private replay(frame: CoalescedFrame): void {
    if (this.closed) return;
    const wait = this.admit(frame.t);
    if (wait > 0) this.held?.hold(frame, wait);
    else this.run(frame, true);
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.held?.clear();
    if (this.counted) this.deps.quotas.release(this.userId);
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

  /** `replayed`: a coalesced frame applied late, whose answer (if any) was already sent. */
  private async handle(frame: ClientFrame, replayed: boolean): Promise<void> {
    const { service } = this.deps;
    switch (frame.t) {
      case 'send': {
        const started = performance.now();
        const { rid } = frame;
        await service.sendMessage(
          this.userId,
          {
            channelId: frame.channelId,
            clientMsgId: frame.clientMsgId,
            text: frame.text,
            mentions: frame.mentions ?? [],
            ...(frame.replyTo !== undefined ? { replyTo: frame.replyTo } : {}),
            ...(frame.threadRoot !== undefined ? { threadRoot: frame.threadRoot } : {}),
            ...(frame.attachments ? { attachments: frame.attachments } : {}),
          },
          {
            connectionId: this.connectionId,
            onAck: (entry, duplicate) => {
              if (!duplicate) this.deps.metrics.messagesIn.inc();
              // A send's own entry is always a `message` entry; the check narrows the type.
              if (entry?.kind === 'message') this.reply({ t: 'ack', rid, entry, duplicate });
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
        const audience = await service.typingAudience(this.userId, frame.channelId);
        const active = frame.active ?? true;
        this.deps.ephemeral.sendToUsers(audience, {
          t: 'typing',
          channelId: frame.channelId,
          userId: this.userId,
          active,
          expiresInMs: active ? TYPING_TTL_MS : 0,
        });
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
        if (!replayed) this.reply({ t: 'status.ok', rid: frame.rid, status: frame.status });
        return;
      case 'edit': {
        const { t: _t, rid, ...input } = frame;
        await service.lifecycle.edit(this.userId, input, this.mutationOrigin(rid));
        return;
      }
      case 'delete': {
        const { t: _t, rid, ...input } = frame;
        await service.lifecycle.delete(this.userId, input, this.mutationOrigin(rid));
        return;
      }
      case 'react': {
        const { t: _t, rid, op, ...input } = frame;
        await service.lifecycle.react(this.userId, { ...input, add: op === 'add' }, this.mutationOrigin(rid));
        return;
      }
      case 'reactors': {
        const { t: _t, rid, ...input } = frame;
        const page = await service.lifecycle.reactors(this.userId, input);
        this.reply({ t: 'reactors.page', rid, ...page });
        return;
      }
    }
  }

  /** The origin of a mutation: its answer goes out in commit order, before the other devices' entries. */
  private mutationOrigin(rid: number): DeliveryOrigin {
    return {
      connectionId: this.connectionId,
      onAck: (entry, duplicate) => this.reply({ t: 'mutated', rid, entry, duplicate }),
    };
  }

  /**
   * Sends an answer (reply, ack or error). Answers count against the same buffer bound as live entries: a
   * client that asks and never reads must not grow our memory.
   */
  private reply(frame: ServerFrame): void {
    if (this.closed) return;
    if (this.connection.bufferedBytes() > this.deps.config.maxBufferedBytes) {
      this.close(CloseCode.POLICY_VIOLATION, 'slow consumer');
      return;
    }
    this.connection.send(frame);
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
