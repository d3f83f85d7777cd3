/**
 * What a message row offers besides its content: the actions toolbar (react, reply, reply in thread, edit,
 * delete, report), the delete confirmation, the inline editor, the quoted parent of a reply and a thread's summary.
 */
import type { Message } from '@natter/client';
import type { KeyboardEvent, ReactNode } from 'react';
import { useEffect, useRef, useState } from 'react';
import { useJumpToMessage, useUser } from '../hooks.js';
import { useChannelUiActions, useIsThreadOpen, useMessageActions } from '../hooks-lifecycle.js';
import { useChatStores } from '../provider.js';
import { findMentions, timeOf } from './format.js';
import { useOtherMembers } from './members.js';
import { EmojiPicker } from './Reactions.js';
import { ReportDialog } from './ReportDialog.js';

/**
 * The row's actions, mounted on demand so a long list pays for one button per row: the toolbar while the
 * pointer is over the row (`hot`), and for keyboard users a "Message actions" button (shown when focused)
 * that opens the toolbar with the focus on its first action; it closes when the focus leaves it. The
 * report dialog is held here, outside the toolbar, so it stays open when the pointer leaves the row.
 */
export function RowActions(props: MessageToolbarProps & { hot: boolean }): ReactNode {
  const { hot, ...toolbar } = props;
  const { message, own } = toolbar;
  const [open, setOpen] = useState(false);
  const [reporting, setReporting] = useState(false);
  const wrap = useRef<HTMLDivElement>(null);
  const reportable = useChatStores().reportMessages && !own && message.kind === 'text';
  const sender = useUser(reportable ? message.senderId : undefined);
  useEffect(() => {
    if (open) wrap.current?.querySelector<HTMLButtonElement>('.natter-toolbar button')?.focus();
  }, [open]);
  const dialog = reporting ? (
    <ReportDialog
      target={{ kind: 'message', channelId: message.channelId, seq: message.seq }}
      name={sender?.displayName || sender?.username || undefined}
      onClose={() => setReporting(false)}
    />
  ) : null;
  if (!hot && !open)
    return (
      <>
        <button type="button" className="natter-actions-trigger" onClick={() => setOpen(true)}>
          Message actions
        </button>
        {dialog}
      </>
    );
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: only closes the toolbar when the focus leaves it (its buttons are the controls)
    <div
      ref={wrap}
      className="natter-row-actions"
      onBlur={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setOpen(false);
      }}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && open && !event.defaultPrevented) {
          setOpen(false);
          event.preventDefault();
        }
      }}
    >
      <MessageToolbar {...toolbar} {...(reportable ? { onReport: () => setReporting(true) } : {})} />
      {dialog}
    </div>
  );
}

/** Props of {@link MessageToolbar}. */
export interface MessageToolbarProps {
  message: Message;
  /** The user wrote it: edit and delete are offered. */
  own: boolean;
  /** Shown in a thread panel: no quote-reply and no "reply in thread". */
  inThread: boolean;
  /** Offers "Report" (last in the toolbar), called when chosen; absent, no report action is shown. */
  onReport?: () => void;
}

/**
 * The row's actions, in the tab order (shown on hover and whenever focus is inside the row, so every one is
 * reachable by keyboard): add a reaction, reply, reply in thread, edit, delete (with a confirmation), and
 * report for others' messages when `onReport` is given.
 */
export function MessageToolbar({ message, own, inThread, onReport }: MessageToolbarProps): ReactNode {
  const { channelId, seq } = message;
  const ui = useChannelUiActions(channelId);
  const actions = useMessageActions(channelId);
  const [panel, setPanel] = useState<'none' | 'emoji' | 'delete'>('none');
  const [error, setError] = useState<string | undefined>(undefined);
  const run = (action: Promise<unknown>) =>
    action.then(
      () => setError(undefined),
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  const mine = (message.reactions ?? []).filter((r) => r.me).map((r) => r.emoji);
  return (
    <div className="natter-toolbar-wrap">
      <div className="natter-toolbar" role="toolbar" aria-label="Message actions">
        <button
          type="button"
          aria-label="Add reaction"
          aria-expanded={panel === 'emoji'}
          onClick={() => setPanel(panel === 'emoji' ? 'none' : 'emoji')}
        >
          ☺
        </button>
        {inThread ? null : (
          <>
            <button type="button" aria-label="Reply" onClick={() => ui.replyTo(seq)}>
              ↩
            </button>
            <button type="button" aria-label="Reply in thread" onClick={() => ui.openThread(seq)}>
              💬
            </button>
          </>
        )}
        {own ? (
          <>
            <button type="button" aria-label="Edit" onClick={() => ui.edit(seq)}>
              ✎
            </button>
            <button
              type="button"
              aria-label="Delete"
              aria-expanded={panel === 'delete'}
              onClick={() => setPanel('delete')}
            >
              🗑
            </button>
          </>
        ) : null}
        {onReport ? (
          <button type="button" aria-label="Report" aria-haspopup="dialog" onClick={onReport}>
            ⚑
          </button>
        ) : null}
      </div>
      {panel === 'emoji' ? (
        <EmojiPicker
          mine={mine}
          onPick={(emoji) => void run(actions.react(seq, emoji, !mine.includes(emoji)))}
          onClose={() => setPanel('none')}
        />
      ) : null}
      {panel === 'delete' ? (
        <ConfirmDelete
          onConfirm={() => {
            setPanel('none');
            void run(actions.remove(seq));
          }}
          onCancel={() => setPanel('none')}
        />
      ) : null}
      {error ? (
        <p className="natter-message-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function ConfirmDelete({ onConfirm, onCancel }: { onConfirm(): void; onCancel(): void }): ReactNode {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  return (
    <div
      className="natter-confirm"
      role="alertdialog"
      aria-label="Delete message"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          onCancel();
        }
      }}
    >
      <p>Delete this message for everyone? This cannot be undone.</p>
      <button type="button" className="natter-danger" onClick={onConfirm}>
        Delete
      </button>
      <button type="button" ref={cancel} onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

/**
 * The inline editor of a message: Enter saves, Shift+Enter breaks the line, Escape cancels; mentions are
 * found again in the new text.
 */
export function MessageEditor({ message }: { message: Message }): ReactNode {
  const ui = useChannelUiActions(message.channelId);
  const actions = useMessageActions(message.channelId);
  const members = useOtherMembers(message.channelId);
  const [text, setText] = useState(message.text);
  const [state, setState] = useState<{ saving: boolean; error?: string }>({ saving: false });
  const field = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = field.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const save = () => {
    const body = text.trim();
    if (body === '' || body === message.text) {
      ui.edit(undefined);
      return;
    }
    setState({ saving: true });
    actions.edit(message.seq, body, { mentions: findMentions(body, members) }).then(
      () => ui.edit(undefined),
      (err: unknown) => setState({ saving: false, error: err instanceof Error ? err.message : String(err) }),
    );
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      save();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      ui.edit(undefined);
    }
  };
  return (
    <form
      className="natter-editor"
      onSubmit={(event) => {
        event.preventDefault();
        save();
      }}
    >
      <textarea
        ref={field}
        value={text}
        aria-label="Edit message"
        aria-invalid={state.error ? true : undefined}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        disabled={state.saving}
      />
      <div className="natter-editor-buttons">
        <button type="submit" disabled={state.saving}>
          Save
        </button>
        <button type="button" onClick={() => ui.edit(undefined)}>
          Cancel
        </button>
        <span className="natter-hint">Enter to save, Escape to cancel</span>
      </div>
      {state.error ? (
        <p className="natter-message-error" role="alert">
          {state.error}
        </p>
      ) : null}
    </form>
  );
}

/** The quoted parent of a reply; a click shows the parent in the list. */
export function ReplyQuote(props: {
  channelId: string;
  replyTo: number;
  preview: NonNullable<Message['replyPreview']> | undefined;
}): ReactNode {
  const { channelId, replyTo, preview } = props;
  const sender = useUser(preview?.senderId);
  const jump = useJumpToMessage();
  const name = sender?.displayName || sender?.username || '';
  const text = !preview ? '…' : preview.deleted ? 'Original message deleted' : preview.text;
  return (
    <button
      type="button"
      className="natter-quote"
      data-deleted={preview?.deleted || undefined}
      aria-label={`Reply to ${name || 'a message'}: ${text}. Show it`}
      onClick={() => void jump(channelId, replyTo).catch(() => undefined)}
    >
      <span className="natter-quote-sender">{name}</span>
      <span className="natter-quote-text">{text}</span>
    </button>
  );
}

/** "3 replies · last 14:05" under a thread's root; opens the thread. */
export function ThreadSummary({ message }: { message: Message }): ReactNode {
  const ui = useChannelUiActions(message.channelId);
  const open = useIsThreadOpen(message.channelId, message.seq);
  const count = message.threadReplies ?? 0;
  if (count === 0) return null;
  const last = message.threadLastReplyAt;
  return (
    <button
      type="button"
      className="natter-thread-summary"
      aria-expanded={open}
      onClick={() => ui.openThread(message.seq)}
    >
      {count === 1 ? '1 reply' : `${count} replies`}
      {last ? <span className="natter-hint"> · last {timeOf(last)}</span> : null}
    </button>
  );
}
