/**
 * Reads the cleartext framing of an MLS message (RFC 9420 §6): what the Delivery Service needs to order
 * commits (group id, epoch, content type) without any key and without the MLS library, so the server can use
 * it alone. Everything else in the message stays opaque to the server.
 */

/** The wire formats of RFC 9420 §6 (Table 3 of §17.2). */
export type MlsWireFormat = 'public_message' | 'private_message' | 'welcome' | 'group_info' | 'key_package';

/** The content types of RFC 9420 §6 (`application` 1, `proposal` 2, `commit` 3). */
export type MlsContentType = 'application' | 'proposal' | 'commit';

/** The cleartext header of an MLS message. */
export type MlsHeader =
  | {
      readonly wireFormat: 'public_message' | 'private_message';
      /** The group (natter's channel id as UTF-8 bytes). */
      readonly groupId: Uint8Array;
      /** The epoch the message was sent in: a commit made in epoch N starts epoch N + 1. */
      readonly epoch: number;
      readonly contentType: MlsContentType;
      /** For a public message: the sender type (an external commit is `new_member_commit`). */
      readonly senderType?: 'member' | 'external' | 'new_member_proposal' | 'new_member_commit';
    }
  | { readonly wireFormat: 'group_info'; readonly groupId: Uint8Array; readonly epoch: number }
  | { readonly wireFormat: 'welcome' | 'key_package' };

const WIRE_FORMATS: Record<number, MlsWireFormat> = {
  1: 'public_message',
  2: 'private_message',
  3: 'welcome',
  4: 'group_info',
  5: 'key_package',
};
const CONTENT_TYPES: Record<number, MlsContentType> = { 1: 'application', 2: 'proposal', 3: 'commit' };
const SENDER_TYPES = ['member', 'external', 'new_member_proposal', 'new_member_commit'] as const;

class Reader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw new RangeError('truncated MLS message');
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.at++]!;
  }
  u16(): number {
    return this.u8() * 256 + this.u8();
  }
  u32(): number {
    return this.u16() * 65_536 + this.u16();
  }
  u64(): number {
    const high = this.u32();
    const low = this.u32();
    // Epochs count commits: far below 2^53 in any real group; refuse rather than round.
    if (high >= 2 ** 21) throw new RangeError('epoch beyond 2^53');
    return high * 2 ** 32 + low;
  }
  /** A variable-length vector (RFC 9420 §2.1.2: the QUIC varint of RFC 9000 §16, at most 30 bits). */
  vector(): Uint8Array {
    const first = this.u8();
    const prefix = first >> 6;
    let length = first & 0x3f;
    if (prefix === 3) throw new RangeError('invalid vector length prefix');
    for (let i = 0; i < (1 << prefix) - 1; i++) length = length * 256 + this.u8();
    this.need(length);
    const out = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }
}

/**
 * Parses the header of an `MLSMessage`. Throws a `RangeError` on bytes that are not one (truncated, unknown
 * version or wire format, bad content type): the server answers such an upload with a bad request.
 */
export function readMlsHeader(bytes: Uint8Array): MlsHeader {
  const r = new Reader(bytes);
  if (r.u16() !== 1) throw new RangeError('not an MLS 1.0 message');
  const wireFormat = WIRE_FORMATS[r.u16()];
  if (!wireFormat) throw new RangeError('unknown MLS wire format');
  if (wireFormat === 'welcome' || wireFormat === 'key_package') return { wireFormat };
  if (wireFormat === 'group_info') {
    r.u16(); // GroupContext.version
    r.u16(); // GroupContext.cipher_suite
    const groupId = r.vector();
    return { wireFormat, groupId, epoch: r.u64() };
  }
  const groupId = r.vector();
  const epoch = r.u64();
  if (wireFormat === 'private_message') {
    const contentType = CONTENT_TYPES[r.u8()];
    if (!contentType) throw new RangeError('unknown MLS content type');
    return { wireFormat, groupId, epoch, contentType };
  }
  // PublicMessage: FramedContent is group_id, epoch, sender, authenticated_data, content_type.
  const senderType = SENDER_TYPES[r.u8() - 1];
  if (!senderType) throw new RangeError('unknown MLS sender type');
  if (senderType === 'member' || senderType === 'external') r.u32();
  r.vector();
  const contentType = CONTENT_TYPES[r.u8()];
  if (!contentType) throw new RangeError('unknown MLS content type');
  return { wireFormat, groupId, epoch, contentType, senderType };
}
