import type { Message, ReactionSummary } from '@natter/protocol';
import type { OutboxMutationItem } from './store.js';

/**
 * The optimistic view: messages as they will be once the user's pending changes are applied, so a change
 * made offline shows at once. Pure functions over what the cache or the server returned; the changes stay
 * in the outbox (`pendingChanges()` says which are still pending). An edit shows its new text, a delete
 * the tombstone the server will return (text, mentions, attachments and reactions gone), a reaction the
 * user's own reaction added or removed. Applying a change the message already reflects changes nothing,
 * so the view does not jump when the server's entry arrives before the change leaves the outbox.
 */
export function withPendingChanges(
  messages: readonly Message[],
  changes: readonly OutboxMutationItem[],
  me: string | undefined,
): Message[] {
  if (changes.length === 0) return [...messages];
  return messages.map((message) => {
    let view = message;
    for (const change of changes) {
      if (change.channelId !== message.channelId || !('seq' in change.target)) continue;
      if (change.target.seq !== message.seq) continue;
      view = applyPendingChange(view, change, me);
    }
    return view;
  });
}

/** One pending change applied to one message. */
export function applyPendingChange(
  message: Message,
  change: OutboxMutationItem,
  me: string | undefined,
): Message {
  if (message.deletedAt !== undefined) return message;
  switch (change.kind) {
    case 'edit':
      return { ...message, text: change.text, mentions: change.mentions ?? message.mentions };
    case 'delete': {
      const { reactions: _reactions, attachments: _attachments, replyPreview: _preview, ...rest } = message;
      return {
        ...rest,
        text: '',
        mentions: [],
        deletedAt: change.createdAt,
        ...(me !== undefined ? { deletedBy: me } : {}),
      };
    }
    case 'react':
      return withMyReaction(message, change.emoji, change.add);
  }
}

/** The message with the user's own reaction `emoji` present (`add`) or absent; idempotent. */
function withMyReaction(message: Message, emoji: string, add: boolean): Message {
  const reactions: ReactionSummary[] = (message.reactions ?? []).map((r) => ({ ...r }));
  const summary = reactions.find((r) => r.emoji === emoji);
  if ((summary?.me ?? false) === add) return message;
  if (summary) {
    summary.count = Math.max(0, summary.count + (add ? 1 : -1));
    summary.me = add;
  } else reactions.push({ emoji, count: 1, me: true });
  const kept = reactions.filter((r) => r.count > 0);
  const { reactions: _old, ...rest } = message;
  return kept.length > 0 ? { ...rest, reactions: kept } : rest;
}
