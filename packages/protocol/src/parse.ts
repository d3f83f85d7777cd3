import * as v from 'valibot';
import { ErrorCode } from './error-codes.js';
import { CLIENT_FRAME_SCHEMAS, type ClientFrame, type ClientFrameType } from './frames.js';

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
  const schema = CLIENT_FRAME_SCHEMAS[t as ClientFrameType];
  const result = v.safeParse(schema, value);
  if (result.success) return { ok: true, frame: result.output as ClientFrame };
  const issue = result.issues[0];
  const path = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
  return {
    ok: false,
    code: ErrorCode.BAD_REQUEST,
    message: path ? `${path}: ${issue?.message ?? 'invalid'}` : (issue?.message ?? 'invalid frame'),
    ...(rid === undefined ? {} : { rid }),
  };
}
