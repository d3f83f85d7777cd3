import * as v from 'valibot';
import { MODERATION_LIMITS } from '../limits.js';
import { ChannelSchema } from '../schemas/model.js';
import { IdSchema, SeqSchema, TimestampSchema, UintSchema, WellFormedText } from '../schemas/primitives.js';
import type { RouteSpec } from './routes.js';

/** Why a user reports a message or a user: a short list the app's moderators can triage by. */
export const ReportReasonSchema = v.picklist([
  'spam',
  'harassment',
  'hate',
  'sexual',
  'violence',
  'self_harm',
  'impersonation',
  'other',
]);

/** Why a report was made. */
export type ReportReason = v.InferOutput<typeof ReportReasonSchema>;

/** What a report names: a message (by channel and seq, as members see it) or a user. */
export const ReportTargetSchema = v.variant('kind', [
  v.object({ kind: v.literal('message'), channelId: IdSchema, seq: SeqSchema }),
  v.object({ kind: v.literal('user'), userId: IdSchema }),
]);

const NoteSchema = v.pipe(
  v.string(),
  WellFormedText,
  v.maxLength(
    MODERATION_LIMITS.maxReportNoteChars,
    `note must be at most ${MODERATION_LIMITS.maxReportNoteChars} characters`,
  ),
);

/** `POST /v1/reports`. */
export const ReportBodySchema = v.object({
  target: ReportTargetSchema,
  reason: ReportReasonSchema,
  note: v.optional(NoteSchema),
});

/**
 * The reported message as it was when the report was made: kept with the report, so a later edit or
 * delete does not destroy the evidence.
 */
export const ReportedMessageSchema = v.object({
  id: IdSchema,
  channelId: IdSchema,
  seq: SeqSchema,
  senderId: IdSchema,
  /** The text at report time (its first `MODERATION_LIMITS.maxReportSnapshotChars` characters). */
  text: v.string(),
  createdAt: TimestampSchema,
  /** How many attachments it carried (their media stay under the app's media retention). */
  attachments: UintSchema,
});

/** Where a report stands: `open` until the app resolves it. */
export const ReportStatusSchema = v.picklist(['open', 'resolved']);

/** A report as the app's moderators see it. */
export const ReportSchema = v.object({
  id: IdSchema,
  reporterId: IdSchema,
  /** The reported user: the one named, or the sender of the reported message. */
  userId: IdSchema,
  reason: ReportReasonSchema,
  note: v.optional(v.string()),
  /** Present for a message report. */
  message: v.optional(ReportedMessageSchema),
  createdAt: TimestampSchema,
  status: ReportStatusSchema,
  /** Set once resolved. */
  resolution: v.optional(
    v.object({
      outcome: v.picklist(['dismissed', 'actioned']),
      note: v.optional(v.string()),
      resolvedAt: TimestampSchema,
    }),
  ),
});

/** One stored report. */
export type Report = v.InferOutput<typeof ReportSchema>;

/** A block, as its owner sees it. */
export const BlockSchema = v.object({ userId: IdSchema, createdAt: TimestampSchema });
/** A block, as its owner sees it. */
export type Block = v.InferOutput<typeof BlockSchema>;

/** A ban from a group, as the group's admins see it. */
export const BanSchema = v.object({ userId: IdSchema, bannedBy: IdSchema, createdAt: TimestampSchema });
/** A ban from a group. */
export type Ban = v.InferOutput<typeof BanSchema>;

/** `PUT /v1/groups/{id}/slow-mode`: 0 turns slow mode off. */
export const SlowModeBodySchema = v.object({
  seconds: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.maxValue(
      MODERATION_LIMITS.maxSlowModeSeconds,
      `seconds must be 0-${MODERATION_LIMITS.maxSlowModeSeconds}`,
    ),
  ),
});

/** `POST /v1/server/reports/{id}/resolve`. */
export const ResolveReportBodySchema = v.object({
  outcome: v.picklist(['dismissed', 'actioned']),
  note: v.optional(NoteSchema),
});

/** `GET /v1/server/reports?status=&after=&limit=`: oldest first; page with the last id as `after`. */
export const ReportsQuerySchema = v.object({
  status: v.optional(ReportStatusSchema),
  after: v.optional(IdSchema),
  limit: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MODERATION_LIMITS.maxReportPage)),
  ),
});

/** `{ report }`. */
export const ReportBodyResultSchema = v.object({ report: ReportSchema });
/** `{ reports, hasMore }`. */
export const ReportListBodySchema = v.object({ reports: v.array(ReportSchema), hasMore: v.boolean() });
/** `{ blocks }`: the caller's blocks, oldest first. */
export const BlockListBodySchema = v.object({ blocks: v.array(BlockSchema) });
/** `{ bans }`: a group's bans, oldest first. */
export const BanListBodySchema = v.object({ bans: v.array(BanSchema) });
/** `{ channel }` after a moderation change. */
const ChannelResultSchema = v.object({ channel: ChannelSchema });

/** The caller's moderation routes (blocks and reports) and the group admins' (bans and slow mode). */
export const MODERATION_ROUTES = {
  listBlocks: {
    method: 'GET',
    path: '/v1/blocks',
    auth: true,
    tag: 'users',
    summary: 'The users the caller blocked, oldest first.',
    response: BlockListBodySchema,
    status: 200,
  },
  blockUser: {
    method: 'PUT',
    path: '/v1/blocks/{userId}',
    auth: true,
    tag: 'users',
    summary:
      "Blocks a user: their 1-1 messages to the caller are refused, neither sees the other's presence or typing, and they cannot add the caller to groups. Idempotent.",
    status: 204,
    errors: ['NATTER_NOT_FOUND'],
  },
  unblockUser: {
    method: 'DELETE',
    path: '/v1/blocks/{userId}',
    auth: true,
    tag: 'users',
    summary: 'Lifts a block; idempotent.',
    status: 204,
  },
  report: {
    method: 'POST',
    path: '/v1/reports',
    auth: true,
    tag: 'users',
    summary:
      "Reports a message (members only: others get 404) or a user to the app's moderators; stored with a snapshot of the message and sent as a `user.reported` event.",
    body: ReportBodySchema,
    response: ReportBodyResultSchema,
    status: 201,
    errors: ['NATTER_NOT_FOUND', 'NATTER_RATE_LIMITED'],
  },
  listBans: {
    method: 'GET',
    path: '/v1/groups/{id}/bans',
    auth: true,
    tag: 'groups',
    summary: "A group's bans, oldest first (admins only).",
    response: BanListBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_FORBIDDEN'],
  },
  banMember: {
    method: 'PUT',
    path: '/v1/groups/{id}/bans/{userId}',
    auth: true,
    tag: 'groups',
    summary:
      'Bans a user from a group (admins only): a member is removed, and nobody can add them back until they are unbanned. Idempotent.',
    status: 204,
    errors: ['NATTER_NOT_FOUND', 'NATTER_FORBIDDEN'],
  },
  unbanMember: {
    method: 'DELETE',
    path: '/v1/groups/{id}/bans/{userId}',
    auth: true,
    tag: 'groups',
    summary: 'Lifts a ban (admins only); the user is not added back. Idempotent.',
    status: 204,
    errors: ['NATTER_NOT_FOUND', 'NATTER_FORBIDDEN'],
  },
  setSlowMode: {
    method: 'PUT',
    path: '/v1/groups/{id}/slow-mode',
    auth: true,
    tag: 'groups',
    summary:
      'Sets slow mode (admins only): each member may send one message per `seconds` (0 turns it off); members see it as `slowModeSeconds` and a `slow_mode` system message.',
    body: SlowModeBodySchema,
    response: ChannelResultSchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_FORBIDDEN'],
  },
} as const satisfies Record<string, RouteSpec>;

/** The app backend's review of reports (server API, scope `reports:write`). */
export const SERVER_MODERATION_ROUTES = {
  serverListReports: {
    method: 'GET',
    path: '/v1/server/reports',
    auth: 'apiKey',
    scope: 'reports:write',
    tag: 'server',
    summary: 'Reports, oldest first, optionally only `open` or `resolved` ones; page with `after`.',
    query: ReportsQuerySchema,
    response: ReportListBodySchema,
    status: 200,
    errors: ['NATTER_INSUFFICIENT_SCOPE'],
  },
  serverResolveReport: {
    method: 'POST',
    path: '/v1/server/reports/{id}/resolve',
    auth: 'apiKey',
    scope: 'reports:write',
    tag: 'server',
    summary: 'Marks a report resolved with an outcome (dismissed or actioned); resolving again is refused.',
    body: ResolveReportBodySchema,
    response: ReportBodyResultSchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_CONFLICT', 'NATTER_INSUFFICIENT_SCOPE'],
  },
} as const satisfies Record<string, RouteSpec>;

/** `POST /v1/reports` body. */
export type ReportInput = v.InferOutput<typeof ReportBodySchema>;
