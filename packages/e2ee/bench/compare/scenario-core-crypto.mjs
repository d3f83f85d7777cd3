/**
 * The comparison scenario on @wireapp/core-crypto (OpenMLS in Rust: a native library through N-API in Node,
 * WebAssembly in the browser). The same scenario as scenario-ts-mls.mjs; `cc` is the imported module
 * (`@wireapp/core-crypto/native` in Node, `@wireapp/core-crypto/browser` in Chromium), so this file runs in
 * both. core-crypto has no "return the commit" API: commits leave through an `MlsTransport` callback, which
 * here keeps the last bundle (as a Delivery Service that accepts everything would).
 */

const utf8 = new TextEncoder();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

let deviceCounter = 1n;

/** One core-crypto client (device) with an in-memory keystore, or a keystore at `location` when given. */
async function device(cc, suite, location) {
  const database = location
    ? await cc.Database.open(location, new cc.DatabaseKey(crypto.getRandomValues(new Uint8Array(32))))
    : await cc.Database.inMemory();
  const client = cc.CoreCrypto.new(database);
  const clientId = new cc.ClientId(
    new cc.Uuid(crypto.randomUUID()),
    new cc.DeviceId(deviceCounter++),
    'natter.test',
  );
  const sent = [];
  const transport = {
    async sendCommitBundle(bundle) {
      sent.push(bundle);
    },
    async prepareForTransport() {
      return new Uint8Array(0);
    },
  };
  const credentialRef = await client.transaction(async (ctx) => {
    await ctx.mlsInit(clientId, transport);
    return ctx.addCredential(cc.Credential.basic(suite, clientId));
  });
  return { client, clientId, credentialRef, sent, database };
}

const keyPackageOf = (d) => d.client.transaction((ctx) => ctx.generateKeyPackage(d.credentialRef));

/**
 * Runs the scenario. `stateLocation(n)` (Node only) returns a file path for the creator's keystore so its
 * size on disk can be measured; `stateSize(path)` measures it.
 */
export async function runCoreCrypto(
  cc,
  { sizes = [2, 10, 100], messages = 50, stateLocation, stateSize } = {},
) {
  const suite = cc.CipherSuite.Mls128Dhkemx25519Aes128gcmSha256Ed25519;
  const results = {
    library: '@wireapp/core-crypto',
    version: cc.version(),
    suite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
    adds: [],
  };

  const probe = await device(cc, suite);
  const t0 = performance.now();
  let kp;
  for (let i = 0; i < 10; i++) kp = await keyPackageOf(probe);
  results.keyPackageMs = (performance.now() - t0) / 10;
  results.keyPackageBytes = kp.serialize().length;

  let last;
  for (const n of sizes) {
    const location = stateLocation?.(n);
    const creator = await device(cc, suite, location);
    const member = await device(cc, suite);
    const conversationId = new cc.ConversationId(utf8.encode(`group-${n}-${Math.random()}`));
    await creator.client.transaction(async (ctx) => {
      await ctx.createConversation(conversationId, creator.credentialRef);
      await ctx.addClientsToConversation(conversationId, [await keyPackageOf(member)]);
    });
    const firstWelcome = creator.sent.at(-1).welcome;
    await member.client.transaction((ctx) =>
      ctx.processWelcomeMessage(new cc.Welcome(firstWelcome.serialize())),
    );

    const joiners = [];
    for (let i = 0; i < n; i++) joiners.push(await device(cc, suite));
    const keyPackageBytes = [];
    for (const j of joiners) keyPackageBytes.push((await keyPackageOf(j)).serialize());

    const c0 = performance.now();
    await creator.client.transaction((ctx) =>
      ctx.addClientsToConversation(
        conversationId,
        keyPackageBytes.map((b) => new cc.KeyPackage(b)),
      ),
    );
    const bundle = creator.sent.at(-1);
    const commitBytes = bundle.commit;
    const welcomeBytes = bundle.welcome.serialize();
    const commitMs = performance.now() - c0;

    const p0 = performance.now();
    await member.client.transaction((ctx) => ctx.decryptMessage(conversationId, commitBytes));
    const processMs = performance.now() - p0;

    const j0 = performance.now();
    await joiners[0].client.transaction((ctx) => ctx.processWelcomeMessage(new cc.Welcome(welcomeBytes)));
    const joinMs = performance.now() - j0;
    const epochs = await Promise.all(
      [creator, joiners[0]].map((d) => d.client.transaction((ctx) => ctx.conversationEpoch(conversationId))),
    );
    if (epochs[0] !== epochs[1]) throw new Error('joiner in another epoch');

    results.adds.push({
      devices: n,
      commitMs,
      commitBytes: commitBytes.length,
      welcomeBytes: welcomeBytes.length,
      processCommitMs: processMs,
      joinFromWelcomeMs: joinMs,
      stateBytes: location && stateSize ? await stateSize(location) : undefined,
    });
    last = { creator, member, conversationId };
  }

  const plaintext = utf8.encode('x'.repeat(200));
  const enc = [];
  const dec = [];
  let ciphertextBytes = 0;
  const { creator, member, conversationId } = last;
  for (let i = 0; i < messages; i++) {
    const e0 = performance.now();
    const bytes = await creator.client.transaction((ctx) => ctx.encryptMessage(conversationId, plaintext));
    enc.push(performance.now() - e0);
    ciphertextBytes = bytes.length;
    const d0 = performance.now();
    const got = await member.client.transaction((ctx) => ctx.decryptMessage(conversationId, bytes));
    dec.push(performance.now() - d0);
    if (got.inner.plaintext?.length !== plaintext.length) throw new Error('wrong plaintext');
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
