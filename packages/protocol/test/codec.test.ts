import { describe, expect, it } from 'vitest';
import { CloseCode, FrameDecodeError, jsonCodec, msgpackCodec, utf8ByteLength } from '../src/index.js';

describe('codecs', () => {
  const frame = {
    t: 'send',
    rid: 7,
    channelId: 'g_1',
    clientMsgId: 'c1',
    text: 'héllo 👋',
    mentions: ['u_1'],
  };

  it('round-trips a frame through MessagePack as binary', () => {
    const bytes = msgpackCodec.encode(frame);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(msgpackCodec.decode(bytes as Uint8Array, true)).toEqual(frame);
  });

  it('round-trips a frame through JSON as text', () => {
    const text = jsonCodec.encode(frame);
    expect(typeof text).toBe('string');
    expect(jsonCodec.decode(text, false)).toEqual(frame);
  });

  it('refuses a text frame on the msgpack codec with 1007', () => {
    expect(() => msgpackCodec.decode('{}', false)).toThrowError(
      expect.objectContaining({ closeCode: CloseCode.INVALID_PAYLOAD }),
    );
  });

  it('refuses a binary frame on the json codec with 1007', () => {
    expect(() => jsonCodec.decode(new Uint8Array([123, 125]), true)).toThrowError(
      expect.objectContaining({ closeCode: CloseCode.INVALID_PAYLOAD }),
    );
  });

  it('refuses invalid JSON with 1002 and invalid UTF-8 with 1007', () => {
    const badJson = (() => {
      try {
        jsonCodec.decode('{"t":', false);
      } catch (err) {
        return err;
      }
    })();
    expect(badJson).toBeInstanceOf(FrameDecodeError);
    expect((badJson as FrameDecodeError).closeCode).toBe(CloseCode.PROTOCOL_ERROR);
    expect(() => jsonCodec.decode(new Uint8Array([0xff, 0xfe]), false)).toThrowError(
      expect.objectContaining({ closeCode: CloseCode.INVALID_PAYLOAD }),
    );
  });

  it('refuses truncated MessagePack with 1002', () => {
    const bytes = msgpackCodec.encode(frame) as Uint8Array;
    expect(() => msgpackCodec.decode(bytes.subarray(0, bytes.length - 3), true)).toThrowError(
      expect.objectContaining({ closeCode: CloseCode.PROTOCOL_ERROR }),
    );
  });

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    expect(utf8ByteLength('abc')).toBe(3);
    expect(utf8ByteLength('é')).toBe(2);
    expect(utf8ByteLength('👋')).toBe(4);
  });
});
