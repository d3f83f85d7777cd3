/** The banner over the app: offline, reconnecting (with the countdown), or the session ended. */
import { useConnectionState } from '@natter/react';
import type { ReactNode } from 'react';
import { useEffect, useRef, useState } from 'react';
import { plural, useNetworkOnline, useNow, usePendingCount } from './hooks.js';

export interface ConnectionBannerProps {
  /** Why the session ended, if it did. */
  ended: string | undefined;
  onSignInAgain(): void;
}

/** The connection banner; nothing while connected (and during the very first connect). */
export function ConnectionBanner({ ended, onSignInAgain }: ConnectionBannerProps): ReactNode {
  const connection = useConnectionState();
  const online = useNetworkOnline();
  const waiting = usePendingCount();
  const now = useNow();
  const [everOpen, setEverOpen] = useState(connection.status === 'open');
  const retryAt = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (connection.status === 'open') setEverOpen(true);
    retryAt.current =
      connection.status === 'reconnecting' && connection.delayMs !== undefined
        ? Date.now() + connection.delayMs
        : undefined;
  }, [connection]);

  const queued =
    waiting > 0
      ? ` ${plural(waiting, 'message')} will be sent when you are back.`
      : ' Messages you send now are kept and sent when you are back.';
  let kind: 'ended' | 'offline' | 'reconnecting' | undefined;
  let text = '';
  if (ended) {
    kind = 'ended';
    text = ended;
  } else if (!online) {
    kind = 'offline';
    text = `You are offline.${queued}`;
  } else if (connection.status !== 'open' && everOpen) {
    kind = 'reconnecting';
    const at = retryAt.current;
    const next = at && at > now ? ` Next try in ${Math.ceil((at - now) / 1000)} s.` : '';
    text = `Connection lost. Reconnecting…${next}${waiting > 0 ? queued : ''}`;
  }
  return (
    <div className={`banner ${kind ?? ''}`} id="connection-banner" role="status" hidden={!kind}>
      <span className="banner-text">{text}</span>
      {kind === 'ended' ? (
        <button type="button" className="small" onClick={onSignInAgain}>
          Sign in again
        </button>
      ) : null}
    </div>
  );
}
