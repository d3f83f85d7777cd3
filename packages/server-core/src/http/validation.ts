import { ErrorCode, ID_LIMITS, IdSchema, NatterError } from '@natter/protocol';
import * as v from 'valibot';
import { PASSWORD_LIMITS } from '../auth/passwords.js';
import { HttpError } from './responses.js';

/** Most user ids one request may name (group creation, adding members). */
export const MAX_IDS_PER_REQUEST = 200;

const badRequest = (message: string) => new NatterError(ErrorCode.BAD_REQUEST, message);

/** Usernames: 3-32 of `a-z 0-9 _ . -`, lower-cased before the check so `Alice` signs up as `alice`. */
export const UsernameSchema = v.pipe(
  v.string(),
  v.toLowerCase(),
  v.minLength(3, 'username must be 3-32 characters'),
  v.maxLength(32, 'username must be 3-32 characters'),
  v.regex(/^[a-z0-9_.-]+$/, 'username may contain only a-z, 0-9, _, . and -'),
);

/** Display and group names: trimmed, 1-100 characters. */
export const NameSchema = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, 'name must not be empty'),
  v.maxLength(ID_LIMITS.maxNameLength, `name must be at most ${ID_LIMITS.maxNameLength} characters`),
);

const IdListSchema = v.pipe(
  v.array(IdSchema),
  v.maxLength(MAX_IDS_PER_REQUEST, `at most ${MAX_IDS_PER_REQUEST} user ids per request`),
);

/** `POST /v1/auth/signup`. */
export const SignupSchema = v.object({
  username: UsernameSchema,
  password: v.pipe(
    v.string(),
    v.minLength(PASSWORD_LIMITS.minLength, 'password must be 8-256 characters'),
    v.maxLength(PASSWORD_LIMITS.maxLength, 'password must be 8-256 characters'),
  ),
  displayName: v.optional(NameSchema),
  deviceId: v.optional(IdSchema),
});

/** `POST /v1/auth/login`. No minimum password length here: a policy change must not lock anyone out. */
export const LoginSchema = v.object({
  // Not the username rules: a malformed name simply matches no user, answered like a wrong password.
  username: v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.toLowerCase()),
  password: v.pipe(v.string(), v.minLength(1), v.maxLength(PASSWORD_LIMITS.maxLength)),
  deviceId: v.optional(IdSchema),
});

/** `POST /v1/auth/refresh`. */
export const RefreshSchema = v.object({ refreshToken: v.pipe(v.string(), v.minLength(1), v.maxLength(256)) });

/** `POST /v1/auth/logout`. */
export const LogoutSchema = v.object({ allDevices: v.optional(v.boolean()) });

/** `PATCH /v1/me`. */
export const UpdateProfileSchema = v.object({ displayName: NameSchema });

/** `POST /v1/channels/direct`. */
export const OpenDirectSchema = v.object({ userId: IdSchema });

/** `POST /v1/channels/:id/read`. */
export const MarkReadSchema = v.object({
  seq: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
});

/** `POST /v1/push/subscriptions`: a Web Push subscription or an app device token for the webhook. */
export const PushSubscriptionSchema = v.variant('kind', [
  v.object({
    kind: v.literal('webpush'),
    endpoint: v.pipe(v.string(), v.url(), v.maxLength(2048), v.startsWith('https://')),
    keys: v.object({
      p256dh: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{20,200}={0,2}$/)),
      auth: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{10,100}={0,2}$/)),
    }),
  }),
  v.object({
    kind: v.literal('webhook'),
    token: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
    platform: v.optional(v.pipe(v.string(), v.maxLength(32))),
  }),
]);

/** `PUT /v1/channels/:id/mute`. */
export const MuteSchema = v.object({ muted: v.boolean() });

/** `POST /v1/groups`. */
export const CreateGroupSchema = v.object({ name: NameSchema, memberIds: IdListSchema });

/** `PATCH /v1/groups/:id`. */
export const RenameGroupSchema = v.object({ name: NameSchema });

/** `POST /v1/groups/:id/members`. */
export const AddMembersSchema = v.object({
  userIds: v.pipe(IdListSchema, v.minLength(1, 'userIds must not be empty')),
});

function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  if (!first) return 'invalid request body';
  const path = v.getDotPath(first);
  return path ? `${path}: ${first.message}` : first.message;
}

/** Validates a value against a schema; the first issue becomes the BAD_REQUEST message. */
export function validate<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (!result.success) throw badRequest(describeIssues(result.issues));
  return result.output;
}

/** BAD_REQUEST answered with 413: there is no error code of its own for an oversized body. */
export const bodyTooLarge = (maxBytes: number): HttpError =>
  new HttpError(ErrorCode.BAD_REQUEST, `request body exceeds ${maxBytes} bytes`, 413);

/**
 * Reads the body as JSON, at most `maxBytes` (the node adapter enforces the limit earlier too; this
 * covers runtimes that call `fetch` directly). An empty body reads as `{}`.
 * @throws NatterError BAD_REQUEST for a body that is too large or not JSON.
 */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw bodyTooLarge(maxBytes);
  const text = await readTextLimited(request, maxBytes);
  if (text.trim().length === 0) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('request body is not valid JSON');
  }
}

async function readTextLimited(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}

/** Parses an optional non-negative integer query parameter. */
export function intParam(url: URL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,16}$/.test(raw)) throw badRequest(`${name} must be an integer`);
  const value = Number(raw);
  if (value < min || value > max) throw badRequest(`${name} must be between ${min} and ${max}`);
  return value;
}

/** A path parameter that must be a well-formed id; a malformed one names nothing, hence NOT_FOUND. */
export function idParam(params: Readonly<Record<string, string>>, name: string, what: string): string {
  const value = params[name];
  if (value === undefined || !v.is(IdSchema, value))
    throw new NatterError(ErrorCode.NOT_FOUND, `${what} not found`);
  return value;
}
