import { ErrorCode, IdSchema, NatterError } from '@natter/protocol';
import * as v from 'valibot';
import { HttpError } from './responses.js';

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
    throw new NatterError(ErrorCode.BAD_REQUEST, 'request body is not valid JSON');
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

/** A path parameter that must be a well-formed id; a malformed one names nothing, hence NOT_FOUND. */
export function idParam(params: Readonly<Record<string, string>>, name: string, what: string): string {
  const value = params[name];
  if (value === undefined || !v.is(IdSchema, value))
    throw new NatterError(ErrorCode.NOT_FOUND, `${what} not found`);
  return value;
}
