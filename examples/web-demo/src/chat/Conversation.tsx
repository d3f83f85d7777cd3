/** The conversation column: header with presence or members, the kit's message list, typing and composer. */
import type { CachedChannel } from '@natter/client';
import {
  Avatar,
  Composer,
  EncryptedBadge,
  MessageList,
  Thread,
  TypingIndicator,
  useChannelUi,
  usePresence,
  useUser,
} from '@natter/react';
import type { ReactNode } from 'react';
import { useRef } from 'react';
import { useDemoApp } from './app-context.js';
import { useBlocks } from './blocks.js';
import { useDropZone } from './drop-zone.js';
import {
  describeError,
  plural,
  presenceLabel,
  useChannel,
  useNow,
  usePresenceKnown,
  usePresenceOf,
} from './hooks.js';

/** The open conversation, or a hint to pick one. */
export function Conversation(): ReactNode {
  const app = useDemoApp();
  const view = useChannel(app.activeId);
  if (!view)
    return (
      <main className="conversation" id="conversation" aria-label="Conversation">
        <div className="no-conversation">
          <p>Pick a conversation, or start a new one.</p>
        </div>
      </main>
    );
  return <OpenConversation key={view.channel.id} channel={view.channel} />;
}

function OpenConversation({ channel }: { channel: CachedChannel }): ReactNode {
  const area = useRef<HTMLDivElement>(null);
  const dropping = useDropZone(area);
  const { thread } = useChannelUi(channel.id);
  const me = useDemoApp().session.user.id;
  const peer = channel.kind === 'direct' ? channel.memberIds.find((id) => id !== me) : undefined;
  const blocked = useBlocks().isBlocked(peer ?? '');
  return (
    <main
      className="conversation"
      id="conversation"
      aria-labelledby="conversation-title"
      data-thread={thread !== undefined || undefined}
    >
      <div className="conversation-body" ref={area} data-dropping={dropping || undefined}>
        <Header channel={channel} />
        <MessageList channelId={channel.id} label="Messages" />
        <TypingIndicator channelId={channel.id} />
        {blocked && peer ? (
          <BlockedBar peerId={peer} />
        ) : (
          <Composer key={channel.id} channelId={channel.id} />
        )}
        {dropping ? (
          <div className="drop-hint" aria-hidden="true">
            Drop files to attach them
          </div>
        ) : null}
      </div>
      {/* The kit's thread panel, opened by a row's "Reply in thread"; it closes itself. */}
      <Thread channelId={channel.id} />
    </main>
  );
}

/**
 * In place of the composer in a conversation with someone the user blocked (they could still write; the
 * demo, like WhatsApp, asks them to unblock first so a message never looks like an invitation to answer).
 */
function BlockedBar({ peerId }: { peerId: string }): ReactNode {
  const app = useDemoApp();
  const blocks = useBlocks();
  const peer = useUser(peerId);
  const name = peer?.displayName ?? 'this person';
  return (
    <div className="blocked-bar" id="blocked-bar">
      <p>You blocked {name}. Unblock them to send a message.</p>
      <button
        type="button"
        className="small"
        onClick={() =>
          blocks.unblock(peerId).then(
            () => app.notify(`${name} is unblocked.`),
            (err: unknown) => app.notify(describeError(err)),
          )
        }
      >
        Unblock
      </button>
    </div>
  );
}

function Header({ channel }: { channel: CachedChannel }): ReactNode {
  const app = useDemoApp();
  const me = app.session.user.id;
  const peer = channel.kind === 'direct' ? channel.memberIds.find((id) => id !== me) : undefined;
  const blocked = useBlocks().isBlocked(peer ?? '');
  const peerUser = useUser(peer);
  const title = channel.kind === 'group' ? (channel.name ?? 'Group') : (peerUser?.displayName ?? '');
  const detailsOpen = app.panel.kind === 'details';
  return (
    <header className="conversation-head">
      <button
        type="button"
        className="back"
        aria-label="Back to conversations"
        onClick={() => app.open(undefined)}
      >
        ←
      </button>
      {peer ? <Avatar id={peer} presence={!blocked} /> : <Avatar id={channel.id} name={title} />}
      <div className="conversation-title">
        <h2 id="conversation-title">
          {title}
          {channel.encrypted ? <EncryptedBadge /> : null}
        </h2>
        <p className="subtitle" id="conversation-subtitle">
          {peer ? blocked ? 'Blocked' : <PeerStatus userId={peer} /> : <GroupStatus channel={channel} />}
        </p>
      </div>
      <button
        type="button"
        className="icon-button"
        id="details-toggle"
        aria-expanded={detailsOpen}
        aria-controls="panel"
        onClick={() => app.showPanel({ kind: detailsOpen ? 'none' : 'details' })}
      >
        {channel.kind === 'group' ? 'Group info' : 'Info'}
      </button>
    </header>
  );
}

function PeerStatus({ userId }: { userId: string }): ReactNode {
  const presence = usePresence(userId);
  const known = usePresenceKnown();
  const now = useNow(15_000);
  return known ? presenceLabel(presence, now) : 'waiting for network…';
}

function GroupStatus({ channel }: { channel: CachedChannel }): ReactNode {
  const me = useDemoApp().session.user.id;
  const others = channel.memberIds.filter((id) => id !== me);
  const presence = usePresenceOf(others);
  const known = usePresenceKnown();
  const online = known
    ? others.filter((id) => {
        const status = presence.get(id)?.status;
        return status === 'online' || status === 'away';
      }).length
    : 0;
  return `${plural(channel.memberIds.length, 'member')}${online > 0 ? ` · ${online} online` : ''}`;
}
