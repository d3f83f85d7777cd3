/**
 * Slow mode as the composer shows it: the group's pace while it is on, and, when the server held one of
 * the user's messages (`NATTER_SLOW_MODE`), how long until the outbox sends it.
 */
import { ErrorCode } from '@natter/client';
import type { ReactNode } from 'react';
import { useEffect, useState } from 'react';
import { useChannels } from '../hooks.js';
import { useChatClient } from '../provider.js';

/** "10 s", "1 min", "1 min 30 s", "2 h". */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  const minutes = Math.round((s % 3600) / 60);
  return minutes === 0 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 3600)} h ${minutes} min`;
}

/** A message of the user's the server held for slow mode: its id and when the outbox sends it again. */
interface Held {
  clientMsgId: string;
  until: number;
}

/** What slow mode means for the user in one channel now. */
export interface SlowModeState {
  /** The channel's pace (one message per this many seconds per member); absent when off. */
  seconds: number | undefined;
  /** Milliseconds until a held message of the user's goes out; absent when none is held. */
  waitMs: number | undefined;
}

/**
 * The channel's slow mode and the wait of a message the server held (it answered `NATTER_SLOW_MODE` with
 * `retryAfterMs`: the outbox keeps the message and sends it when the turn comes). The wait counts down
 * every second and ends when the message is stored, discarded or fails. Admins are exempt on the server,
 * and channels do not list admins, so the kit shows a wait only once the server asked for one.
 */
export function useSlowMode(channelId: string): SlowModeState {
  const client = useChatClient();
  const { channels } = useChannels();
  const seconds = channels.find((c) => c.channel.id === channelId)?.channel.slowModeSeconds || undefined;
  const [held, setHeld] = useState<Held | undefined>(undefined);
  const [now, setNow] = useState(Date.now);
  useEffect(
    () =>
      client.on('outbox', ({ message, status, error }) => {
        if (message.channelId !== channelId) return;
        if (status === 'pending' && error?.code === ErrorCode.SLOW_MODE) {
          const waitMs = error.retryAfterMs ?? 1_000;
          setNow(Date.now());
          setHeld({ clientMsgId: message.clientMsgId, until: Date.now() + waitMs });
        } else if (status === 'sent' || status === 'failed' || status === 'discarded') {
          setHeld((h) => (h?.clientMsgId === message.clientMsgId ? undefined : h));
        }
      }),
    [client, channelId],
  );
  useEffect(() => {
    if (!held) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [held]);
  // The outbox sends a little after the turn (its backoff); until the ack arrives the message is "soon".
  const waitMs = held ? Math.max(0, held.until - now) : undefined;
  return { seconds, waitMs };
}

/**
 * The line above the composer in slow mode: "Slow mode: one message every 30 s", and while a message of
 * the user's is held, "Slow mode: your message will be sent in 12 s". Nothing when slow mode is off and
 * nothing is held. A polite live region, so the wait is announced once, not every second.
 */
export function SlowModeNotice({ channelId }: { channelId: string }): ReactNode {
  const { seconds, waitMs } = useSlowMode(channelId);
  if (seconds === undefined && waitMs === undefined) return null;
  const text =
    waitMs === undefined
      ? `Slow mode: one message every ${formatWait(seconds ?? 0)}`
      : waitMs > 0
        ? `Slow mode: your message will be sent in ${formatWait(waitMs / 1000)}`
        : 'Slow mode: sending your message…';
  return (
    <p className="natter-slow-mode" data-held={waitMs !== undefined || undefined}>
      <span role="status" className="natter-sr-only">
        {waitMs === undefined ? text : 'Slow mode: your message is held until your turn'}
      </span>
      <span aria-hidden="true">{text}</span>
    </p>
  );
}
