import type { ReactNode } from 'react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useChannels, useConnectionState, useMarkRead, useMessages } from '../hooks.js';
import { newestSeq } from '../stores/message-items.js';
import { MessageRow } from './MessageRow.js';
import { buildRows, type DisplayRow } from './rows.js';
import { useVirtualWindow } from './virtual.js';

/** Props of {@link MessageList}. */
export interface MessageListProps {
  channelId: string;
  /** Mark messages read while the newest is on screen and the page is visible. @default true */
  markRead?: boolean;
  /** Accessible name of the list. @default 'Messages' */
  label?: string;
}

/** Closer to the bottom than this counts as "at the newest message", px. */
const STICK_PX = 48;
/** Closer to the top than this loads the page before, px. */
const LOAD_OLDER_PX = 600;
const UPWARD_KEYS = new Set(['ArrowUp', 'PageUp', 'Home']);

/**
 * A channel's messages, newest at the bottom: windowed (only rows near the viewport are in the DOM, so a
 * channel of any length scrolls smoothly), with date separators, grouping by sender, a "new messages" divider
 * at the read marker the channel had when opened, older pages loaded on scroll without the view jumping,
 * a "jump to newest" button, pending and failed sends in place, and receipts under the user's newest message.
 */
export function MessageList({ channelId, markRead = true, label = 'Messages' }: MessageListProps): ReactNode {
  const view = useMessages(channelId);
  const { userId: me } = useConnectionState();
  const channels = useChannels();
  const channelView = channels.channels.find((c) => c.channel.id === channelId);
  const kind = channelView?.channel.kind ?? 'group';
  // The marker when the channel was opened: the divider stays put while the user reads on.
  const [readSeqAtOpen] = useState(() => channelView?.readSeq);
  const rows = useMemo(() => buildRows(view.items, me, readSeqAtOpen), [view.items, me, readSeqAtOpen]);
  const keys = useMemo(() => rows.map((r) => r.key), [rows]);
  const lastOwnKey = useMemo(() => {
    for (let i = view.items.length - 1; i >= 0; i--) {
      const item = view.items[i];
      if (
        item?.status === 'sent' &&
        item.message.senderId === me &&
        item.message.kind === 'text' &&
        item.message.threadRoot === undefined &&
        item.message.deletedAt === undefined
      )
        return item.key;
    }
    return undefined;
  }, [view.items, me]);

  const scroller = useRef<HTMLDivElement>(null);
  const estimate = useCallback((i: number) => estimateHeight(rows[i]), [rows]);
  const virtual = useVirtualWindow(scroller, keys, estimate);
  const atBottom = useRef(true);
  const anchor = useRef<{ key: string; delta: number } | undefined>(undefined);
  const [awayCount, setAwayCount] = useState<number | undefined>(undefined);
  const seenCount = useRef(view.items.length);

  const { loadOlder, loadNewer, hasMoreBefore, hasMoreAfter, olderPage, focus } = view;
  const [focusedKey, setFocusedKey] = useState<string | undefined>(undefined);
  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    virtual.onScroll();
    const nearEnd = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    // An older window's end is not the newest message: load on instead of sticking.
    atBottom.current = nearEnd && !hasMoreAfter;
    if (nearEnd && hasMoreAfter) void loadNewer();
    if (atBottom.current) setAwayCount(undefined);
    else setAwayCount((n) => n ?? 0);
    // Remember the first row in view and where it sits, to keep it there when rows above change.
    const first = keys[virtual.window.start];
    const firstOffset = first === undefined ? undefined : virtual.offsetOf(first);
    anchor.current =
      first !== undefined && firstOffset !== undefined
        ? { key: first, delta: el.scrollTop - firstOffset }
        : undefined;
    if (el.scrollTop < LOAD_OLDER_PX && hasMoreBefore && olderPage === 'idle') void loadOlder();
  };

  // At the very top a wheel turn or an Up/PageUp/Home key scrolls nothing, so no scroll event comes: a
  // page that left the view at scrollTop 0 would stop the loading of older pages. Treat the attempt as one.
  const onScrollAttemptAtTop = (upward: boolean) => {
    const el = scroller.current;
    if (upward && el && el.scrollTop <= 0 && hasMoreBefore && olderPage === 'idle') void loadOlder();
  };

  // After every change: stay at the bottom if the user was there, else keep the anchored row in place.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
      return;
    }
    const a = anchor.current;
    const offset = a ? virtual.offsetOf(a.key) : undefined;
    if (a && offset !== undefined && Math.abs(el.scrollTop - (offset + a.delta)) > 1)
      el.scrollTop = offset + a.delta;
  });

  // A jump (search result, mention): bring the message a third of the way down and mark it. Only a new
  // jump scrolls; later renders leave the position to the user.
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the jump itself
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!focus || !el) return;
    const item = view.items.find((i) => i.status === 'sent' && i.message.seq === focus.seq);
    const offset = item ? virtual.offsetOf(item.key) : undefined;
    if (!item || offset === undefined) return;
    atBottom.current = false;
    el.scrollTop = Math.max(0, offset - el.clientHeight / 3);
    anchor.current = { key: item.key, delta: el.scrollTop - offset };
    setFocusedKey(item.key);
    setAwayCount((n) => n ?? 0);
  }, [focus]);

  // Messages that arrived while scrolled up, for the jump button.
  useEffect(() => {
    const added = view.items.length - seenCount.current;
    seenCount.current = view.items.length;
    if (added > 0 && !atBottom.current) setAwayCount((n) => (n ?? 0) + added);
  }, [view.items.length]);

  // A viewport the first page does not fill has no scrollbar to scroll: load on until it does.
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-checked whenever the content height changes
  useEffect(() => {
    const el = scroller.current;
    if (
      el &&
      el.clientHeight > 0 &&
      el.scrollHeight <= el.clientHeight &&
      hasMoreBefore &&
      olderPage === 'idle'
    )
      void loadOlder();
  }, [hasMoreBefore, olderPage, loadOlder, virtual.total]);

  const markReadNow = useMarkRead(channelId);
  const marked = useRef(0);
  const newest = newestSeq(view.items);
  useEffect(() => {
    if (!markRead || newest === undefined || newest <= marked.current || channelView === undefined) return;
    if (newest <= channelView.readSeq) {
      marked.current = newest;
      return;
    }
    const check = () => {
      if (!atBottom.current || (typeof document !== 'undefined' && document.visibilityState === 'hidden'))
        return;
      marked.current = newest;
      markReadNow(newest).catch(() => {
        marked.current = 0;
      });
    };
    check();
    const el = scroller.current;
    el?.addEventListener('scroll', check);
    document.addEventListener('visibilitychange', check);
    return () => {
      el?.removeEventListener('scroll', check);
      document.removeEventListener('visibilitychange', check);
    };
  }, [markRead, newest, channelView, markReadNow]);

  const jumpToNewest = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = true;
    setFocusedKey(undefined);
    if (hasMoreAfter) void view.jumpToNewest();
    el.scrollTop = el.scrollHeight;
    setAwayCount(undefined);
  };

  const { start, end, padTop, padBottom } = virtual.window;
  return (
    <div className="natter-message-list">
      <div
        ref={scroller}
        className="natter-scroller"
        role="log"
        aria-label={label}
        aria-busy={view.phase === 'loading' || olderPage === 'loading'}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to scroll by keyboard
        tabIndex={0}
        onScroll={onScroll}
        onWheel={(event) => onScrollAttemptAtTop(event.deltaY < 0)}
        onKeyDown={(event) => onScrollAttemptAtTop(UPWARD_KEYS.has(event.key))}
        data-rows={rows.length}
      >
        {olderPage === 'loading' ? <div className="natter-loading">Loading earlier messages…</div> : null}
        {olderPage === 'error' ? (
          <div className="natter-loading">
            Could not load earlier messages.{' '}
            <button type="button" onClick={() => void loadOlder()}>
              Try again
            </button>
          </div>
        ) : null}
        {view.phase === 'error' && view.items.length === 0 ? (
          <p role="alert">Could not load messages.</p>
        ) : null}
        <div style={{ height: padTop }} aria-hidden="true" />
        {rows.slice(start, end).map((row) => (
          <div key={row.key} data-row-key={row.key} data-focused={row.key === focusedKey ? true : undefined}>
            <Row
              row={row}
              me={me}
              kind={kind}
              lastOwnKey={lastOwnKey}
              retry={view.retry}
              discard={view.discard}
            />
          </div>
        ))}
        <div style={{ height: padBottom }} aria-hidden="true" />
      </div>
      {awayCount !== undefined || hasMoreAfter ? (
        <button type="button" className="natter-jump" onClick={jumpToNewest}>
          {awayCount !== undefined && awayCount > 0
            ? `${awayCount} new message${awayCount === 1 ? '' : 's'} · Jump to newest`
            : 'Jump to newest'}
        </button>
      ) : null}
    </div>
  );
}

function Row(props: {
  row: DisplayRow;
  me: string | undefined;
  kind: 'direct' | 'group';
  lastOwnKey: string | undefined;
  retry(clientMsgId: string): void;
  discard(clientMsgId: string): Promise<void>;
}): ReactNode {
  const { row, me, kind, lastOwnKey, retry, discard } = props;
  if (row.kind === 'day') return <p className="natter-day">{row.label}</p>;
  if (row.kind === 'divider') return <p className="natter-divider">New messages</p>;
  const own = row.item.status !== 'sent' || row.item.message.senderId === me;
  return (
    <MessageRow
      item={row.item}
      first={row.first}
      own={own}
      me={me}
      receipts={row.key === lastOwnKey ? kind : undefined}
      onRetry={retry}
      onDiscard={discard}
    />
  );
}

function estimateHeight(row: DisplayRow | undefined): number {
  if (row?.kind !== 'message') return 32;
  return row.first ? 58 : 26;
}
