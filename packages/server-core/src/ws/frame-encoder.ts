import type { Codec, Message, ServerFrame } from '@natter/protocol';

/**
 * Encodes server frames, encoding each stored message once for all the frames that carry it.
 *
 * One commit sends the same message in several frames: the sender's `ack`, a `msg` to each other member
 * and to each of the sender's other devices; only the small envelope (`pos`, `rid`, `duplicate`) differs.
 * The message is encoded once and each frame is its envelope's bytes with the message's bytes spliced in
 * where the envelope holds `null`. The message is the envelope's last value (map order is free in both
 * codecs), so its `null` is the last value written: MessagePack's last byte (0xc0) or JSON's `null`
 * before the closing braces. The bytes decode to exactly what `codec.encode(frame)` decodes to.
 *
 * The cache is one slot: a dispatch writes all of a message's frames one after the other, so the slot
 * holds the message being dispatched, and keeps no older one alive.
 */
export class FrameEncoder {
  private lastMessage: Message | undefined = undefined;
  private lastBytes: Uint8Array | string = '';

  constructor(private readonly codec: Codec) {}

  encode(frame: ServerFrame): Uint8Array | string {
    if (frame.t === 'msg') {
      const { entry } = frame;
      if (entry.kind === 'message' && 'message' in entry) {
        const envelope = { t: 'msg', entry: { pos: entry.pos, kind: 'message', message: null } };
        return this.splice(envelope, entry.message, 2);
      }
    }
    if (frame.t === 'ack') {
      const { rid, duplicate, entry } = frame;
      const envelope = {
        t: 'ack',
        rid,
        duplicate,
        entry: { pos: entry.pos, kind: 'message', message: null },
      };
      return this.splice(envelope, entry.message, 2);
    }
    return this.codec.encode(frame);
  }

  /** `envelope` encoded with `message` in place of its last value (`null`, `depth` maps deep). */
  private splice(envelope: object, message: Message, depth: number): Uint8Array | string {
    const body = this.bytesOf(message);
    const head = this.codec.encode(envelope);
    if (typeof head === 'string' && typeof body === 'string') {
      const tail = `null${'}'.repeat(depth)}`;
      if (head.endsWith(tail)) return `${head.slice(0, -tail.length)}${body}${'}'.repeat(depth)}`;
    } else if (
      typeof head !== 'string' &&
      typeof body !== 'string' &&
      head[head.length - 1] === MSGPACK_NIL
    ) {
      const out = Buffer.allocUnsafe(head.length - 1 + body.length);
      out.set(head.subarray(0, head.length - 1), 0);
      out.set(body, head.length - 1);
      return out;
    }
    // A codec whose encoding is not spliceable this way: encode the whole frame.
    return this.codec.encode(withMessage(envelope, message));
  }

  private bytesOf(message: Message): Uint8Array | string {
    if (this.lastMessage !== message) {
      this.lastBytes = this.codec.encode(message);
      this.lastMessage = message;
    }
    return this.lastBytes;
  }
}

/** MessagePack's `nil`. */
const MSGPACK_NIL = 0xc0;

function withMessage(envelope: object, message: Message): object {
  const { entry, ...rest } = envelope as { entry: object };
  return { ...rest, entry: { ...entry, message } };
}

const encoders = new WeakMap<Codec, FrameEncoder>();

/** The encoder of `codec`, shared by every connection speaking it (so they share its cache slot). */
export function frameEncoderFor(codec: Codec): FrameEncoder {
  let encoder = encoders.get(codec);
  if (!encoder) {
    encoder = new FrameEncoder(codec);
    encoders.set(codec, encoder);
  }
  return encoder;
}
