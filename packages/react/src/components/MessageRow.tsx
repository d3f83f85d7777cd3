import type { ReactNode } from 'react';
import { memo, useState } from 'react';
import { useUser, useUsers } from '../hooks.js';
import { useIsEditing } from '../hooks-lifecycle.js';
import type { MessageItem } from '../stores/message-items.js';
import { Attachments } from './Attachments.js';
import { Avatar } from './Avatar.js';
import { splitText, systemLine, systemPeople, type TextPart, timeOf } from './format.js';
import { MessageEditor, ReplyQuote, RowActions, ThreadSummary } from './MessageTools.js';
import { Reactions } from './Reactions.js';
import { ReadReceipts } from './ReadReceipts.js';

/** Props of {@link MessageRow}. */
export interface MessageRowProps {
  item: MessageItem;
  /** Starts a group: shows avatar and name. */
  first: boolean;
  /** Sent by the user. */
  own: boolean;
  /** The user's id (the sender of pending rows). */
  me: string | undefined;
  /** Show read receipts below it (the user's newest stored message). */
  receipts: 'direct' | 'group' | undefined;
  onRetry(clientMsgId: string): void;
  onDiscard(clientMsgId: string): void;
  /** Shown in a thread panel: no quote-reply, no "reply in thread", no thread summary. @default false */
  inThread?: boolean;
  /** Offer the actions toolbar (react, reply, thread, edit, delete). @default true */
  actions?: boolean;
}

/**
 * One message: avatar and name when it starts a group, the quoted parent of a reply, text with clickable
 * links and highlighted mentions (or the inline editor), "edited", photos and files, reactions, the thread's
 * reply count, time, and for the user's own messages their state (sending, not sent with Retry and Discard,
 * receipts). A deleted message is a tombstone ("This message was deleted"). The actions toolbar shows on
 * hover and when focus is inside the row. Memoised: it re-renders only when its own item changes.
 */
export const MessageRow = memo(function MessageRow(props: MessageRowProps): ReactNode {
  const { item, first, own, me, receipts, onRetry, onDiscard, inThread = false, actions = true } = props;
  const message = item.status === 'sent' ? item.message : undefined;
  const editing = useIsEditing(message?.channelId ?? '', message?.seq);
  const [hot, setHot] = useState(false);
  if (message?.kind === 'system') return <SystemRow item={item as MessageItem & { status: 'sent' }} />;
  const senderId = message ? message.senderId : (me ?? '');
  const text = message ? message.text : item.status !== 'sent' ? item.pending.text : '';
  const mentions = message ? message.mentions : item.status !== 'sent' ? item.pending.mentions : [];
  const at = message ? message.createdAt : item.status !== 'sent' ? item.pending.createdAt : 0;
  const extras = item.status === 'sent' ? undefined : item.extras;
  const channelId = message ? message.channelId : item.status !== 'sent' ? item.pending.channelId : '';
  const replyTo = message ? message.replyTo : extras?.replyTo;
  const deleted = message?.deletedAt !== undefined;
  const attachments = message ? message.attachments : extras?.attachments;
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: hover only mounts the toolbar early; keyboard users reach it through "Message actions"
    <div
      className="natter-message"
      data-first={first}
      data-own={own}
      data-status={item.status}
      data-deleted={deleted || undefined}
      onMouseEnter={actions ? () => setHot(true) : undefined}
      onMouseLeave={actions ? () => setHot(false) : undefined}
    >
      <div className="natter-message-gutter">{first ? <Avatar id={senderId} /> : null}</div>
      <div className="natter-message-body">
        <Meta senderId={senderId} at={at} visible={first} own={own} editedAt={message?.editedAt} />
        {replyTo !== undefined && !inThread && !deleted ? (
          <ReplyQuote
            channelId={channelId}
            replyTo={replyTo}
            preview={message ? message.replyPreview : extras?.replyPreview}
          />
        ) : null}
        {deleted ? (
          <div className="natter-message-text natter-tombstone">This message was deleted</div>
        ) : editing && message ? (
          <MessageEditor message={message} />
        ) : text !== '' ? (
          <div className="natter-message-text">
            <MessageText text={text} mentions={mentions} />
            {message?.editedAt !== undefined && !first ? <EditedMark editedAt={message.editedAt} /> : null}
          </div>
        ) : null}
        {attachments && !deleted ? <Attachments attachments={attachments} /> : null}
        {message?.reactions && !deleted ? (
          <Reactions channelId={message.channelId} seq={message.seq} reactions={message.reactions} />
        ) : null}
        {message?.threadReplies && !inThread ? <ThreadSummary message={message} /> : null}
        {item.status === 'sent' ? null : (
          <div className="natter-message-status" role={item.status === 'failed' ? 'alert' : undefined}>
            {item.status === 'failed' ? (
              <span className="natter-message-actions">
                Not sent{item.pending.error ? ` (${item.pending.error.message})` : ''}.
                <button type="button" onClick={() => onRetry(item.key)}>
                  Retry
                </button>
                <button type="button" onClick={() => onDiscard(item.key)}>
                  Discard
                </button>
              </span>
            ) : (
              'Sending…'
            )}
          </div>
        )}
        {receipts && item.status === 'sent' ? (
          <ReadReceipts channelId={item.message.channelId} seq={item.message.seq} kind={receipts} />
        ) : null}
      </div>
      {actions && message && !deleted && !editing ? (
        <RowActions message={message} own={own} inThread={inThread} hot={hot} />
      ) : null}
    </div>
  );
});

function EditedMark({ editedAt }: { editedAt: number }): ReactNode {
  return (
    <span className="natter-edited" title={`Edited ${new Date(editedAt).toLocaleString()}`}>
      {' '}
      (edited)
    </span>
  );
}

/** Name and time; for continued messages only for screen readers, which see each message on its own. */
function Meta({
  senderId,
  at,
  visible,
  own,
  editedAt,
}: {
  senderId: string;
  at: number;
  visible: boolean;
  own: boolean;
  editedAt: number | undefined;
}) {
  const user = useUser(senderId);
  const name = own ? 'You' : user?.displayName || user?.username || '';
  return (
    <div className={visible ? 'natter-message-meta' : 'natter-sr-only'}>
      <span className="natter-message-sender">{name}</span>
      <time className="natter-message-time" dateTime={new Date(at).toISOString()}>
        {timeOf(at)}
      </time>
      {editedAt !== undefined && visible ? <EditedMark editedAt={editedAt} /> : null}
    </div>
  );
}

function MessageText({ text, mentions }: { text: string; mentions: readonly string[] }): ReactNode {
  const users = useUsers(mentions);
  const profiles = mentions.map((id) => users.get(id)).filter((u) => u !== undefined);
  return splitText(text, profiles).map((part, i) => renderPart(part, i));
}

function renderPart(part: TextPart, i: number): ReactNode {
  switch (part.kind) {
    case 'link':
      return (
        <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">
          {part.text}
        </a>
      );
    case 'mention':
      return (
        <span key={i} className="natter-mention">
          {part.text}
        </span>
      );
    case 'mark':
      return <mark key={i}>{part.text}</mark>;
    default:
      return part.text;
  }
}

const SystemRow = memo(function SystemRow({ item }: { item: MessageItem & { status: 'sent' } }): ReactNode {
  const { message } = item;
  const users = useUsers(systemPeople(message));
  const text = systemLine(message, users);
  return <div className="natter-message-system">{text}</div>;
});
