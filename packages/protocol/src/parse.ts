import * as v from 'valibot';
import { ErrorCode, NatterError } from './errors.js';
import { CLIENT_FRAME_SCHEMAS, type ClientFrame, type ClientFrameType } from './frames/client.js';
import { SERVER_FRAME_SCHEMAS, type ServerFrame, type ServerFrameType } from './frames/server.js';

/** Outcome of validating one decoded client frame. */
export type ParseResult =
  | { ok: true; frame: ClientFrame }
  | {
      ok: false;
      code: typeof ErrorCode.BAD_REQUEST | typeof ErrorCode.UNKNOWN_FRAME;
      message: string;
      rid?: number;
    };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Correlation id of a frame that failed validation, if one can be read safely. */
function readRid(value: Record<string, unknown>): number | undefined {
  const rid = value.rid;
  return typeof rid === 'number' && Number.isInteger(rid) && rid >= 0 && rid <= 2 ** 32 - 1 ? rid : undefined;
}

/** The first issue of a failed parse as `path: message`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], fallback: string): string {
  const issue = issues[0];
  if (!issue) return fallback;
  const path = v.getDotPath(issue);
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Validates a decoded client frame. Output objects are freshly built by the schema, so unknown
 * keys (including `__proto__`) never reach the server core.
 */
export function parseClientFrame(value: unknown): ParseResult {
  if (!isRecord(value)) return { ok: false, code: ErrorCode.BAD_REQUEST, message: 'frame must be a map' };
  const rid = readRid(value);
  const t = value.t;
  if (typeof t !== 'string' || !Object.hasOwn(CLIENT_FRAME_SCHEMAS, t)) {
    return {
      ok: false,
      code: ErrorCode.UNKNOWN_FRAME,
      message: 'unknown frame type',
      ...(rid === undefined ? {} : { rid }),
    };
  }
  const result = v.safeParse(CLIENT_FRAME_SCHEMAS[t as ClientFrameType], value);
  if (result.success) return { ok: true, frame: result.output as ClientFrame };
  return {
    ok: false,
    code: ErrorCode.BAD_REQUEST,
    message: describeIssues(result.issues, 'invalid frame'),
    ...(rid === undefined ? {} : { rid }),
  };
}

/** Outcome of validating one decoded server frame on the client. */
export type ServerParseResult =
  | { ok: true; frame: ServerFrame }
  /** A frame type this version does not know: a newer server may add types; ignore it. */
  | { ok: 'unknown'; t: string }
  | { ok: false; error: NatterError; rid?: number };

/**
 * Validates a decoded server frame against the shared schema. A frame that fails is a
 * `NATTER_BAD_RESPONSE` (never applied: a proxy or a version mismatch must not corrupt the client's state);
 * a frame of an unknown type is reported as such, to be ignored.
 */
export function parseServerFrame(value: unknown): ServerParseResult {
  if (!isRecord(value) || typeof value.t !== 'string') {
    return {
      ok: false,
      error: new NatterError(ErrorCode.BAD_RESPONSE, 'server frame is not a map with a type'),
    };
  }
  const t = value.t;
  if (!Object.hasOwn(SERVER_FRAME_SCHEMAS, t)) return { ok: 'unknown', t };
  const result = v.safeParse(SERVER_FRAME_SCHEMAS[t as ServerFrameType], value);
  if (result.success) return { ok: true, frame: result.output as ServerFrame };
  const rid = readRid(value);
  return {
    ok: false,
    error: new NatterError(
      ErrorCode.BAD_RESPONSE,
      `malformed ${t} frame: ${describeIssues(result.issues, 'invalid')}`,
    ),
    ...(rid === undefined ? {} : { rid }),
  };
}
