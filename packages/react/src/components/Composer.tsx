import type { UserProfile } from '@natter/client';
import type { ChangeEvent, ClipboardEvent, DragEvent, KeyboardEvent, ReactNode } from 'react';
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useConnectionState, useSend } from '../hooks.js';
import { useChannelUi } from '../hooks-lifecycle.js';
import { useChatClient, useChatStores } from '../provider.js';
import type { ChatStores } from '../stores/chat-stores.js';
import type { MessageItems } from '../stores/message-items.js';
import { useUpload } from '../upload.js';
import { findMentions } from './format.js';
import { useOtherMembers } from './members.js';
import { ReplyBanner } from './ReplyBanner.js';
import { isThreadReply } from './rows.js';
import { SlowModeNotice } from './SlowModeNotice.js';
import { AttachButton, UploadTray } from './UploadTray.js';

/** Props of {@link Composer}. */
export interface ComposerProps {
  channelId: string;
  /** @default 'Write a message…' */
  placeholder?: string;
  /** Accessible name of the text field. @default 'Message' */
  label?: string;
  /**
   * Called for the up arrow in an empty composer instead of the kit's own behaviour (editing the user's
   * last message inline in the list). @default edits the last message
   */
  onEditLast?: () => void;
  /** Called after each send, with the text sent. */
  onSent?: (text: string) => void;
  /** Send into this thread (the `Thread` panel's composer). */
  threadRoot?: number;
  /** Offer attachments (attach button, drag and drop, paste). @default true */
  attachments?: boolean;
}

/** The most suggestions shown at once. */
const MAX_SUGGESTIONS = 8;

/**
 * A multi-line message field: Enter sends, Shift+Enter starts a new line; `@` suggests the channel's members
 * by display name and username (arrow keys, Enter or Tab to pick, Escape to close), and a sent message
 * mentions everyone written as `@username` or `@Display Name`. The up arrow in an empty field edits the
 * user's last message; a row's "Reply" shows the quoted message above the field (Escape cancels). Files
 * attach with the button, by drag and drop or by pasting an image: each uploads at once with its progress
 * and a cancel button, and goes with the next send. Sends go through the outbox, so they survive going
 * offline; typing is reported while the user writes. In slow mode a line above the field gives the pace,
 * and the wait while the server holds one of the user's messages.
 */
export function Composer({
  channelId,
  placeholder = 'Write a message…',
  label = 'Message',
  onEditLast,
  onSent,
  threadRoot,
  attachments: allowAttachments = true,
}: ComposerProps): ReactNode {
  const client = useChatClient();
  const stores = useChatStores();
  const send = useSend(channelId);
  const { userId: me } = useConnectionState();
  const members = useOtherMembers(channelId);
  const ui = useChannelUi(channelId);
  const uploads = useUpload();
  const [dropping, setDropping] = useState(false);
  // Replies quote from the channel's composer only; a thread's composer posts into the thread.
  const replyingTo = threadRoot === undefined ? ui.replyingTo : undefined;
  const [text, setText] = useState('');
  const [mention, setMention] = useState<{ query: string; at: number } | undefined>(undefined);
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | undefined>(undefined);
  const field = useRef<HTMLTextAreaElement>(null);
  const listId = useId();

  const suggestions = useMemo(
    () => (mention ? matchMembers(members, mention.query) : []),
    [members, mention],
  );
  const open = suggestions.length > 0;

  // "Reply" on a row moves the focus here, where the answer is written.
  useEffect(() => {
    if (replyingTo !== undefined) field.current?.focus();
  }, [replyingTo]);

  const onChange = (event: ChangeEvent<HTMLTextAreaElement>) => {
    const value = event.target.value;
    setText(value);
    setError(undefined);
    const caret = event.target.selectionStart ?? value.length;
    const match = /(^|\s)@([^\s@]*)$/.exec(value.slice(0, caret));
    setMention(match ? { query: match[2] ?? '', at: caret - (match[2]?.length ?? 0) - 1 } : undefined);
    setActive(0);
    if (value.trim() !== '') client.setTyping(channelId, true);
  };

  const pick = (user: UserProfile) => {
    if (!mention) return;
    const end = mention.at + 1 + mention.query.length;
    const inserted = `@${user.username} `;
    const next = text.slice(0, mention.at) + inserted + text.slice(end);
    setText(next);
    setMention(undefined);
    const caret = mention.at + inserted.length;
    requestAnimationFrame(() => field.current?.setSelectionRange(caret, caret));
    field.current?.focus();
  };

  const canSend = (text.trim() !== '' || uploads.attachments.length > 0) && !uploads.uploading;
  const submit = () => {
    const body = text.trim();
    if (!canSend) return;
    try {
      send(body, {
        mentions: findMentions(body, members),
        ...(replyingTo !== undefined ? { replyTo: replyingTo } : {}),
        ...(threadRoot !== undefined ? { threadRoot } : {}),
        ...(uploads.attachments.length > 0 ? { attachments: uploads.attachments } : {}),
      });
      setText('');
      setMention(undefined);
      uploads.clear();
      if (replyingTo !== undefined) ui.replyTo(undefined);
      client.setTyping(channelId, false);
      onSent?.(body);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (open) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setActive((i) => (i + step + suggestions.length) % suggestions.length);
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        const chosen = suggestions[active];
        if (chosen) pick(chosen);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setMention(undefined);
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      submit();
    } else if (event.key === 'ArrowUp' && text === '') {
      if (onEditLast) {
        event.preventDefault();
        onEditLast();
        return;
      }
      const seq = lastOwnSeq(rowsOf(stores, channelId, threadRoot), me, threadRoot === undefined);
      if (seq !== undefined) {
        event.preventDefault();
        ui.edit(seq);
      }
    } else if (event.key === 'Escape' && replyingTo !== undefined) {
      event.preventDefault();
      ui.replyTo(undefined);
    }
  };

  const onDrop = (event: DragEvent<HTMLFormElement>) => {
    setDropping(false);
    const files = [...(event.dataTransfer?.files ?? [])];
    if (!allowAttachments || files.length === 0) return;
    event.preventDefault();
    uploads.add(files);
  };
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const files = [...(event.clipboardData?.files ?? [])];
    if (!allowAttachments || files.length === 0) return;
    event.preventDefault();
    uploads.add(files);
  };

  return (
    <form
      className="natter-composer"
      data-dropping={dropping || undefined}
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
      onDragOver={(event) => {
        if (!allowAttachments || !event.dataTransfer?.types.includes('Files')) return;
        event.preventDefault();
        setDropping(true);
      }}
      onDragLeave={() => setDropping(false)}
      onDrop={onDrop}
    >
      {replyingTo !== undefined ? (
        <ReplyBanner channelId={channelId} seq={replyingTo} onCancel={() => ui.replyTo(undefined)} />
      ) : null}
      {uploads.items.length > 0 ? <UploadTray uploads={uploads} /> : null}
      <SlowModeNotice channelId={channelId} />
      {open ? (
        <div className="natter-suggestions" id={listId} role="listbox" aria-label="Mention someone">
          {suggestions.map((user, i) => (
            <div
              key={user.id}
              id={`${listId}-${i}`}
              role="option"
              tabIndex={-1}
              aria-selected={i === active}
              className="natter-suggestion"
              onMouseDown={(event) => {
                event.preventDefault();
                pick(user);
              }}
            >
              {user.displayName}
              <small>@{user.username}</small>
            </div>
          ))}
        </div>
      ) : null}
      <textarea
        ref={field}
        rows={1}
        value={text}
        placeholder={placeholder}
        aria-label={label}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={open ? listId : undefined}
        aria-activedescendant={open ? `${listId}-${active}` : undefined}
        aria-invalid={error ? true : undefined}
        onChange={onChange}
        onKeyDown={onKeyDown}
        onBlur={() => setMention(undefined)}
        onPaste={onPaste}
      />
      {allowAttachments ? <AttachButton onFiles={uploads.add} /> : null}
      <button type="submit" className="natter-send" disabled={!canSend}>
        Send
      </button>
      {error ? (
        <p className="natter-sr-only" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

/** The rows the up arrow looks through: the channel's list, or the thread's. */
function rowsOf(stores: ChatStores, channelId: string, threadRoot: number | undefined): MessageItems {
  if (threadRoot !== undefined) return stores.thread(channelId, threadRoot).getSnapshot().items;
  return stores.existingMessages(channelId)?.getSnapshot().items ?? [];
}

/** The `seq` of the user's newest text message that can be edited (not deleted; thread replies skipped). */
function lastOwnSeq(
  items: MessageItems,
  me: string | undefined,
  skipThreadReplies: boolean,
): number | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item?.status !== 'sent' || (skipThreadReplies && isThreadReply(item))) continue;
    const m = item.message;
    if (m.senderId === me && m.kind === 'text' && m.deletedAt === undefined) return m.seq;
  }
  return undefined;
}

/** Members whose username, display name, or a word of it starts with the query (case-insensitive). */
export function matchMembers(members: readonly UserProfile[], query: string): UserProfile[] {
  const q = query.toLowerCase();
  return members
    .filter(
      (u) =>
        u.username.toLowerCase().startsWith(q) ||
        u.displayName.toLowerCase().startsWith(q) ||
        u.displayName
          .toLowerCase()
          .split(/\s+/)
          .some((word) => word.startsWith(q)),
    )
    .slice(0, MAX_SUGGESTIONS);
}
