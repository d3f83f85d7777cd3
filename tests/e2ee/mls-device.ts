/**
 * A device for the Delivery Service tests: a real `@natter/e2ee` engine driven over the real HTTP API (no
 * SDK): it publishes itself, stocks KeyPackages, commits, sends ciphertext and reads the channel's log.
 */
import { createTsMlsEngine, type MlsEngine, type PendingCommit } from '@natter/e2ee';
import type { DeviceRef, Message } from '@natter/protocol';
import { api, type TestUser } from '../helpers/server.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Logs in again as `user`: a new session, hence a new device id. */
export async function loginDevice(url: string, user: TestUser): Promise<TestUser> {
  const res = await fetch(`${url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: 'correct horse battery' }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  const body = (await res.json()) as { accessToken: string; refreshToken: string; deviceId: string };
  return { ...user, ...body };
}

export class MlsDevice {
  /** Plaintexts this device decrypted, by channel. */
  readonly received = new Map<string, string[]>();
  /** Decryption failures, by channel. */
  readonly failures = new Map<string, string[]>();
  private readonly cursor = new Map<string, number>();
  /** Log entries of this device's own (already applied) commits and messages, skipped on catch-up. */
  private readonly own = new Set<string>();

  private constructor(
    readonly url: string,
    readonly session: TestUser,
    readonly engine: MlsEngine,
  ) {}

  /** A device that published itself and stocked `keyPackages` KeyPackages and a last-resort one. */
  static async create(url: string, session: TestUser, keyPackages = 3): Promise<MlsDevice> {
    const engine = await createTsMlsEngine({ device: { userId: session.id, deviceId: session.deviceId } });
    const device = new MlsDevice(url, session, engine);
    const published = await device.call('PUT', '/v1/devices/me', {
      signaturePublicKey: b64(engine.identity.signaturePublicKey),
    });
    if (published.status !== 200) throw new Error(`publish failed: ${JSON.stringify(published.body)}`);
    const uploaded = await device.call('POST', '/v1/devices/me/key-packages', {
      keyPackages: (await engine.generateKeyPackages(keyPackages)).map(b64),
      lastResort: b64(await engine.lastResortKeyPackage()),
    });
    if (uploaded.status !== 200) throw new Error(`upload failed: ${JSON.stringify(uploaded.body)}`);
    return device;
  }

  get ref(): DeviceRef {
    return { userId: this.session.id, deviceId: this.session.deviceId };
  }

  call<T = unknown>(method: string, path: string, body?: unknown) {
    return api<T>(this.url, this.session, method, path, body);
  }

  /** Claims KeyPackages of `devices` for `channelId`. */
  async claim(channelId: string, devices: readonly DeviceRef[]) {
    return this.call<{ keyPackages: Array<{ keyPackage: string; lastResort: boolean }> }>(
      'POST',
      '/v1/key-packages/claim',
      { channelId, devices },
    );
  }

  /** Uploads a pending commit; the server's answer as is. */
  submit(channelId: string, pending: PendingCommit, removed: readonly DeviceRef[] = [], added?: DeviceRef[]) {
    return this.call<{ message: Message; epoch: number; error?: { code: string } }>(
      'POST',
      `/v1/channels/${channelId}/commits`,
      {
        commit: b64(pending.commit),
        groupInfo: b64(pending.groupInfo),
        ...(pending.welcome ? { welcome: b64(pending.welcome) } : {}),
        added: added ?? pending.welcomeRecipients.map((d) => ({ userId: d.userId, deviceId: d.deviceId })),
        removed,
      },
    );
  }

  /** Claims, commits the addition of `devices`, and confirms it once accepted. */
  async add(channelId: string, devices: readonly DeviceRef[]): Promise<void> {
    const claimed = await this.claim(channelId, devices);
    if (claimed.status !== 200) throw new Error(`claim failed: ${JSON.stringify(claimed.body)}`);
    const pending = await this.engine.addDevices(
      channelId,
      claimed.body.keyPackages.map((k) => bytes(k.keyPackage)),
    );
    await this.settle(channelId, await this.submit(channelId, pending));
  }

  /** Confirms an accepted commit (moving the cursor past it), or throws with the refusal. */
  async settle(channelId: string, answer: { status: number; body: { message: Message } }): Promise<void> {
    if (answer.status !== 200) throw new Error(`commit refused: ${JSON.stringify(answer.body)}`);
    await this.engine.confirmCommit(channelId);
    this.own.add(`${channelId}#${answer.body.message.seq}`);
  }

  /** Sends `plaintext` encrypted, naming the uploads `mediaIds` as its attachments; the server's answer. */
  async send(
    channelId: string,
    plaintext: string,
    clientMsgId = `c${Math.random().toString(36).slice(2)}`,
    mediaIds: readonly string[] = [],
  ) {
    const ciphertext = await this.engine.encrypt(channelId, utf8.encode(plaintext));
    return this.sendCiphertext(channelId, ciphertext, clientMsgId, mediaIds);
  }

  /** Posts a ciphertext made earlier (possibly for a past epoch); the server's answer. */
  async sendCiphertext(
    channelId: string,
    ciphertext: Uint8Array,
    clientMsgId: string,
    mediaIds: readonly string[] = [],
  ) {
    const answer = await this.call<{ message: Message }>('POST', `/v1/channels/${channelId}/encrypted`, {
      clientMsgId,
      ciphertext: b64(ciphertext),
      ...(mediaIds.length > 0 ? { attachments: mediaIds.map((mediaId) => ({ mediaId })) } : {}),
    });
    if (answer.status === 200) this.own.add(`${channelId}#${answer.body.message.seq}`);
    return answer;
  }

  /** Joins every channel whose Welcome is queued for this device, acknowledging each. */
  async acceptWelcomes(): Promise<string[]> {
    const queue = await this.call<{
      welcomes: Array<{ id: string; channelId: string; seq: number; welcome: string }>;
    }>('GET', '/v1/devices/me/queue');
    const joined: string[] = [];
    for (const w of queue.body.welcomes) {
      joined.push(await this.engine.joinFromWelcome(bytes(w.welcome)));
      this.cursor.set(w.channelId, w.seq);
      await this.call('DELETE', `/v1/devices/me/queue/${w.id}`);
    }
    return joined;
  }

  /** Joins by external commit from the channel's stored GroupInfo. */
  async joinExternally(channelId: string): Promise<void> {
    const info = await this.call<{ groupInfo: string }>('GET', `/v1/channels/${channelId}/group-info`);
    if (info.status !== 200) throw new Error(`group-info: ${JSON.stringify(info.body)}`);
    const pending = await this.engine.joinByExternalCommit(bytes(info.body.groupInfo));
    const answer = await this.submit(channelId, pending, [], [this.ref]);
    await this.settle(channelId, answer);
    // Nothing before the join is readable by this device.
    this.cursor.set(channelId, answer.body.message.seq);
  }

  /** Reads the channel's log after the cursor: processes commits, decrypts messages of other devices. */
  async catchUp(channelId: string): Promise<void> {
    for (;;) {
      const after = this.cursor.get(channelId) ?? 0;
      const page = await this.call<{ messages: Message[] }>(
        'GET',
        `/v1/channels/${channelId}/messages?after=${after}&limit=100`,
      );
      if (page.status !== 200) throw new Error(`history: ${JSON.stringify(page.body)}`);
      for (const m of page.body.messages) {
        this.cursor.set(channelId, m.seq);
        if (this.own.has(`${channelId}#${m.seq}`)) continue;
        const s = m.system;
        if (s?.action === 'mls_commit') {
          await this.engine.processCommit(channelId, bytes(s.commit)).catch((err: { code?: string }) => {
            this.fail(channelId, err.code ?? String(err));
          });
        } else if (s?.action === 'mls_message') {
          try {
            const decrypted = await this.engine.decrypt(channelId, bytes(s.ciphertext));
            const list = this.received.get(channelId) ?? [];
            list.push(text.decode(decrypted.plaintext));
            this.received.set(channelId, list);
          } catch (err) {
            this.fail(channelId, (err as { code?: string }).code ?? String(err));
          }
        }
      }
      if (page.body.messages.length < 100) return;
    }
  }

  private fail(channelId: string, code: string): void {
    const list = this.failures.get(channelId) ?? [];
    list.push(code);
    this.failures.set(channelId, list);
  }
}
