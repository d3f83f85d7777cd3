import { ErrorCode, isWellFormedText, type ServerFrame } from '@natter/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

let ts: TestServer;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ts?.stop();
});

async function connect(user: TestUser, codec: 'json' | 'msgpack', device: string): Promise<RawClient> {
  const c = await RawClient.connect(ts.url, user.accessToken, { codec, device });
  clients.push(c);
  return c;
}

/** UTF-8 bytes and UTF-16 code units of a text: both must match for two texts to be the same text. */
const bytesOf = (text: string) => ({
  utf8: Buffer.from(text, 'utf8').toString('hex'),
  units: [...text].length,
});

const TEXTS = [
  'plain',
  'emoji 👩‍👩‍👧 and a flag 🇸🇪',
  'combining e\u0301 vs \u00e9',
  'replacement \ufffd char',
  'rtl \u202e override and zero\u200bwidth',
  'astral 𝄞 pair',
];

async function texts(
  ts: TestServer,
  sender: TestUser,
  channelId: string,
): Promise<{ history: (n: number) => Promise<string[]> }> {
  return {
    history: async (n) => {
      const page = await api<{ messages: { text: string; kind: string }[] }>(
        ts.url,
        sender,
        'GET',
        `/v1/channels/${channelId}/messages?limit=${n}`,
      );
      return page.body.messages.filter((m) => m.kind === 'text').map((m) => m.text);
    },
  };
}

describe('text normalisation', () => {
  it('gives one text per message: ack, live JSON, live MessagePack and history are byte-identical', async () => {
    ts = await startServer();
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const dm = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/channels/direct', {
      userId: bob.id,
    });
    const channelId = dm.body.channel.id;
    const sender = await connect(alice, 'msgpack', 'dev_send');
    const jsonReader = await connect(bob, 'json', 'dev_json');
    const packReader = await connect(bob, 'msgpack', 'dev_pack');
    const acks: string[] = [];
    for (const [i, text] of TEXTS.entries()) {
      const ack = await sender.request({ t: 'send', channelId, clientMsgId: `n${i}`, text });
      if (ack.t !== 'ack') throw new Error(`expected ack, got ${JSON.stringify(ack)}`);
      acks.push(ack.entry.message.text);
    }
    const live = async (c: RawClient) => {
      const deadline = Date.now() + 10_000;
      const textsOf = () => c.entries().filter((e) => e.message.kind === 'text');
      while (textsOf().length < TEXTS.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      return textsOf().map((e) => e.message.text);
    };
    const liveJson = await live(jsonReader);
    const livePack = await live(packReader);
    const history = await (await texts(ts, alice, channelId)).history(50);
    expect(acks.map(bytesOf)).toEqual(TEXTS.map(bytesOf));
    expect(liveJson.map(bytesOf)).toEqual(acks.map(bytesOf));
    expect(livePack.map(bytesOf)).toEqual(acks.map(bytesOf));
    expect(history.map(bytesOf)).toEqual(acks.map(bytesOf));
  });

  it('refuses a lone surrogate with NATTER_BAD_REQUEST on every path, storing nothing', async () => {
    ts = await startServer();
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const dm = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/channels/direct', {
      userId: bob.id,
    });
    const channelId = dm.body.channel.id;
    const lone = ['high \ud800 alone', 'low \udc00 alone', 'reversed \udc00\ud800 pair', 'end \ud83d'];
    // JSON carries the escape as is.
    const json = await connect(alice, 'json', 'dev_json');
    for (const [i, text] of lone.entries()) {
      const answer = await json.request({ t: 'send', channelId, clientMsgId: `j${i}`, text });
      expect(answer).toMatchObject({ t: 'error', code: ErrorCode.BAD_REQUEST });
    }
    // MessagePack: raw CESU-8 bytes for U+D800 (ED A0 80), which a lenient decoder turns into a lone surrogate.
    const pack = await connect(alice, 'msgpack', 'dev_pack');
    const frame = (rid: number) =>
      Buffer.concat([
        Buffer.from([0x86]),
        str('t'),
        str('send'),
        str('rid'),
        Buffer.from([rid]),
        str('channelId'),
        str(channelId),
        str('clientMsgId'),
        str(`p${rid}`),
        str('text'),
        Buffer.from([0xa5, 0x61, 0xed, 0xa0, 0x80, 0x62]),
        str('mentions'),
        Buffer.from([0x90]),
      ]);
    const answer = new Promise<ServerFrame>((resolve) => {
      pack.waitFor((f) => 'rid' in f && f.rid === 77).then(resolve, () => undefined);
    });
    pack.sendRaw(frame(77));
    const got = await Promise.race([answer, pack.closed.then(() => undefined)]);
    // Either refused, or (a decoder that replaces) stored as U+FFFD: never a lone surrogate anywhere.
    if (got?.t === 'ack') expect(isWellFormedText(got.entry.message.text)).toBe(true);
    else if (got) expect(got).toMatchObject({ t: 'error', code: ErrorCode.BAD_REQUEST });
    // Names and HTTP bodies: the same rule.
    const rename = await api<{ error: { code: string } }>(ts.url, alice, 'PATCH', '/v1/me', {
      displayName: 'Ann \ud800',
    });
    expect(rename.status).toBe(400);
    expect(rename.body.error.code).toBe(ErrorCode.BAD_REQUEST);
    const group = await api<{ error: { code: string } }>(ts.url, alice, 'POST', '/v1/groups', {
      name: 'g \udfff',
      memberIds: [bob.id],
    });
    expect(group.status).toBe(400);
    const history = await api<{ messages: { text: string }[] }>(
      ts.url,
      alice,
      'GET',
      `/v1/channels/${channelId}/messages`,
    );
    expect(history.body.messages.every((m) => isWellFormedText(m.text))).toBe(true);
    expect(history.body.messages.filter((m) => m.text.includes('alone'))).toHaveLength(0);
  });
});

/** A MessagePack fixstr (texts under 32 bytes). */
function str(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length >= 32) {
    return Buffer.concat([Buffer.from([0xd9, bytes.length]), bytes]);
  }
  return Buffer.concat([Buffer.from([0xa0 | bytes.length]), bytes]);
}
