/**
 * The Delivery Service's header reader against real MLS messages made by ts-mls: every framed message,
 * Welcome, GroupInfo and KeyPackage, and refusal of bytes that are not MLS.
 */
import { describe, expect, it } from 'vitest';
import { readMlsHeader } from '../src/mls-header.js';
import { createTsMlsEngine } from '../src/ts-mls/engine.js';

const text = new TextDecoder();

async function pair() {
  const alice = await createTsMlsEngine({ device: { userId: 'alice', deviceId: 'd1' } });
  const bob = await createTsMlsEngine({ device: { userId: 'bob', deviceId: 'd1' } });
  await alice.createGroup('ch_header');
  const [kp] = await bob.generateKeyPackages(1);
  const add = await alice.addDevices('ch_header', [kp!]);
  await alice.confirmCommit('ch_header');
  await bob.joinFromWelcome(add.welcome!);
  return { alice, bob, add, kp: kp! };
}

describe('readMlsHeader', () => {
  it('reads group id, epoch and content type of a member commit (a private message)', async () => {
    const { add } = await pair();
    const header = readMlsHeader(add.commit);
    expect(header).toMatchObject({ wireFormat: 'private_message', epoch: 0, contentType: 'commit' });
    expect(header.wireFormat === 'private_message' && text.decode(header.groupId)).toBe('ch_header');
  });

  it('reads an application message with its epoch', async () => {
    const { alice } = await pair();
    const message = await alice.encrypt('ch_header', new Uint8Array([1, 2, 3]), {
      authenticatedData: new Uint8Array(300),
    });
    expect(readMlsHeader(message)).toMatchObject({
      wireFormat: 'private_message',
      epoch: 1,
      contentType: 'application',
    });
  });

  it('reads an external commit (a public message from a new member)', async () => {
    const { alice } = await pair();
    const carol = await createTsMlsEngine({ device: { userId: 'carol', deviceId: 'd1' } });
    const join = await carol.joinByExternalCommit(await alice.exportGroupInfo('ch_header'));
    expect(readMlsHeader(join.commit)).toMatchObject({
      wireFormat: 'public_message',
      epoch: 1,
      contentType: 'commit',
      senderType: 'new_member_commit',
    });
  });

  it('reads the group and epoch of a GroupInfo, and the kind of a Welcome and a KeyPackage', async () => {
    const { alice, add, kp } = await pair();
    const info = readMlsHeader(await alice.exportGroupInfo('ch_header'));
    expect(info).toMatchObject({ wireFormat: 'group_info', epoch: 1 });
    expect(info.wireFormat === 'group_info' && text.decode(info.groupId)).toBe('ch_header');
    expect(readMlsHeader(add.groupInfo)).toMatchObject({ wireFormat: 'group_info', epoch: 1 });
    expect(readMlsHeader(add.welcome!)).toEqual({ wireFormat: 'welcome' });
    expect(readMlsHeader(kp)).toEqual({ wireFormat: 'key_package' });
  });

  it('reads a member-sent public message whose authenticated data needs a two-byte length', () => {
    const aad = new Uint8Array(70);
    const bytes = new Uint8Array([
      ...[0, 1, 0, 1], // mls10, public_message
      ...[2, 0x61, 0x62], // group_id "ab"
      ...[0, 0, 0, 0, 0, 0, 0, 7], // epoch 7
      ...[1, 0, 0, 0, 3], // sender: member at leaf 3
      ...[0x40, 70, ...aad], // authenticated_data (varint 70 in two bytes)
      3, // content_type commit
    ]);
    expect(readMlsHeader(bytes)).toMatchObject({
      wireFormat: 'public_message',
      epoch: 7,
      contentType: 'commit',
      senderType: 'member',
    });
    expect(() => readMlsHeader(bytes.subarray(0, 30))).toThrow(RangeError);
  });

  it('refuses bytes that are not an MLS message', () => {
    for (const junk of [
      new Uint8Array(),
      new Uint8Array([0, 1]),
      new Uint8Array([0, 2, 0, 9]),
      new Uint8Array([0, 1, 0, 2, 5]),
    ])
      expect(() => readMlsHeader(junk)).toThrow(RangeError);
  });
});
