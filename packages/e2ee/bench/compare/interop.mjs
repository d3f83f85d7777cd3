/**
 * Cross-implementation interoperability: a ts-mls device and a core-crypto (OpenMLS) device in one group,
 * both ways round (each library creates the group and adds the other from its KeyPackage bytes), then one
 * application message in each direction. Only bytes cross between the two libraries, as through a server.
 *   node interop.mjs
 */
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  processPrivateMessage,
} from 'ts-mls';
import { decodeKeyPackage, encodeKeyPackage } from 'ts-mls/keyPackage.js';
import { decodeWelcome } from 'ts-mls/welcome.js';
import { loadCoreCryptoInNode } from './core-crypto-node.mjs';

const utf8 = new TextEncoder();
const text = new TextDecoder();
const { cc, build } = await loadCoreCryptoInNode();
const suite = cc.CipherSuite.Mls128Dhkemx25519Aes128gcmSha256Ed25519;
const impl = await getCiphersuiteImpl(getCiphersuiteFromName('MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519'));
const decode = (bytes) => decodeMlsMessage(bytes, 0)[0];
// core-crypto (OpenMLS) serialises KeyPackages and Welcomes bare, without the MLSMessage wrapper (RFC 9420
// §6) that ts-mls' encodeMlsMessage adds; a DS storing them must say which form it holds.
const welcomeOf = (bytes) => decode(bytes)?.welcome ?? decodeWelcome(bytes, 0)[0];

async function ccDevice(n) {
  const client = cc.CoreCrypto.new(await cc.Database.inMemory());
  const clientId = new cc.ClientId(
    new cc.Uuid(crypto.randomUUID()),
    new cc.DeviceId(BigInt(n)),
    'natter.test',
  );
  const sent = [];
  const transport = {
    sendCommitBundle: async (b) => void sent.push(b),
    prepareForTransport: async () => new Uint8Array(0),
  };
  const credentialRef = await client.transaction(async (ctx) => {
    await ctx.mlsInit(clientId, transport);
    return ctx.addCredential(cc.Credential.basic(suite, clientId));
  });
  return { client, credentialRef, sent };
}
// core-crypto refuses credentials whose identity is not Wire's `<user-uuid>:<device-id>@<domain>`, even
// basic ones of other clients; so the ts-mls device takes an identity of that form.
const tsDevice = (n) =>
  generateKeyPackage(
    { credentialType: 'basic', identity: utf8.encode(`${crypto.randomUUID()}:${n}@natter.test`) },
    defaultCapabilities(),
    defaultLifetime,
    [],
    impl,
  );

const outcomes = [];
/** core-crypto's errors carry their cause in nested `inner` objects, not in the message. */
const detail = (err) => {
  try {
    return JSON.stringify(err?.inner ?? {}, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  } catch {
    return '';
  }
};
async function check(name, fn) {
  try {
    await fn();
    outcomes.push(`ok    ${name}`);
  } catch (err) {
    outcomes.push(`FAIL  ${name}: ${String(err?.message ?? err).split('\n')[0]} ${detail(err)}`);
  }
}

await check('core-crypto creates the group, adds a ts-mls device, messages both ways', async () => {
  const owner = await ccDevice(1);
  const guest = await tsDevice(10);
  const conversationId = new cc.ConversationId(utf8.encode('cc-group'));
  const kpBytes = encodeKeyPackage(guest.publicPackage);
  await owner.client.transaction(async (ctx) => {
    await ctx.createConversation(conversationId, owner.credentialRef);
    await ctx.addClientsToConversation(conversationId, [new cc.KeyPackage(kpBytes)]);
  });
  const welcome = welcomeOf(owner.sent.at(-1).welcome.serialize());
  let state = await joinGroup(welcome, guest.publicPackage, guest.privatePackage, emptyPskIndex, impl);
  const fromCc = await owner.client.transaction((ctx) =>
    ctx.encryptMessage(conversationId, utf8.encode('hello from OpenMLS')),
  );
  const got = await processPrivateMessage(state, decode(fromCc).privateMessage, emptyPskIndex, impl);
  if (got.kind !== 'applicationMessage' || text.decode(got.message) !== 'hello from OpenMLS')
    throw new Error('ts-mls read the wrong text');
  state = got.newState;
  const reply = await createApplicationMessage(state, utf8.encode('hello from ts-mls'), impl);
  const bytes = encodeMlsMessage({
    privateMessage: reply.privateMessage,
    wireformat: 'mls_private_message',
    version: 'mls10',
  });
  const back = await owner.client.transaction((ctx) => ctx.decryptMessage(conversationId, bytes));
  if (text.decode(back.inner.plaintext) !== 'hello from ts-mls')
    throw new Error('core-crypto read the wrong text');
});

await check('ts-mls creates the group, adds a core-crypto device, messages both ways', async () => {
  const owner = await tsDevice(11);
  const guest = await ccDevice(2);
  const kp = await guest.client.transaction((ctx) => ctx.generateKeyPackage(guest.credentialRef));
  const decodedKp = { keyPackage: decodeKeyPackage(kp.serialize(), 0)[0] };
  let state = await createGroup(utf8.encode('ts-group'), owner.publicPackage, owner.privatePackage, [], impl);
  const commit = await createCommit(
    { state, cipherSuite: impl },
    {
      extraProposals: [{ proposalType: 'add', add: { keyPackage: decodedKp.keyPackage } }],
      ratchetTreeExtension: true,
    },
  );
  state = commit.newState;
  const welcomeBytes = encodeMlsMessage({
    welcome: commit.welcome,
    wireformat: 'mls_welcome',
    version: 'mls10',
  });
  const conversationId = await guest.client.transaction((ctx) =>
    ctx.processWelcomeMessage(new cc.Welcome(welcomeBytes)),
  );
  const sent = await createApplicationMessage(state, utf8.encode('hello from ts-mls'), impl);
  state = sent.newState;
  const bytes = encodeMlsMessage({
    privateMessage: sent.privateMessage,
    wireformat: 'mls_private_message',
    version: 'mls10',
  });
  const got = await guest.client.transaction((ctx) => ctx.decryptMessage(conversationId, bytes));
  if (text.decode(got.inner.plaintext) !== 'hello from ts-mls')
    throw new Error('core-crypto read the wrong text');
  const reply = await guest.client.transaction((ctx) =>
    ctx.encryptMessage(conversationId, utf8.encode('hello from OpenMLS')),
  );
  const back = await processPrivateMessage(state, decode(reply).privateMessage, emptyPskIndex, impl);
  if (back.kind !== 'applicationMessage' || text.decode(back.message) !== 'hello from OpenMLS')
    throw new Error('ts-mls read the wrong text');
});

console.log(`core-crypto build: ${build}`);
console.log(outcomes.join('\n'));
if (outcomes.some((o) => o.startsWith('FAIL'))) process.exitCode = 1;
