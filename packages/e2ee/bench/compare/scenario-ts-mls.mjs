/**
 * The comparison scenario on ts-mls (pure TypeScript). Runs unchanged in Node and in a browser (bundled by
 * esbuild for Chromium): every figure is measured with `performance.now()` around the library calls, with
 * messages encoded to bytes and decoded again as they would travel through the server.
 *
 * Scenario, per group size N: a creator and one existing member form a group; the creator commits adding N
 * new devices (KeyPackages made by those devices beforehand); the existing member processes the commit; one
 * new device joins from the Welcome (the ratchet tree travels in the Welcome's extension). Then 50 messages
 * of 200 bytes are encrypted by the creator and decrypted by the existing member.
 */
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  nobleCryptoProvider,
  processPrivateMessage,
} from 'ts-mls';

const SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
const utf8 = new TextEncoder();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const decode = (bytes) => {
  const decoded = decodeMlsMessage(bytes, 0);
  if (!decoded) throw new Error('could not decode an MLS message');
  return decoded[0];
};

async function device(name, impl) {
  const credential = { credentialType: 'basic', identity: utf8.encode(name) };
  return generateKeyPackage(credential, defaultCapabilities(), defaultLifetime, [], impl);
}

/**
 * Runs the scenario. `provider` is 'webcrypto' (ts-mls' default: WebCrypto for hashes, AES-GCM, X25519 and
 * Ed25519 where the runtime has them) or 'noble' (pure JavaScript @noble/* everywhere).
 */
export async function runTsMls({ sizes = [2, 10, 100], messages = 50, provider = 'webcrypto' } = {}) {
  const suite = getCiphersuiteFromName(SUITE);
  const impl =
    provider === 'noble'
      ? await getCiphersuiteImpl(suite, nobleCryptoProvider)
      : await getCiphersuiteImpl(suite);
  const results = { library: 'ts-mls', provider, suite: SUITE, adds: [], keyPackageMs: 0 };

  const t0 = performance.now();
  const probe = [];
  for (let i = 0; i < 10; i++) probe.push(await device(`probe-${i}`, impl));
  results.keyPackageMs = (performance.now() - t0) / 10;
  results.keyPackageBytes = encodeMlsMessage({
    keyPackage: probe[0].publicPackage,
    wireformat: 'mls_key_package',
    version: 'mls10',
  }).length;

  let last;
  for (const n of sizes) {
    const creator = await device('creator', impl);
    const member = await device('member', impl);
    const groupId = utf8.encode(`group-${n}-${Math.random()}`);
    let creatorState = await createGroup(groupId, creator.publicPackage, creator.privatePackage, [], impl);
    const first = await createCommit(
      { state: creatorState, cipherSuite: impl },
      {
        extraProposals: [{ proposalType: 'add', add: { keyPackage: member.publicPackage } }],
        ratchetTreeExtension: true,
      },
    );
    creatorState = first.newState;
    let memberState = await joinGroup(
      first.welcome,
      member.publicPackage,
      member.privatePackage,
      emptyPskIndex,
      impl,
    );

    const joiners = [];
    for (let i = 0; i < n; i++) joiners.push(await device(`joiner-${i}`, impl));
    const keyPackageBytes = joiners.map((j) =>
      encodeMlsMessage({ keyPackage: j.publicPackage, wireformat: 'mls_key_package', version: 'mls10' }),
    );

    const c0 = performance.now();
    const proposals = keyPackageBytes.map((bytes) => ({
      proposalType: 'add',
      add: { keyPackage: decode(bytes).keyPackage },
    }));
    const commit = await createCommit(
      { state: creatorState, cipherSuite: impl },
      { extraProposals: proposals, ratchetTreeExtension: true },
    );
    const commitBytes = encodeMlsMessage(commit.commit);
    const welcomeBytes = encodeMlsMessage({
      welcome: commit.welcome,
      wireformat: 'mls_welcome',
      version: 'mls10',
    });
    const commitMs = performance.now() - c0;
    creatorState = commit.newState;

    const p0 = performance.now();
    const incoming = decode(commitBytes);
    const processed = await processPrivateMessage(memberState, incoming.privateMessage, emptyPskIndex, impl);
    const processMs = performance.now() - p0;
    memberState = processed.newState;

    const j0 = performance.now();
    const joinerState = await joinGroup(
      decode(welcomeBytes).welcome,
      joiners[0].publicPackage,
      joiners[0].privatePackage,
      emptyPskIndex,
      impl,
    );
    const joinMs = performance.now() - j0;
    if (joinerState.groupContext.epoch !== creatorState.groupContext.epoch)
      throw new Error('joiner in another epoch');

    results.adds.push({
      devices: n,
      commitMs,
      commitBytes: commitBytes.length,
      welcomeBytes: welcomeBytes.length,
      processCommitMs: processMs,
      joinFromWelcomeMs: joinMs,
      stateBytes: encodeGroupState(creatorState).length,
    });
    last = { creatorState, memberState };
  }

  const plaintext = utf8.encode('x'.repeat(200));
  const enc = [];
  const dec = [];
  let ciphertextBytes = 0;
  let { creatorState, memberState } = last;
  for (let i = 0; i < messages; i++) {
    const e0 = performance.now();
    const sent = await createApplicationMessage(creatorState, plaintext, impl);
    const bytes = encodeMlsMessage({
      privateMessage: sent.privateMessage,
      wireformat: 'mls_private_message',
      version: 'mls10',
    });
    enc.push(performance.now() - e0);
    creatorState = sent.newState;
    ciphertextBytes = bytes.length;
    const d0 = performance.now();
    const got = await processPrivateMessage(memberState, decode(bytes).privateMessage, emptyPskIndex, impl);
    dec.push(performance.now() - d0);
    if (got.kind !== 'applicationMessage' || got.message.length !== plaintext.length)
      throw new Error('wrong plaintext');
    memberState = got.newState;
  }
  results.message = {
    groupDevices: sizes.at(-1) + 2,
    plaintextBytes: plaintext.length,
    ciphertextBytes,
    encryptMs: median(enc),
    decryptMs: median(dec),
  };
  return results;
}
