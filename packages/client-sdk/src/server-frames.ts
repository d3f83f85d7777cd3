import type { ServerFrame, SyncEntry } from '@natter/protocol';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPos(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function isRid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** True when `value` has the shape of a sync entry the SDK can order and store. */
export function isSyncEntry(value: unknown): value is SyncEntry {
  if (!isRecord(value) || !isPos(value.pos) || !isRecord(value.message)) return false;
  const m = value.message;
  return (
    typeof m.id === 'string' &&
    typeof m.channelId === 'string' &&
    isPos(m.seq) &&
    typeof m.senderId === 'string'
  );
}

/** Frame types a newer server may send that this SDK version passes on without checks of its own. */
const PASS_THROUGH = new Set(['presence', 'presence.list', 'status.ok', 'typing', 'read.ok', 'receipt']);

/**
 * Checks the fields the SDK relies on in a decoded server frame. The server is trusted to send what the
 * protocol says, but a proxy or a version mismatch must not crash the client or corrupt its cursor:
 * a frame that fails is dropped and reported (`undefined`). Frames of a type this version does not know are
 * ignored (`null`): servers may add frame types.
 */
export function parseServerFrame(value: unknown): ServerFrame | null | undefined {
  if (!isRecord(value) || typeof value.t !== 'string') return undefined;
  if (PASS_THROUGH.has(value.t)) {
    return value.rid === undefined || isRid(value.rid) ? (value as unknown as ServerFrame) : undefined;
  }
  switch (value.t) {
    case 'hello':
      return typeof value.userId === 'string' &&
        typeof value.deviceId === 'string' &&
        typeof value.epoch === 'string' &&
        typeof value.head === 'number' &&
        isRecord(value.limits)
        ? (value as unknown as ServerFrame)
        : undefined;
    case 'msg':
      return isSyncEntry(value.entry) ? (value as unknown as ServerFrame) : undefined;
    case 'ack':
      return isRid(value.rid) && isSyncEntry(value.entry) ? (value as unknown as ServerFrame) : undefined;
    case 'sync.page':
      return isRid(value.rid) &&
        typeof value.epoch === 'string' &&
        Array.isArray(value.entries) &&
        value.entries.every(isSyncEntry) &&
        typeof value.head === 'number' &&
        typeof value.hasMore === 'boolean'
        ? (value as unknown as ServerFrame)
        : undefined;
    case 'history.page':
      return isRid(value.rid) && Array.isArray(value.messages)
        ? (value as unknown as ServerFrame)
        : undefined;
    case 'pong':
      return isRid(value.rid) ? (value as unknown as ServerFrame) : undefined;
    case 'error':
      // Unknown codes from a newer server still settle their request; callers treat them as terminal.
      return typeof value.code === 'string' && (value.rid === undefined || isRid(value.rid))
        ? (value as unknown as ServerFrame)
        : undefined;
    default:
      return null;
  }
}
