/** Wire protocol version. Bumped only for incompatible changes; both codecs carry it in the subprotocol name. */
export const PROTOCOL_VERSION = 1;

/** WebSocket subprotocol for the MessagePack codec (the default). */
export const SUBPROTOCOL_MSGPACK = `natter.v${PROTOCOL_VERSION}.msgpack`;

/** WebSocket subprotocol for the JSON codec (readable, for debugging and other languages). */
export const SUBPROTOCOL_JSON = `natter.v${PROTOCOL_VERSION}.json`;

/** Codec names as negotiated through the subprotocol. */
export type CodecName = 'msgpack' | 'json';

/** Maps an offered subprotocol to its codec, or `undefined` when it is not one of natter's. */
export function codecForSubprotocol(subprotocol: string): CodecName | undefined {
  if (subprotocol === SUBPROTOCOL_MSGPACK) return 'msgpack';
  if (subprotocol === SUBPROTOCOL_JSON) return 'json';
  return undefined;
}

/** The subprotocol string for a codec. */
export function subprotocolForCodec(codec: CodecName): string {
  return codec === 'json' ? SUBPROTOCOL_JSON : SUBPROTOCOL_MSGPACK;
}
