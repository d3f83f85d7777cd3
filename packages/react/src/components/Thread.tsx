import type { ReactNode } from 'react';
import { useLayoutEffect, useRef } from 'react';
import { useConnectionState } from '../hooks.js';
import { useChannelUi, useThread } from '../hooks-lifecycle.js';
import type { MessageItem } from '../stores/message-items.js';
import { Composer } from './Composer.js';
import { MessageRow } from './MessageRow.js';
import { senderAndTime } from './rows.js';

/** Props of {@link Thread}. */
export interface ThreadProps {
  channelId: string;
  /** The thread's root. @default the thread opened in the channel (a row's "Reply in thread") */
  rootSeq?: number;
  /** Called by the close button. @default closes the channel's open thread */
  onClose?: () => void;
  /** Accessible name of the panel. @default 'Thread' */
  label?: string;
}

/** Replies further apart than this start a new group. */
const GROUP_GAP_MS = 5 * 60_000;

/**
 * A thread in a side panel: the root, its replies (earlier ones on demand), live replies, and a composer
 * that posts into the thread. Rendered only while a thread is open (`rootSeq`, or the channel's open thread).
 * Escape or the close button closes it.
 */
export function Thread({ channelId, rootSeq, onClose, label = 'Thread' }: ThreadProps): ReactNode {
  const ui = useChannelUi(channelId);
  const root = rootSeq ?? ui.thread;
  if (root === undefined) return null;
  return (
    <ThreadPanel
      key={`${channelId}:${root}`}
      channelId={channelId}
      rootSeq={root}
      onClose={onClose ?? (() => ui.openThread(undefined))}
      label={label}
    />
  );
}

function ThreadPanel(props: {
  channelId: string;
  rootSeq: number;
  onClose(): void;
  label: string;
}): ReactNode {
  const { channelId, rootSeq, onClose, label } = props;
  const thread = useThread(channelId, rootSeq);
  const { userId: me } = useConnectionState();
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const count = thread.root?.threadReplies ?? thread.items.filter((i) => i.status === 'sent').length;

  // New replies keep the newest in view while the user is at the bottom.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the replies change
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [thread.items]);

  return (
    <section
      className="natter-thread"
      aria-label={label}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && !event.defaultPrevented) onClose();
      }}
    >
      <header className="natter-thread-header">
        <h2>{label}</h2>
        <button type="button" aria-label="Close thread" onClick={onClose}>
          ×
        </button>
      </header>
      <div
        ref={scroller}
        className="natter-scroller"
        role="log"
        aria-label="Thread replies"
        aria-busy={thread.phase === 'loading' || thread.olderPage === 'loading'}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to scroll by keyboard
        tabIndex={0}
        onScroll={() => {
          const el = scroller.current;
          if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
        }}
      >
        {thread.root ? (
          <MessageRow
            item={{ status: 'sent', key: thread.root.id, message: thread.root }}
            first
            own={thread.root.senderId === me}
            me={me}
            receipts={undefined}
            onRetry={noop}
            onDiscard={noop}
            inThread
          />
        ) : null}
        {thread.phase === 'error' ? <p role="alert">Could not load the thread.</p> : null}
        <p className="natter-divider">{count === 1 ? '1 reply' : `${count} replies`}</p>
        {thread.hasMoreBefore ? (
          <div className="natter-loading">
            <button
              type="button"
              onClick={() => void thread.loadOlder()}
              disabled={thread.olderPage === 'loading'}
            >
              {thread.olderPage === 'error' ? 'Could not load. Try again' : 'Earlier replies'}
            </button>
          </div>
        ) : null}
        {thread.items.map((item, i) => (
          <MessageRow
            key={item.key}
            item={item}
            first={startsGroup(thread.items[i - 1], item, me)}
            own={item.status !== 'sent' || item.message.senderId === me}
            me={me}
            receipts={undefined}
            onRetry={thread.retry}
            onDiscard={thread.discard}
            inThread
          />
        ))}
      </div>
      <Composer channelId={channelId} threadRoot={rootSeq} label="Reply in thread" placeholder="Reply…" />
    </section>
  );
}

function noop(): void {}

function startsGroup(previous: MessageItem | undefined, item: MessageItem, me: string | undefined): boolean {
  if (!previous) return true;
  const a = senderAndTime(previous, me);
  const b = senderAndTime(item, me);
  return a.senderId !== b.senderId || b.at - a.at > GROUP_GAP_MS;
}
