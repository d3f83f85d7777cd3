/**
 * MLS messages as bytes: encoding what the engine sends, decoding what it receives, and decrypting
 * application messages with their authenticated sender (ts-mls 1.6's `processPrivateMessage` returns the
 * plaintext without it, so this follows its application-message branch and keeps the sender's leaf).
 */
import {
  type CiphersuiteImpl,
  type ClientState,
  createGroupInfoWithExternalPubAndRatchetTree,
  decodeMlsMessage,
  encodeMlsMessage,
  type GroupInfo,
  type KeyPackage,
  type MLSMessage,
  type PrivateMessage,
  type PublicMessage,
  type RatchetTree,
  type Welcome,
} from 'ts-mls';
import { unprotectPrivateMessage } from 'ts-mls/messageProtection.js';
import { type E2eeErrorCode, e2eeError } from '../errors.js';
import type { DeviceRef } from '../port.js';
import { deviceOfLeaf } from './members.js';

/** One of the message bodies this engine sends, wrapped as an MLS 1.0 `MLSMessage` and encoded. */
export function encodeMessage(
  body: { welcome: Welcome } | { privateMessage: PrivateMessage } | { publicMessage: PublicMessage },
): Uint8Array {
  const version = 'mls10' as const;
  if ('welcome' in body) return encodeMlsMessage({ ...body, wireformat: 'mls_welcome', version });
  if ('privateMessage' in body)
    return encodeMlsMessage({ ...body, wireformat: 'mls_private_message', version });
  return encodeMlsMessage({ ...body, wireformat: 'mls_public_message', version });
}

/** The group's GroupInfo for external joins (signed, with its external key and the ratchet tree), encoded. */
export async function groupInfoBytes(state: ClientState, impl: CiphersuiteImpl): Promise<Uint8Array> {
  const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(state, [], impl);
  return encodeMlsMessage({ groupInfo, wireformat: 'mls_group_info', version: 'mls10' });
}

/** Decodes an `MLSMessage`, or throws `code` (the caller's verdict for bytes that are not one). */
function decode(bytes: Uint8Array, code: E2eeErrorCode, what: string): MLSMessage {
  let decoded: [MLSMessage, number] | undefined;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch (err) {
    throw e2eeError(code, `not an MLS ${what}`, err);
  }
  if (!decoded || decoded[1] !== bytes.length) throw e2eeError(code, `not an MLS ${what}`);
  return decoded[0];
}

/** A KeyPackage from its `MLSMessage` bytes. */
export function decodeKeyPackageMessage(bytes: Uint8Array): KeyPackage {
  const m = decode(bytes, 'NATTER_E2EE_KEY_PACKAGE_INVALID', 'KeyPackage');
  if (m.wireformat !== 'mls_key_package')
    throw e2eeError('NATTER_E2EE_KEY_PACKAGE_INVALID', 'not a KeyPackage');
  return m.keyPackage;
}

/** A Welcome from its `MLSMessage` bytes. */
export function decodeWelcomeMessage(bytes: Uint8Array): Welcome {
  const m = decode(bytes, 'NATTER_E2EE_WELCOME_REJECTED', 'Welcome');
  if (m.wireformat !== 'mls_welcome') throw e2eeError('NATTER_E2EE_WELCOME_REJECTED', 'not a Welcome');
  return m.welcome;
}

/** A GroupInfo from its `MLSMessage` bytes. */
export function decodeGroupInfoMessage(bytes: Uint8Array): GroupInfo {
  const m = decode(bytes, 'NATTER_E2EE_COMMIT_REJECTED', 'GroupInfo');
  if (m.wireformat !== 'mls_group_info') throw e2eeError('NATTER_E2EE_COMMIT_REJECTED', 'not a GroupInfo');
  return m.groupInfo;
}

/** A handshake or application message: private (members' commits, all application data) or public. */
export type FramedMessage =
  | { readonly kind: 'private'; readonly message: PrivateMessage }
  | { readonly kind: 'public'; readonly message: PublicMessage };

/** A framed (private or public) message from its `MLSMessage` bytes. */
export function decodeFramedMessage(bytes: Uint8Array, code: E2eeErrorCode): FramedMessage {
  const m = decode(bytes, code, 'message');
  if (m.wireformat === 'mls_private_message') return { kind: 'private', message: m.privateMessage };
  if (m.wireformat === 'mls_public_message') return { kind: 'public', message: m.publicMessage };
  throw e2eeError(code, `an MLS ${m.wireformat} where a framed message was expected`);
}

/** A decrypted application message: its plaintext, sender, bound data, and the state that consumed its key. */
export interface Unprotected {
  readonly plaintext: Uint8Array;
  readonly sender: DeviceRef;
  readonly authenticatedData: Uint8Array;
  readonly newState: ClientState;
  readonly consumed: Uint8Array[];
}

function senderOf(tree: RatchetTree, leafIndex: number): DeviceRef {
  const node = tree[leafIndex * 2];
  const device = node?.nodeType === 'leaf' ? deviceOfLeaf(node.leaf) : undefined;
  if (!device) throw e2eeError('NATTER_E2EE_DECRYPT_FAILED', 'the sender is not a device of the group');
  return { userId: device.userId, deviceId: device.deviceId };
}

/**
 * Decrypts and authenticates an application message of the current epoch or a retained past one (sender
 * signature checked by ts-mls against the sender's leaf in that epoch's tree).
 */
export async function unprotectApplication(
  state: ClientState,
  message: PrivateMessage,
  impl: CiphersuiteImpl,
): Promise<Unprotected> {
  const current = message.epoch === state.groupContext.epoch;
  const past = current ? undefined : state.historicalReceiverData.get(message.epoch);
  if (!current && !past)
    throw e2eeError('NATTER_E2EE_DECRYPT_FAILED', `no keys kept for epoch ${message.epoch} (too old)`);
  const keys = past ?? {
    senderDataSecret: state.keySchedule.senderDataSecret,
    secretTree: state.secretTree,
    ratchetTree: state.ratchetTree,
    groupContext: state.groupContext,
  };
  const result = await unprotectPrivateMessage(
    keys.senderDataSecret,
    message,
    keys.secretTree,
    keys.ratchetTree,
    keys.groupContext,
    state.clientConfig.keyRetentionConfig,
    impl,
  );
  const content = result.content.content;
  if (content.contentType !== 'application' || content.sender.senderType !== 'member')
    throw e2eeError('NATTER_E2EE_DECRYPT_FAILED', 'not an application message of a member');
  const newState: ClientState = past
    ? {
        ...state,
        historicalReceiverData: new Map(state.historicalReceiverData).set(message.epoch, {
          ...past,
          secretTree: result.tree,
        }),
      }
    : { ...state, secretTree: result.tree };
  return {
    plaintext: content.applicationData,
    sender: senderOf(keys.ratchetTree, content.sender.leafIndex),
    authenticatedData: content.authenticatedData,
    newState,
    consumed: result.consumed,
  };
}
