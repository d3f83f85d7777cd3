import type { ReactNode } from 'react';
import { useTyping, useUsers } from '../hooks.js';
import { nameOf } from './format.js';

/** Props of {@link TypingIndicator}. */
export interface TypingIndicatorProps {
  channelId: string;
}

/** "Bob is typing…", "Bob and Carol are typing…", "4 people are typing…"; announced politely. */
export function TypingIndicator({ channelId }: TypingIndicatorProps): ReactNode {
  const typing = useTyping(channelId);
  const users = useUsers(typing);
  const names = typing.map((id) => nameOf(id, users));
  const text =
    names.length === 0
      ? ''
      : names.length === 1
        ? `${names[0]} is typing…`
        : names.length <= 3
          ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`
          : `${names.length} people are typing…`;
  return (
    <div className="natter-typing" aria-live="polite">
      {text}
    </div>
  );
}
