import type { MessageEntry } from '@natter/protocol';
import type { Device } from './device.js';

/** What one device ended with, compared with the log and with what was sent. */
export interface DeviceOutcome {
  device: string;
  applied: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Entries the device applied that the full log does not have at that position. */
  divergent: number;
  gapsDetected: number;
  reconnects: number;
}

/**
 * Checks one device: its applied entries are positions 1..n without holes, equal the full sync log entry
 * for entry, hold every expected message exactly once (expected = message ids its user should have),
 * no message twice (by id, or by sender + clientMsgId), and per channel strictly rising `seq`.
 */
export function outcomeOf(
  device: Device,
  log: readonly MessageEntry[],
  expectedIds: ReadonlySet<string>,
): DeviceOutcome {
  const applied = device.applied;
  let divergent = 0;
  for (let i = 0; i < Math.max(applied.length, log.length); i++) {
    const a = applied[i];
    const b = log[i];
    if (!a || !b || a.pos !== i + 1 || a.pos !== b.pos || a.message.id !== b.message.id) divergent++;
  }
  const seenIds = new Map<string, number>();
  const seenKeys = new Map<string, number>();
  for (const e of applied) {
    seenIds.set(e.message.id, (seenIds.get(e.message.id) ?? 0) + 1);
    if (e.message.clientMsgId) {
      const key = `${e.message.senderId}/${e.message.clientMsgId}`;
      seenKeys.set(key, (seenKeys.get(key) ?? 0) + 1);
    }
  }
  let duplicated = 0;
  for (const n of seenIds.values()) duplicated += n - 1;
  for (const n of seenKeys.values()) duplicated += n - 1;
  let lost = 0;
  for (const id of expectedIds) if (!seenIds.has(id)) lost++;
  let outOfOrder = 0;
  const lastSeq = new Map<string, number>();
  for (const e of applied) {
    const prev = lastSeq.get(e.message.channelId) ?? 0;
    if (e.message.seq <= prev) outOfOrder++;
    lastSeq.set(e.message.channelId, e.message.seq);
  }
  return {
    device: device.label,
    applied: applied.length,
    lost,
    duplicated,
    outOfOrder,
    divergent,
    gapsDetected: device.gapsDetected,
    reconnects: device.reconnects,
  };
}

/** The zero outcome the tests expect, for `toEqual` with a readable diff. */
export const perfect = (o: DeviceOutcome) => ({ ...o, lost: 0, duplicated: 0, outOfOrder: 0, divergent: 0 });
