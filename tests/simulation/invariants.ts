import { isMessageEntry, type Message, type SyncEntry } from '@natter/protocol';
import type { Emitted } from './sim-device.js';
import type { SimWorld } from './sim-world.js';
import { checkViews } from './view-invariants.js';

/** Figures of one checked run. */
export interface CheckedFigures {
  /** Entry events (messages, edits, deletes, reactions) checked against the logs, over all devices. */
  eventsChecked: number;
  /** Sends checked against the store. */
  sendsChecked: number;
  /** Sends lost because their app was killed before the outbox write landed (allowed). */
  lostToKills: number;
}

/** Reads a whole channel from the disk, ascending by seq. */
async function channelMessages(world: SimWorld, channelId: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const page = await world.disk.chat.readHistory(channelId, {
      after: out.at(-1)?.seq ?? 0,
      limit: 500,
      minSeq: 1,
    });
    out.push(...page.messages);
    if (!page.hasMoreAfter || page.messages.length === 0) return out;
  }
}

async function syncLog(world: SimWorld, userId: string): Promise<SyncEntry[]> {
  const out: SyncEntry[] = [];
  for (;;) {
    const page = await world.disk.chat.readSync(userId, out.at(-1)?.pos ?? 0, 1_000);
    out.push(...page);
    if (page.length === 0) return out;
  }
}

/**
 * The invariants every run must end in, once the network is healed and everything has settled. Returns the
 * violations (empty when the run is correct) and what was checked.
 *
 * - Store: each user's log is gap-free (positions 1..head) and holds every message of the user's channels
 *   exactly once, in per-channel seq order.
 * - Devices: each device emitted exactly its user's log: every position once, in order, with the stored
 *   message at that position (so every message reaches every member device exactly once, per-channel order
 *   kept); its cursor never went back and ends at the head in the store's epoch; no resync happened.
 * - Sends: every `send()` is stored exactly once (outbox durability, idempotent retries), except one whose
 *   app was killed before its outbox write landed (never stored, then: nothing goes out unpersisted); an acked send is
 *   the stored one; one device's sends to one channel are stored in `send()` order; the outbox is empty on
 *   the device and in its store; nothing is stored that no device sent.
 */
export async function checkInvariants(world: SimWorld): Promise<{ violations: string[] } & CheckedFigures> {
  const violations: string[] = [];
  const fail = (message: string) => {
    if (violations.length < 30) violations.push(message);
  };
  const epoch = world.disk.chat.epoch();
  const stored = new Map<string, Message[]>();
  for (const channel of world.channels) stored.set(channel.id, await channelMessages(world, channel.id));

  // The store itself.
  const logs = new Map<string, SyncEntry[]>();
  for (const userId of world.userIds) {
    const log = await syncLog(world, userId);
    logs.set(userId, log);
    log.forEach((entry, i) => {
      if (entry.pos !== i + 1) fail(`store: ${userId}'s log has pos ${entry.pos} at index ${i}`);
    });
    for (const channel of world.channels) {
      const seqs = log
        .filter(isMessageEntry)
        .filter((e) => e.message.channelId === channel.id)
        .map((e) => e.message.seq);
      const expected = channel.memberIds.includes(userId)
        ? (stored.get(channel.id) ?? []).map((m) => m.seq)
        : [];
      if (seqs.join() !== expected.join()) {
        fail(`store: ${userId}'s log has seqs [${seqs}] of ${channel.id}, the channel has [${expected}]`);
      }
    }
  }

  // Every device against its user's log.
  let eventsChecked = 0;
  for (const device of world.devices) {
    const log = logs.get(device.userId)!;
    const got = device.emitted;
    eventsChecked += got.length;
    for (const v of device.runtimeViolations) fail(v);
    if (got.length !== log.length) {
      fail(`${device.key}: emitted ${got.length} entries, the log has ${log.length}`);
    }
    for (let i = 0; i < Math.max(got.length, log.length); i++) {
      const e = got[i];
      const want = log[i];
      if (!e || !want || !sameEntry(e, want)) {
        fail(
          `${device.key}: event #${i} is ${e ? `pos ${e.pos} ${e.kind} ${e.channelId}#${e.seq}` : 'missing'}, ` +
            `the log has ${want ? `pos ${want.pos} ${describe(want)}` : 'nothing'}`,
        );
        break;
      }
    }
    if (device.resyncs > 0) fail(`${device.key}: ${device.resyncs} resyncs (the epoch never changes)`);
    const client = device.client;
    if (!client) {
      fail(`${device.key}: not running at the end`);
      continue;
    }
    const cursor = client.cursor();
    if (cursor.pos !== log.length || cursor.epoch !== epoch) {
      fail(`${device.key}: cursor ${cursor.epoch}/${cursor.pos}, the log is ${epoch}/${log.length}`);
    }
    if (client.pending().length > 0) fail(`${device.key}: ${client.pending().length} messages still pending`);
    if (client.pendingChanges().length > 0)
      fail(`${device.key}: ${client.pendingChanges().length} changes still pending`);
    for (const code of device.changeFailures) {
      // A change may fail for good only because its message was deleted meanwhile, or never stored.
      if (code !== 'NATTER_MESSAGE_DELETED' && code !== 'NATTER_NOT_FOUND')
        fail(`${device.key}: a change failed with ${code}`);
    }
    const outbox = await device.disk.listOutbox();
    if (outbox.length > 0) fail(`${device.key}: ${outbox.length} items left in the stored outbox`);
  }

  // Every send against the store.
  const byKey = new Map<string, Message[]>();
  for (const messages of stored.values()) {
    for (const m of messages) {
      if (m.kind !== 'text') continue;
      const key = `${m.senderId}/${m.clientMsgId}`;
      byKey.set(key, [...(byKey.get(key) ?? []), m]);
    }
  }
  let sendsChecked = 0;
  let lostToKills = 0;
  const issued = new Set<string>();
  for (const device of world.devices) {
    const lastSeq = new Map<string, number>();
    for (const sent of device.sent) {
      sendsChecked++;
      const key = `${device.userId}/${sent.clientMsgId}`;
      issued.add(key);
      const copies = byKey.get(key) ?? [];
      if (device.killed.has(sent.instance) && !device.persisted.has(sent.clientMsgId)) {
        // The app was killed before `send()`'s outbox write landed: the one window the SDK cannot cover,
        // so the message may be lost; but it must never have gone out unpersisted.
        if (copies.length > 0) fail(`${device.key}: send "${sent.text}" was sent before it was persisted`);
        lostToKills++;
        continue;
      }
      // A delete of a send still in the outbox cancels it: then it is never stored.
      if (copies.length === 0 && sent.deleteRequested) continue;
      if (copies.length !== 1) {
        fail(`${device.key}: send "${sent.text}" is stored ${copies.length} times`);
        continue;
      }
      const message = copies[0]!;
      const texts = [sent.text, ...sent.edits];
      if (message.deletedAt !== undefined && !sent.deleteRequested) {
        fail(`${device.key}: send "${sent.text}" is deleted, and no app deleted it`);
      }
      if (
        message.channelId !== sent.channelId ||
        (message.deletedAt === undefined && !texts.includes(message.text))
      ) {
        fail(`${device.key}: send "${sent.text}" is stored as "${message.text}" in ${message.channelId}`);
      }
      // Each edit applied at most once (a retry answered with the original result), and every one the
      // server acknowledged applied.
      const version = message.version ?? 1;
      const acked = sent.editsMade.filter((m) => m.outcome === 'sent').length;
      if (message.deletedAt === undefined && (version > 1 + sent.edits.length || version < 1 + acked)) {
        fail(
          `${device.key}: "${sent.text}" is at version ${version} after ${sent.edits.length} edits (${acked} acked)`,
        );
      }
      if (sent.acked && sent.acked.id !== message.id) {
        fail(`${device.key}: send "${sent.text}" was acked as ${sent.acked.id}, stored as ${message.id}`);
      }
      const previous = lastSeq.get(sent.channelId) ?? 0;
      if (message.seq <= previous) {
        fail(
          `${device.key}: send "${sent.text}" stored at seq ${message.seq}, after a later send (${previous})`,
        );
      }
      lastSeq.set(sent.channelId, message.seq);
    }
  }
  for (const [key, copies] of byKey) {
    if (!issued.has(key)) fail(`store: ${copies.length} message(s) ${key} that no device sent`);
  }
  for (const violation of await checkViews(world)) fail(violation);
  return { violations, eventsChecked, sendsChecked, lostToKills };
}

/** Whether a device's event is the log's entry at that place. */
function sameEntry(e: Emitted, want: SyncEntry): boolean {
  if (e.pos !== want.pos || e.kind !== want.kind) return false;
  if (want.kind === 'reaction') return e.channelId === want.channelId && e.seq === want.seq;
  return e.messageId === want.message.id;
}

function describe(entry: SyncEntry): string {
  return entry.kind === 'reaction'
    ? `reaction ${entry.channelId}#${entry.seq}`
    : `${entry.kind} ${entry.message.channelId}#${entry.message.seq}`;
}
