import type { KeyboardEvent, ReactNode } from 'react';
import { memo, useMemo } from 'react';
import { useChannels, useConnectionState, useUsers } from '../hooks.js';
import type { ChannelView } from '../stores/channels.js';
import { Avatar } from './Avatar.js';
import { EncryptedBadge } from './EncryptedBadge.js';
import { attachmentsLabel, channelTitle, nameOf, systemLine, systemPeople } from './format.js';

/** Props of {@link ChannelList}. */
export interface ChannelListProps {
  /** The channel shown as current. */
  selectedId?: string | undefined;
  /** Called when the user picks a channel. */
  onSelect(channelId: string): void;
  /** Accessible name of the list. @default 'Conversations' */
  label?: string;
}

/**
 * The user's channels, most recent activity first: avatar (direct channels, with presence), title, preview
 * of the newest message, unread badge. Arrow keys move between channels, Home and End to the ends.
 */
export function ChannelList({ selectedId, onSelect, label = 'Conversations' }: ChannelListProps): ReactNode {
  const list = useChannels();
  const { userId: me } = useConnectionState();
  const people = useMemo(
    () =>
      [
        ...new Set(
          list.channels.flatMap((c) => [
            ...c.channel.memberIds.slice(0, 3),
            c.lastMessage?.senderId ?? '',
            ...(c.lastMessage ? systemPeople(c.lastMessage) : []),
          ]),
        ),
      ].filter(Boolean),
    [list.channels],
  );
  const users = useUsers(people);
  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    const buttons = [...event.currentTarget.querySelectorAll<HTMLButtonElement>('.natter-channel')];
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const target =
      event.key === 'ArrowDown'
        ? buttons[index + 1]
        : event.key === 'ArrowUp'
          ? buttons[index - 1]
          : event.key === 'Home'
            ? buttons[0]
            : event.key === 'End'
              ? buttons.at(-1)
              : undefined;
    if (target) {
      event.preventDefault();
      target.focus();
    }
  };
  return (
    <nav className="natter-channel-list" aria-label={label} onKeyDown={onKeyDown}>
      {list.phase === 'loading' ? <p className="natter-loading">Loading conversations…</p> : null}
      {list.phase === 'error' && list.channels.length === 0 ? (
        <p role="alert">Could not load conversations.</p>
      ) : null}
      <ul>
        {list.channels.map((view) => (
          <li key={view.channel.id}>
            <ChannelRow
              view={view}
              title={channelTitle(view.channel, me, users)}
              preview={previewOf(view, me, users)}
              other={
                view.channel.kind === 'direct' ? view.channel.memberIds.find((id) => id !== me) : undefined
              }
              selected={view.channel.id === selectedId}
              onSelect={onSelect}
            />
          </li>
        ))}
      </ul>
    </nav>
  );
}

const ChannelRow = memo(function ChannelRow(props: {
  view: ChannelView;
  title: string;
  preview: string;
  other: string | undefined;
  selected: boolean;
  onSelect(channelId: string): void;
}): ReactNode {
  const { view, title, preview, other, selected, onSelect } = props;
  return (
    <button
      type="button"
      className="natter-channel"
      aria-current={selected ? 'true' : undefined}
      onClick={() => onSelect(view.channel.id)}
    >
      <span aria-hidden="true">
        {other ? <Avatar id={other} presence /> : <Avatar id={view.channel.id} name={title} />}
      </span>
      {/* The visible text is the button's name (title first, so voice control can say it). */}
      <span className="natter-channel-text">
        <span className="natter-channel-name">
          {title}
          {/* The lock has no text, so the name's text stays the title. */}
          {view.channel.encrypted ? <EncryptedBadge /> : null}
        </span>
        <span className="natter-channel-preview">{preview}</span>
      </span>
      {view.unread > 0 ? (
        <>
          <span className="natter-badge" aria-hidden="true">
            {view.unread > 99 ? '99+' : view.unread}
          </span>
          <span className="natter-sr-only">, {view.unread} unread</span>
        </>
      ) : null}
    </button>
  );
});

function previewOf(view: ChannelView, me: string | undefined, users: Parameters<typeof nameOf>[1]): string {
  const last = view.lastMessage;
  if (!last) return 'No messages yet';
  if (last.kind === 'system') return systemLine(last, users);
  const who = last.senderId === me ? 'You' : nameOf(last.senderId, users);
  const body =
    last.deletedAt !== undefined ? 'Message deleted' : last.text || attachmentsLabel(last) || 'Message';
  return view.channel.kind === 'group' || last.senderId === me ? `${who}: ${body}` : body;
}
