import {
  type Codec,
  jsonCodec,
  type Message,
  msgpackCodec,
  parseServerFrame,
  type ServerFrame,
} from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import { FrameEncoder } from '../src/ws/frame-encoder.js';

function message(seq: number, text: string, extra: Partial<Message> = {}): Message {
  return {
    id: `01JTESTMESSAGE${String(seq).padStart(12, '0')}`,
    channelId: 'c_1',
    seq,
    senderId: 'alice',
    clientMsgId: `k${seq}`,
    kind: 'text',
    text,
    mentions: ['bob'],
    system: null,
    createdAt: 1_765_000_000_000 + seq,
    ...extra,
  };
}

const messages: Message[] = [
  message(1, 'hello'),
  message(2, 'ünïcödé 😀 and "quotes" \\ and }} braces null'),
  message(3, 'x'.repeat(70_000), { mentions: [] }),
  message(4, '', {
    attachments: [
      {
        mediaId: 'm_1',
        kind: 'image',
        mime: 'image/png',
        size: 1234,
        filename: 'a.png',
        width: 10,
        height: 20,
        thumbnails: [{ size: 320, width: 10, height: 20 }],
      },
    ],
  }),
  message(5, 'edited', { editedAt: 1_765_000_000_100, version: 2, replyTo: 1 }),
];

/** Frames around each message as a dispatch writes them: the sender's ack, then msgs at several positions. */
function framesOf(m: Message): ServerFrame[] {
  return [
    { t: 'ack', rid: 0, entry: { pos: 1, kind: 'message', message: m }, duplicate: false },
    { t: 'ack', rid: 2 ** 32 - 1, entry: { pos: 2 ** 40, kind: 'message', message: m }, duplicate: true },
    { t: 'msg', entry: { pos: 1, kind: 'message', message: m } },
    { t: 'msg', entry: { pos: 127, kind: 'message', message: m } },
    { t: 'msg', entry: { pos: 70_000, kind: 'message', message: m } },
    { t: 'msg', entry: { pos: Number.MAX_SAFE_INTEGER, kind: 'message', message: m } },
  ];
}

/** A real codec that counts how many values it encoded. */
function counting(codec: Codec): Codec & { encoded: number } {
  const counted = {
    ...codec,
    encoded: 0,
    encode(frame: unknown) {
      counted.encoded += 1;
      return codec.encode(frame);
    },
  };
  return counted;
}

const decode = (codec: Codec, bytes: Uint8Array | string) => codec.decode(bytes, codec.binary);

describe.each([
  ['msgpack', msgpackCodec],
  ['json', jsonCodec],
])('FrameEncoder on the %s codec', (_name, codec) => {
  it('encodes ack and msg frames to what the plain codec encodes, as the client parses them', () => {
    const encoder = new FrameEncoder(codec);
    for (const m of messages) {
      for (const frame of framesOf(m)) {
        const spliced = decode(codec, encoder.encode(frame));
        expect(spliced).toEqual(decode(codec, codec.encode(frame)));
        expect(parseServerFrame(spliced)).toEqual({ ok: true, frame });
      }
    }
  });

  it('encodes a message once for all the frames that carry it, and again for another message', () => {
    const codec1 = counting(codec);
    const encoder = new FrameEncoder(codec1);
    const [first, second] = messages as [Message, Message];
    for (const frame of framesOf(first)) encoder.encode(frame);
    // One encoding of the message, one small envelope per frame.
    expect(codec1.encoded).toBe(1 + framesOf(first).length);
    const changed = { ...first, text: 'changed' };
    const bytes = encoder.encode({ t: 'msg', entry: { pos: 9, kind: 'message', message: changed } });
    expect((decode(codec, bytes) as { entry: { message: Message } }).entry.message.text).toBe('changed');
    expect(codec1.encoded).toBe(1 + framesOf(first).length + 2);
    encoder.encode({ t: 'msg', entry: { pos: 10, kind: 'message', message: second } });
    expect(codec1.encoded).toBe(1 + framesOf(first).length + 4);
  });

  it('encodes every other frame as the codec does', () => {
    const encoder = new FrameEncoder(codec);
    const frames: ServerFrame[] = [
      { t: 'pong', rid: 1, serverTime: 5 },
      { t: 'error', rid: 3, code: 'NATTER_NOT_FOUND', message: 'not found' },
    ];
    for (const frame of frames) expect(encoder.encode(frame)).toEqual(codec.encode(frame));
  });
});
