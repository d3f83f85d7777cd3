import { C1, Packr } from 'msgpackr';
import { CloseCode } from './close-codes.js';
import type { CodecName } from './version.js';

/** Raised when bytes cannot be decoded; carries the close code the server must use. */
export class FrameDecodeError extends Error {
  override readonly name = 'FrameDecodeError';
  constructor(
    message: string,
    readonly closeCode: number,
  ) {
    super(message);
  }
}

/**
 * Turns frames into WebSocket payloads and back. `decode` returns untrusted data:
 * validate it (see `parseClientFrame`) before use.
 */
export interface Codec {
  readonly name: CodecName;
  /** True when the codec's frames are binary WebSocket messages. */
  readonly binary: boolean;
  encode(frame: unknown): Uint8Array | string;
  /** @throws FrameDecodeError with close code 1002 or 1007. */
  decode(data: Uint8Array | string, isBinary: boolean): unknown;
}

// Records and structured clones are msgpackr extensions other languages do not speak: plain MessagePack only.
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false, mapsAsObjects: true });
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** MessagePack codec (binary frames), the default. */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  binary: true,
  encode: (frame) => packr.pack(frame),
  decode(data, isBinary) {
    if (!isBinary || typeof data === 'string') {
      throw new FrameDecodeError('text frame on the msgpack codec', CloseCode.INVALID_PAYLOAD);
    }
    let value: unknown;
    try {
      value = packr.unpack(data);
    } catch {
      throw new FrameDecodeError('frame is not valid MessagePack', CloseCode.PROTOCOL_ERROR);
    }
    // 0xc1 is the one byte MessagePack never uses; msgpackr returns a marker for it instead of failing.
    if (value === C1) throw new FrameDecodeError('frame is not valid MessagePack', CloseCode.PROTOCOL_ERROR);
    return value;
  },
};

/** JSON codec (text frames), for debugging and simple clients. */
export const jsonCodec: Codec = {
  name: 'json',
  binary: false,
  encode: (frame) => JSON.stringify(frame),
  decode(data, isBinary) {
    if (isBinary) throw new FrameDecodeError('binary frame on the json codec', CloseCode.INVALID_PAYLOAD);
    let text: string;
    try {
      text = typeof data === 'string' ? data : utf8.decode(data);
    } catch {
      throw new FrameDecodeError('frame is not valid UTF-8', CloseCode.INVALID_PAYLOAD);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new FrameDecodeError('frame is not valid JSON', CloseCode.PROTOCOL_ERROR);
    }
  },
};

/** The codec with the given name. */
export function getCodec(name: CodecName): Codec {
  return name === 'json' ? jsonCodec : msgpackCodec;
}

/** UTF-8 byte length of a string (the unit of `maxMessageBytes`). */
export function utf8ByteLength(text: string): number {
  // Fast path: pure ASCII strings are one byte per char.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? text.length : utf8Encoder.encode(text).length;
}
