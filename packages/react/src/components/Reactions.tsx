import type { KeyboardEvent, ReactNode } from 'react';
import { useEffect, useId, useRef, useState } from 'react';
import { useConnectionState, useUsers } from '../hooks.js';
import { useMessageActions, useReactors } from '../hooks-lifecycle.js';
import { nameOf } from './format.js';

type Reaction = { readonly emoji: string; readonly count: number; readonly me: boolean };

/** The emojis the picker offers. @default a small everyday set */
export const QUICK_EMOJIS: readonly string[] = Object.freeze(['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀']);

/** Props of {@link Reactions}. */
export interface ReactionsProps {
  channelId: string;
  seq: number;
  reactions: readonly Reaction[];
}

/**
 * A message's reactions: one toggle per emoji with its count (pressed when the user reacted), and on
 * hover or focus the names of who reacted (fetched then, and again when the count changes).
 */
export function Reactions({ channelId, seq, reactions }: ReactionsProps): ReactNode {
  const actions = useMessageActions(channelId);
  if (reactions.length === 0) return null;
  return (
    <div className="natter-reactions">
      {reactions.map((r) => (
        <ReactionChip
          key={r.emoji}
          channelId={channelId}
          seq={seq}
          reaction={r}
          onToggle={() => void actions.react(seq, r.emoji, !r.me).catch(() => undefined)}
        />
      ))}
    </div>
  );
}

function ReactionChip(props: { channelId: string; seq: number; reaction: Reaction; onToggle(): void }) {
  const { channelId, seq, reaction, onToggle } = props;
  const [shown, setShown] = useState(false);
  const tipId = useId();
  const reactors = useReactors(channelId, seq, reaction.emoji, shown, reaction.count);
  const ids = reactors.status === 'done' ? reactors.userIds : [];
  const users = useUsers(ids);
  const { userId: me } = useConnectionState();
  const names = ids.map((id) => (id === me ? 'you' : nameOf(id, users)));
  const more =
    reactors.status === 'done' && reactors.hasMore ? ` and ${reaction.count - names.length} more` : '';
  const who = names.length > 0 ? `${names.join(', ')}${more}` : undefined;
  return (
    <span className="natter-reaction-wrap">
      <button
        type="button"
        className="natter-reaction"
        aria-pressed={reaction.me}
        aria-label={`${reaction.emoji} ${reaction.count}${reaction.me ? ', including you' : ''}`}
        aria-describedby={shown && who ? tipId : undefined}
        onClick={onToggle}
        onMouseEnter={() => setShown(true)}
        onMouseLeave={() => setShown(false)}
        onFocus={() => setShown(true)}
        onBlur={() => setShown(false)}
      >
        <span aria-hidden="true">{reaction.emoji}</span>
        <span className="natter-reaction-count" aria-hidden="true">
          {reaction.count}
        </span>
      </button>
      {shown && who ? (
        <span role="tooltip" id={tipId} className="natter-tooltip">
          {reaction.emoji} {who}
        </span>
      ) : null}
    </span>
  );
}

/** Props of {@link EmojiPicker}. */
export interface EmojiPickerProps {
  /** Emojis the user reacted with already (shown pressed; picking one removes it). */
  mine: readonly string[];
  onPick(emoji: string): void;
  onClose(): void;
  /** @default {@link QUICK_EMOJIS} */
  emojis?: readonly string[];
}

/**
 * A small emoji palette: focus moves into it, arrow keys move between emojis, Enter or Space picks, Escape
 * closes and returns focus to where it was.
 */
export function EmojiPicker({ mine, onPick, onClose, emojis = QUICK_EMOJIS }: EmojiPickerProps): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    ref.current?.querySelector('button')?.focus();
    return () => previous?.focus?.();
  }, []);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const buttons = [...(ref.current?.querySelectorAll('button') ?? [])];
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    } else if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
      event.preventDefault();
      const step = event.key === 'ArrowRight' ? 1 : -1;
      buttons[(index + step + buttons.length) % buttons.length]?.focus();
    }
  };
  return (
    <div
      ref={ref}
      className="natter-emoji-picker"
      role="toolbar"
      aria-label="Pick a reaction"
      onKeyDown={onKeyDown}
    >
      {emojis.map((emoji) => (
        <button
          key={emoji}
          type="button"
          aria-pressed={mine.includes(emoji)}
          onClick={() => {
            onPick(emoji);
            onClose();
          }}
        >
          {emoji}
        </button>
      ))}
    </div>
  );
}
