import { ErrorCode, EVENT_HEADERS, EventSchema, NatterError, type NatterEvent } from '@natter/protocol';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '@natter/protocol/signature';
import * as v from 'valibot';

/** Options of {@link verifyEvent}. */
export interface VerifyEventOptions {
  /** The raw request body exactly as received (before any JSON parser). */
  body: string | Uint8Array;
  /** The request's headers: a fetch `Headers`, or Node's `req.headers`. */
  headers: Headers | Readonly<Record<string, string | string[] | undefined>>;
  /** The webhook secret; several while rotating it. */
  secret: string | readonly string[];
  /** Largest accepted distance between the signature's time and now, seconds. @default 300 */
  toleranceSeconds?: number;
  /** @default Date.now() */
  nowMs?: number;
}

function header(headers: VerifyEventOptions['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks an event webhook request from natter and returns its event: the `X-Natter-Signature` must match
 * the raw body and one of the secrets within the time tolerance (no replays), and the body must be a known
 * event. Deliveries are at-least-once: dedupe by `event.id`.
 * @throws NatterError UNAUTHORIZED for a bad or missing signature, BAD_REQUEST for a body that is not an event.
 */
export function verifyEvent(options: VerifyEventOptions): NatterEvent {
  const signed = verifyWebhookSignature({
    body: options.body,
    header: header(options.headers, SIGNATURE_HEADER),
    secret: options.secret,
    ...(options.toleranceSeconds !== undefined ? { toleranceSeconds: options.toleranceSeconds } : {}),
    ...(options.nowMs !== undefined ? { nowMs: options.nowMs } : {}),
  });
  if (!signed) throw new NatterError(ErrorCode.UNAUTHORIZED, 'bad or missing webhook signature');
  const text = typeof options.body === 'string' ? options.body : new TextDecoder().decode(options.body);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new NatterError(ErrorCode.BAD_REQUEST, 'webhook body is not JSON');
  }
  const parsed = v.safeParse(EventSchema, json);
  if (!parsed.success)
    throw new NatterError(ErrorCode.BAD_REQUEST, 'webhook body is not a known natter event');
  const id = header(options.headers, EVENT_HEADERS.id);
  if (id !== undefined && id !== parsed.output.id) {
    throw new NatterError(ErrorCode.BAD_REQUEST, 'event id header does not match the body');
  }
  return parsed.output;
}
