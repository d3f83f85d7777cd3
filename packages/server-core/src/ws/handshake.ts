import type { IncomingMessage } from 'node:http';
import { type CodecName, codecForSubprotocol, ID_PATTERN } from '@natter/protocol';

/** Reads the bearer token from the Authorization header, or the `access_token` query parameter (browsers). */
export function tokenFromRequest(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim() || undefined;
  return url.searchParams.get('access_token') ?? undefined;
}

/** The device id the client names in `?device=`, when well-formed. */
export function deviceFromRequest(url: URL): string | undefined {
  const device = url.searchParams.get('device');
  return device !== null && ID_PATTERN.test(device) ? device : undefined;
}

/**
 * Picks the codec from the offered subprotocols: the first natter one wins; no offer means MessagePack;
 * offers that are all foreign are refused (`undefined`).
 */
export function negotiateCodec(
  header: string | undefined,
): { codec: CodecName; subprotocol?: string } | undefined {
  if (!header) return { codec: 'msgpack' };
  for (const offered of header.split(',').map((p) => p.trim())) {
    const codec = codecForSubprotocol(offered);
    if (codec) return { codec, subprotocol: offered };
  }
  return undefined;
}
