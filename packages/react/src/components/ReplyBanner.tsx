import type { ReactNode } from 'react';
import { useConnectionState, useUser } from '../hooks.js';
import { useChatStores } from '../provider.js';

/** Props of {@link ReplyBanner}. */
export interface ReplyBannerProps {
  channelId: string;
  /** The message being answered. */
  seq: number;
  onCancel(): void;
}

/** "Replying to Bob: …" above the composer, with a button to cancel (Escape in the field does too). */
export function ReplyBanner({ channelId, seq, onCancel }: ReplyBannerProps): ReactNode {
  const parent = useChatStores().existingMessages(channelId)?.find(seq);
  const sender = useUser(parent?.senderId);
  const { userId: me } = useConnectionState();
  const name = parent?.senderId === me ? 'yourself' : sender?.displayName || sender?.username || 'a message';
  return (
    <div className="natter-reply-banner" role="status">
      <span className="natter-quote">
        <span className="natter-quote-sender">Replying to {name}</span>
        <span className="natter-quote-text">{parent?.text ?? ''}</span>
      </span>
      <button type="button" aria-label="Cancel reply" onClick={onCancel}>
        ×
      </button>
    </div>
  );
}
