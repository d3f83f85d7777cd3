import { type EventInput, type Message, type NatterEvent, newId, type SystemEvent } from '@natter/protocol';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';
import type { Delivery } from '../ports/delivery.js';
import type { EventSink } from '../ports/events.js';

/** Dependencies of {@link ServerEvents}. */
export interface ServerEventsOptions {
  sink: EventSink | undefined;
  logger: Logger;
  metrics: NatterMetrics;
  now: () => number;
}

/**
 * The one events hook of a node. Committed messages become events on their own (`fromDeliveries`: new
 * messages, channels and membership changes, and edits and deletes, which reach devices as sync entries
 * too); a part that commits something with no sync entry (a report, say) calls `emit` after its commit.
 * Events get a unique, time-sortable id here and go to the configured sink (event webhooks); without one,
 * nothing is kept.
 */
export class ServerEvents {
  constructor(private readonly options: ServerEventsOptions) {}

  /** True when a sink is configured (events are recorded). */
  get enabled(): boolean {
    return this.options.sink !== undefined;
  }

  /** Emits events after their commit. Never throws: an event sink's failure must not fail the change. */
  emit(...inputs: EventInput[]): void {
    const { sink, now, logger, metrics } = this.options;
    if (!sink || inputs.length === 0) return;
    const createdAt = now();
    const events = inputs.map(
      (input) => ({ ...input, id: `evt_${newId(createdAt)}`, createdAt }) as NatterEvent,
    );
    try {
      sink.publish(events);
    } catch (err) {
      metrics.errors.inc({ code: 'events_publish_failed' });
      logger.error({ err, types: inputs.map((i) => i.type) }, 'event sink failed; events lost');
    }
  }

  /** The events of one commit's deliveries: one per committed entry, however many recipients it has. */
  fromDeliveries(deliveries: readonly Delivery[]): void {
    if (!this.options.sink || deliveries.length === 0) return;
    const seen = new Set<string>();
    const inputs: EventInput[] = [];
    for (const { entry } of deliveries) {
      if (!('message' in entry)) continue;
      // Every recipient gets the same entry (with their own pos): one event per entry kind and message.
      const kind: string = entry.kind;
      const key = `${kind}:${entry.message.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const input = eventOf(kind, entry.message);
      if (input) inputs.push(input);
    }
    this.emit(...inputs);
  }
}

/** The event a committed entry means, if any. */
function eventOf(kind: string, message: Message): EventInput | undefined {
  if (kind === 'edited') return { type: 'message.edited', data: { message } };
  if (kind === 'deleted') return { type: 'message.deleted', data: { message } };
  if (kind !== 'message') return undefined;
  if (message.kind === 'text' || message.system?.action === 'notice') {
    return { type: 'message.created', data: { message } };
  }
  return message.system ? systemEventOf(message.channelId, message.createdAt, message.system) : undefined;
}

function systemEventOf(channelId: string, createdAt: number, system: SystemEvent): EventInput | undefined {
  switch (system.action) {
    case 'created':
      return {
        type: 'channel.created',
        data: {
          channel: {
            id: channelId,
            // Groups always have a name; a direct channel never has one.
            kind: system.name === null ? 'direct' : 'group',
            name: system.name,
            createdBy: system.actorId,
            createdAt,
            memberIds: system.memberIds,
          },
        },
      };
    case 'members_added':
      return {
        type: 'member.added',
        data: { channelId, actorId: system.actorId, userIds: system.memberIds },
      };
    case 'member_removed':
      return {
        type: 'member.removed',
        data: { channelId, actorId: system.actorId, userId: system.memberId, left: false },
      };
    case 'member_left':
      return {
        type: 'member.removed',
        data: { channelId, actorId: system.actorId, userId: system.actorId, left: true },
      };
    default:
      return undefined;
  }
}
