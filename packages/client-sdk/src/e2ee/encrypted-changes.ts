import type { Message, MessageEntry } from '@natter/protocol';
import type { ReactionEvent } from '../client-types.js';
import { applyReaction } from '../lifecycle-apply.js';
import type { EntrySource } from '../sync.js';
import type { EncryptedMessageInfo } from './encrypted-channels.js';

/** What applying an encrypted change needs: the cached messages and the client's events. */
export interface EncryptedChangeDeps {
  /** The cached message of a channel with this `clientMsgId`, if any. */
  find(channelId: string, clientMsgId: string): Promise<Message | undefined>;
  put(message: Message): Promise<void>;
  /** The signed-in user. */
  me(): string | undefined;
  edited(message: Message, pos: number, source: EntrySource, info: EncryptedMessageInfo): void;
  deleted(message: Message, pos: number, source: EntrySource, info: EncryptedMessageInfo): void;
  reaction(event: ReactionEvent): void;
}

/**
 * Applies an edit, delete or reaction that arrived encrypted to the cached message it names, and emits the
 * same events as for a plaintext channel. Only the author may edit or delete (the server cannot check what
 * it cannot read, so every device checks it); a change of a message this device never read is ignored
 * (it was sent before the device joined, or evicted from the cache).
 */
export async function applyEncryptedChange(
  deps: EncryptedChangeDeps,
  entry: MessageEntry,
  info: EncryptedMessageInfo,
  source: EntrySource,
): Promise<void> {
  const { payload } = info;
  if (payload.t === 'msg') return;
  const { message: carrier } = entry;
  const target = await deps.find(carrier.channelId, payload.target);
  if (!target || target.deletedAt !== undefined) return;
  switch (payload.t) {
    case 'edit': {
      if (target.senderId !== carrier.senderId) return;
      const edited: Message = {
        ...target,
        text: payload.text,
        editedAt: carrier.createdAt,
        version: (target.version ?? 1) + 1,
      };
      await deps.put(edited);
      deps.edited(edited, entry.pos, source, info);
      return;
    }
    case 'delete': {
      if (target.senderId !== carrier.senderId) return;
      const tombstone: Message = {
        ...target,
        text: '',
        mentions: [],
        deletedAt: carrier.createdAt,
        deletedBy: carrier.senderId,
      };
      await deps.put(tombstone);
      deps.deleted(tombstone, entry.pos, source, info);
      return;
    }
    case 'react': {
      const reaction = {
        pos: entry.pos,
        channelId: carrier.channelId,
        seq: target.seq,
        userId: carrier.senderId,
        emoji: payload.emoji,
        added: payload.add,
      };
      await deps.put(applyReaction(target, { kind: 'reaction', ...reaction }, deps.me()));
      deps.reaction({ ...reaction, source });
      return;
    }
  }
}
