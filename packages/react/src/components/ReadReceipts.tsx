import type { ReactNode } from 'react';
import { useMemo } from 'react';
import { useConnectionState, useReadReceipts, useUsers } from '../hooks.js';
import { nameOf } from './format.js';

/** Props of {@link ReadReceipts}. */
export interface ReadReceiptsProps {
  channelId: string;
  /** The message whose receipts to show (usually the user's newest). */
  seq: number;
  /** `direct` shows Seen / Delivered / Sent; `group` names who read it. @default 'group' */
  kind?: 'direct' | 'group';
}

/**
 * Who has read or received a message, from every member's markers (never the user's own): "Seen" in a
 * direct channel, "Read by Bob and Carol" in a group, falling back to "Delivered" and "Sent".
 */
export function ReadReceipts({ channelId, seq, kind = 'group' }: ReadReceiptsProps): ReactNode {
  const receipts = useReadReceipts(channelId);
  const { userId: me } = useConnectionState();
  const others = useMemo(() => receipts.filter((r) => r.userId !== me), [receipts, me]);
  const readers = others.filter((r) => r.readSeq >= seq).map((r) => r.userId);
  const users = useUsers(readers);
  const delivered = others.some((r) => r.deliveredSeq >= seq);
  let text: string;
  if (kind === 'direct') text = readers.length > 0 ? 'Seen' : delivered ? 'Delivered' : 'Sent';
  else if (readers.length > 0) text = `Read by ${listNames(readers.map((id) => nameOf(id, users)))}`;
  else text = delivered ? 'Delivered' : 'Sent';
  return (
    <div className="natter-receipts" aria-live="polite">
      {text}
    </div>
  );
}

function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length > 3) return `${names.slice(0, 2).join(', ')} and ${names.length - 2} others`;
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
