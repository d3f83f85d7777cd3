/**
 * One device of the encrypted-group simulation: a real `@natter/e2ee` engine driven over the real HTTP API of
 * an in-process server, following the SDK's commit rules (docs/e2ee.md): a change is a pending commit until
 * the server orders it; a refused one is discarded and the winner read from the log; a crash restores the
 * last saved engine state (its pending commit included) and learns the commit's fate by resending it; a fork
 * (a typed error on a commit or message of a group the device is in) is repaired by an external rejoin.
 */
import { createTsMlsEngine, isE2eeError, type MlsEngine, type PendingCommit } from '@natter/e2ee';
import type { DeviceRef, Message } from '@natter/protocol';
import { api, type TestUser } from '../helpers/server.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Faults a device can be built with, to prove the checker catches them (planted bugs). */
export interface DeviceFaults {
  /** Applies its own commit as soon as it makes it, before (and whatever) the server answers. */
  applyBeforeAccept?: boolean;
}

/** What a device saved after its last completed action (what survives a crash). */
interface Saved {
  state: Uint8Array;
  cursor: number;
  own: Set<number>;
  received: Array<{ seq: number; text: string }>;
  inflight: InFlight | undefined;
}

/** A commit made and not yet known to be accepted or refused, with what the server must be told of it. */
interface InFlight {
  pending: PendingCommit;
  removed: readonly DeviceRef[];
  added: readonly DeviceRef[];
}

/** What one device counted, summed over a run. */
export interface DeviceCounts {
  accepted: number;
  staleRefused: number;
  pendingDiscarded: number;
  retriedAfterCrash: number;
  forksDetected: number;
  rejoins: number;
  otherRefusals: number;
}

export class SimE2eeDevice {
  /** Application messages this device decrypted, with their log position, in the order it read them. */
  received: Array<{ seq: number; text: string }> = [];
  /** Log positions of this device's own accepted commits and messages (applied already; never decrypted). */
  own = new Set<number>();
  /** The last log position this device read. */
  cursor = 0;
  /** The commit this device made and has not learnt the fate of. */
  inflight: InFlight | undefined;
  readonly counts: DeviceCounts = {
    accepted: 0,
    staleRefused: 0,
    pendingDiscarded: 0,
    retriedAfterCrash: 0,
    forksDetected: 0,
    rejoins: 0,
    otherRefusals: 0,
  };
  private saved: Saved | undefined;
  private needsRepair = false;

  private constructor(
    readonly url: string,
    readonly session: TestUser,
    readonly channelId: string,
    public engine: MlsEngine,
    private readonly faults: DeviceFaults,
  ) {}

  /** A device that published itself and stocked a few KeyPackages and a last-resort one. */
  static async create(url: string, session: TestUser, channelId: string, faults: DeviceFaults = {}) {
    const engine = await createTsMlsEngine({ device: { userId: session.id, deviceId: session.deviceId } });
    const device = new SimE2eeDevice(url, session, channelId, engine, faults);
    await device.expectOk('PUT', '/v1/devices/me', {
      signaturePublicKey: b64(engine.identity.signaturePublicKey),
    });
    await device.expectOk('POST', '/v1/devices/me/key-packages', {
      keyPackages: (await engine.generateKeyPackages(4)).map(b64),
      lastResort: b64(await engine.lastResortKeyPackage()),
    });
    await device.save();
    return device;
  }

  get ref(): DeviceRef {
    return { userId: this.session.id, deviceId: this.session.deviceId };
  }

  get key(): string {
    return `${this.session.id}/${this.session.deviceId}`;
  }

  get inGroup(): boolean {
    return this.engine.groups().includes(this.channelId);
  }

  /** Founds the group: creates it and adds `devices` in the first commit. */
  async found(devices: readonly DeviceRef[]): Promise<void> {
    await this.engine.createGroup(this.channelId);
    await this.proposeAdd(devices);
    if (!(await this.submit())) throw new Error('the founding commit was refused');
  }

  /** Makes a pending commit adding `devices` (not sent yet: other devices may commit meanwhile). */
  async proposeAdd(devices: readonly DeviceRef[]): Promise<void> {
    const claimed = await this.call<{ keyPackages?: Array<{ keyPackage: string }> }>(
      'POST',
      '/v1/key-packages/claim',
      { channelId: this.channelId, devices },
    );
    if (claimed.status !== 200 || !claimed.body.keyPackages) {
      this.counts.otherRefusals++;
      return;
    }
    await this.propose([], undefined, () =>
      this.engine.addDevices(
        this.channelId,
        claimed.body.keyPackages!.map((k) => bytes(k.keyPackage)),
      ),
    );
  }

  async proposeRemove(devices: readonly DeviceRef[]): Promise<void> {
    await this.propose(devices, undefined, () => this.engine.removeDevices(this.channelId, devices));
  }

  async proposeUpdate(): Promise<void> {
    await this.propose([], undefined, () => this.engine.update(this.channelId));
  }

  /** Joins by external commit from the stored GroupInfo (a member's device outside the group). */
  async proposeExternalJoin(): Promise<void> {
    // As the SDK does on start: a Welcome waiting in the queue comes first (it reads from the epoch it was
    // added in; an external join reads only from its own commit on).
    if ((await this.queued()).some((w) => w.channelId === this.channelId)) {
      await this.read(Number.POSITIVE_INFINITY);
      return;
    }
    const info = await this.call<{ groupInfo?: string }>('GET', `/v1/channels/${this.channelId}/group-info`);
    if (info.status !== 200 || !info.body.groupInfo) return;
    await this.propose([], [this.ref], () => this.engine.joinByExternalCommit(bytes(info.body.groupInfo!)));
  }

  /**
   * Sends the in-flight commit (or the engine's pending one after a crash). Accepted: applied. Refused as
   * stale (another commit won the epoch, or the winner is already known): discarded, the log read.
   * `loseAnswer` models a crash right after the server accepted: nothing is applied. True when accepted.
   */
  async submit(loseAnswer = false): Promise<boolean> {
    const inflight = this.inflight;
    if (!inflight) return false;
    const { pending } = inflight;
    const answer = await this.call<{ message?: Message; error?: { code: string } }>(
      'POST',
      `/v1/channels/${this.channelId}/commits`,
      {
        commit: b64(pending.commit),
        groupInfo: b64(pending.groupInfo),
        ...(pending.welcome ? { welcome: b64(pending.welcome) } : {}),
        added: inflight.added,
        removed: inflight.removed,
      },
    );
    if (loseAnswer) return false;
    this.inflight = undefined;
    if (answer.status === 200 && answer.body.message) {
      if (!this.faults.applyBeforeAccept) await this.engine.confirmCommit(this.channelId);
      this.counts.accepted++;
      this.own.add(answer.body.message.seq);
      // An external join (or rejoin) reads nothing before its own commit: it could not decrypt it.
      if (inflight.added.length > 0 && !pending.welcome)
        this.cursor = Math.max(this.cursor, answer.body.message.seq);
      await this.save();
      return true;
    }
    if (answer.body.error?.code === 'NATTER_E2EE_STALE_EPOCH') this.counts.staleRefused++;
    else this.counts.otherRefusals++;
    if (!this.faults.applyBeforeAccept && this.engine.pendingCommit(this.channelId))
      await this.engine.discardCommit(this.channelId);
    await this.save();
    return false;
  }

  /** Encrypts and sends a text; a stale epoch is read up to and tried once more. The accepted seq, if any. */
  async send(clientMsgId: string, message: string): Promise<number | undefined> {
    if (!this.inGroup) return undefined;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const ciphertext = await this.engine.encrypt(this.channelId, utf8.encode(message));
      const answer = await this.call<{ message?: Message; error?: { code: string } }>(
        'POST',
        `/v1/channels/${this.channelId}/encrypted`,
        { clientMsgId, ciphertext: b64(ciphertext) },
      );
      if (answer.status === 200 && answer.body.message) {
        this.own.add(answer.body.message.seq);
        await this.save();
        return answer.body.message.seq;
      }
      if (answer.body.error?.code !== 'NATTER_E2EE_STALE_EPOCH') break;
      await this.read(Number.POSITIVE_INFINITY);
      if (!this.inGroup) break;
    }
    await this.save();
    return undefined;
  }

  /**
   * Reads up to `limit` log entries after the cursor, in log order: joins from a queued Welcome when a commit
   * adds this device, processes other devices' commits, decrypts other devices' messages. A typed error of a
   * group this device is in is a detected fork, repaired by an external rejoin once the page is read.
   */
  async read(limit: number): Promise<void> {
    let left = limit;
    while (left > 0) {
      const size = Math.min(100, left);
      const page = await this.call<{ messages: Message[] }>(
        'GET',
        `/v1/channels/${this.channelId}/messages?after=${this.cursor}&limit=${size}`,
      );
      if (page.status !== 200) throw new Error(`history: ${JSON.stringify(page.body)}`);
      for (const m of page.body.messages) {
        this.cursor = m.seq;
        await this.readEntry(m);
      }
      left -= page.body.messages.length;
      if (page.body.messages.length < size) break;
    }
    if (this.needsRepair) await this.rejoin();
    await this.save();
  }

  /** Crashes: everything since the last save is lost; the engine is restored from its exported state. */
  async crash(): Promise<void> {
    const saved = this.saved!;
    this.engine = await createTsMlsEngine({ state: saved.state, device: this.ref });
    this.cursor = saved.cursor;
    this.own = new Set(saved.own);
    this.received = [...saved.received];
    this.inflight = saved.inflight;
    if (this.engine.pendingCommit(this.channelId)) this.counts.retriedAfterCrash++;
  }

  private async propose(
    removed: readonly DeviceRef[],
    added: readonly DeviceRef[] | undefined,
    make: () => Promise<PendingCommit>,
  ): Promise<void> {
    if (this.inflight || this.engine.pendingCommit(this.channelId)) return;
    try {
      const pending = await make();
      this.inflight = { pending, removed, added: added ?? pending.welcomeRecipients.map((d) => ({ ...d })) };
      if (this.faults.applyBeforeAccept) await this.engine.confirmCommit(this.channelId);
    } catch (err) {
      if (!isE2eeError(err)) throw err;
      this.counts.otherRefusals++;
    }
    await this.save();
  }

  private async readEntry(m: Message): Promise<void> {
    const s = m.system;
    if (!s || this.own.has(m.seq)) return;
    if (s.action === 'mls_commit') {
      if (!this.inGroup) {
        if (s.added.some((d) => d.userId === this.session.id && d.deviceId === this.session.deviceId))
          await this.joinFromQueue(m.seq);
        return;
      }
      try {
        const processed = await this.engine.processCommit(this.channelId, bytes(s.commit));
        if (processed.pendingDiscarded) {
          this.counts.pendingDiscarded++;
          this.inflight = undefined;
        }
        if (processed.ownCommit) this.inflight = undefined;
      } catch (err) {
        if (!isE2eeError(err)) throw err;
        this.detectFork();
      }
      return;
    }
    if (s.action !== 'mls_message' || !this.inGroup) return;
    try {
      const decrypted = await this.engine.decrypt(this.channelId, bytes(s.ciphertext));
      this.received.push({ seq: m.seq, text: text.decode(decrypted.plaintext) });
    } catch (err) {
      if (!isE2eeError(err)) throw err;
      this.detectFork();
    }
  }

  private detectFork(): void {
    this.counts.forksDetected++;
    this.needsRepair = true;
  }

  /** Repairs a fork: resync by external commit from the stored GroupInfo (retried when it loses a race). */
  private async rejoin(): Promise<void> {
    this.needsRepair = false;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (this.engine.pendingCommit(this.channelId)) await this.engine.discardCommit(this.channelId);
      this.inflight = undefined;
      const info = await this.call<{ groupInfo?: string }>(
        'GET',
        `/v1/channels/${this.channelId}/group-info`,
      );
      if (info.status !== 200 || !info.body.groupInfo) return;
      const pending = await this.engine.joinByExternalCommit(bytes(info.body.groupInfo));
      // A resync replaces this device's old leaf: the server sees it removed and added in one commit.
      this.inflight = { pending, removed: [this.ref], added: [this.ref] };
      if (await this.submit()) {
        // Whatever came before the rejoin is lost to this device (the invariants count it).
        this.counts.rejoins++;
        return;
      }
    }
  }

  /** Joins from the Welcome of the commit at `seq`; drops it and older ones (a later re-add's stays). */
  private async joinFromQueue(seq: number): Promise<void> {
    for (const w of await this.queued()) {
      if (w.channelId !== this.channelId || w.seq > seq) continue;
      if (w.seq === seq && !this.inGroup) await this.engine.joinFromWelcome(bytes(w.welcome));
      await this.call('DELETE', `/v1/devices/me/queue/${w.id}`);
    }
  }

  private async queued() {
    const queue = await this.call<{
      welcomes: Array<{ id: string; channelId: string; seq: number; welcome: string }>;
    }>('GET', '/v1/devices/me/queue');
    return queue.body.welcomes;
  }

  private async save(): Promise<void> {
    this.saved = {
      state: await this.engine.exportState(),
      cursor: this.cursor,
      own: new Set(this.own),
      received: [...this.received],
      inflight: this.inflight,
    };
  }

  private call<T = unknown>(method: string, path: string, body?: unknown) {
    return api<T>(this.url, this.session, method, path, body);
  }

  private async expectOk(method: string, path: string, body?: unknown): Promise<void> {
    const answer = await this.call(method, path, body);
    if (answer.status !== 200) throw new Error(`${method} ${path}: ${JSON.stringify(answer.body)}`);
  }
}
