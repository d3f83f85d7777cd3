import type { Message, ReactionSummary } from '@natter/protocol';
import type { SimWorld } from './sim-world.js';

/** What a device shows of one message, and what the store says it should: compared field by field. */
interface View {
  text: string;
  deleted: boolean;
  version: number;
  reactions: string;
  threadReplies: number;
}

function reactionsKey(reactions: readonly ReactionSummary[] | undefined): string {
  return [...(reactions ?? [])]
    .sort((a, b) => (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0))
    .map((r) => `${r.emoji}×${r.count}${r.me ? '(me)' : ''}`)
    .join(' ');
}

function viewOf(message: Message, reactions: readonly ReactionSummary[] | undefined): View {
  return {
    text: message.text,
    deleted: message.deletedAt !== undefined,
    version: message.version ?? 1,
    reactions: reactionsKey(reactions),
    threadReplies: message.threadReplies ?? 0,
  };
}

/** Every message of a channel as stored, ascending by seq. */
async function storedMessages(world: SimWorld, channelId: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const page = await world.disk.chat.readHistory(channelId, {
      after: out.at(-1)?.seq ?? 0,
      limit: 500,
      minSeq: 1,
    });
    out.push(...page.messages);
    if (!page.hasMoreAfter || page.messages.length === 0) return out;
  }
}

/**
 * Every device's final view equals the store's: for each message of each of its channels, the cached copy
 * (what `cachedMessages()` shows, built only from the entries the device applied) has the stored text,
 * deleted state, version, reactions (counts and whether the user reacted) and thread reply count. A device
 * that applied an entry twice (a reaction counted twice) or missed one (a deleted message still showing its
 * text) differs here.
 */
export async function checkViews(world: SimWorld): Promise<string[]> {
  const violations: string[] = [];
  const lifecycle = world.disk.chat.lifecycle;
  for (const channel of world.channels) {
    const stored = await storedMessages(world, channel.id);
    const seqs = stored.map((m) => m.seq);
    for (const userId of channel.memberIds) {
      const reactions = lifecycle ? await lifecycle.reactionsOf(channel.id, seqs, userId) : new Map();
      const want = new Map(stored.map((m) => [m.seq, viewOf(m, reactions.get(m.seq))]));
      for (const device of world.devices.filter((d) => d.userId === userId)) {
        if (!device.client) continue; // reported by the delivery checks
        // The device's store, read directly: the client's view of it waits on simulated time. With nothing
        // pending at the end, `cachedMessages()` shows exactly this.
        const cached = await device.disk.getMessages(channel.id, { limit: 10_000 });
        const got = new Map(cached.map((m) => [m.seq, viewOf(m, m.reactions)]));
        for (const [seq, expected] of want) {
          const actual = got.get(seq);
          const same = actual && JSON.stringify(actual) === JSON.stringify(expected);
          if (!same && violations.length < 10) {
            violations.push(
              `${device.key}: view of ${channel.id}#${seq} is ${JSON.stringify(actual ?? 'missing')}, ` +
                `the store has ${JSON.stringify(expected)}`,
            );
          }
        }
        if (got.size !== want.size && violations.length < 10) {
          violations.push(
            `${device.key}: caches ${got.size} messages of ${channel.id}, the store has ${want.size}`,
          );
        }
      }
    }
  }
  return violations;
}
