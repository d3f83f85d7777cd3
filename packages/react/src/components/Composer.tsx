import type { UserProfile } from '@natter/client';
import type { ChangeEvent, KeyboardEvent, ReactNode } from 'react';
import { useId, useMemo, useRef, useState } from 'react';
import { useChannels, useConnectionState, useSend, useUsers } from '../hooks.js';
import { useChatClient } from '../provider.js';
import { findMentions } from './format.js';

/** Props of {@link Composer}. */
export interface ComposerProps {
  channelId: string;
  /** @default 'Write a message…' */
  placeholder?: string;
  /** Accessible name of the text field. @default 'Message' */
  label?: string;
  /**
   * Called for the up arrow in an empty composer: where an app (or the kit, once messages can be edited)
   * starts editing the user's last message.
   */
  onEditLast?: () => void;
  /** Called after each send, with the text sent. */
  onSent?: (text: string) => void;
}

/** The most suggestions shown at once. */
const MAX_SUGGESTIONS = 8;

/**
 * A multi-line message field: Enter sends, Shift+Enter starts a new line; `@` suggests the channel's members
 * by display name and username (arrow keys, Enter or Tab to pick, Escape to close), and a sent message
 * mentions everyone written as `@username` or `@Display Name`. Sends go through the outbox, so they survive
 * going offline; typing is reported while the user writes.
 */
export function Composer({
  channelId,
  placeholder = 'Write a message…',
  label = 'Message',
  onEditLast,
  onSent,
}: ComposerProps): ReactNode {
  const client = useChatClient();
  const send = useSend(channelId);
  const { userId: me } = useConnectionState();
  const channels = useChannels();
  const memberIds = channels.channels.find((c) => c.channel.id === channelId)?.channel.memberIds ?? NONE;
  const users = useUsers(memberIds);
  const members = useMemo(
    () =>
      memberIds
        .filter((id) => id !== me)
        .map((id) => users.get(id))
        .filter((u): u is UserProfile => u !== undefined),
    [memberIds, users, me],
  );
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

  const submit = () => {
    const body = text.trim();
    if (body === '') return;
    try {
      send(body, { mentions: findMentions(body, members) });
      setText('');
      setMention(undefined);
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
    } else if (event.key === 'ArrowUp' && text === '' && onEditLast) {
      event.preventDefault();
      onEditLast();
    }
  };

  return (
    <form
      className="natter-composer"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
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
      />
      <button type="submit" className="natter-send" disabled={text.trim() === ''}>
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

const NONE: readonly string[] = Object.freeze([]);

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
