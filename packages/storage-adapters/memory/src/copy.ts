import type { Message, SystemEvent } from '@natter/protocol';

/**
 * Deep copy of a message. The store never hands out or keeps objects a caller can still mutate,
 * so it behaves like a real database (a caller editing a returned message changes nothing stored).
 * Written out field by field: `structuredClone` cost more than the rest of an append together.
 */
export function copyMessage<M extends Omit<Message, 'seq'>>(message: M): M {
  return {
    ...message,
    mentions: [...message.mentions],
    system: message.system === null ? null : copySystemEvent(message.system),
    ...(message.attachments ? { attachments: structuredClone(message.attachments) } : {}),
  };
}

/** Deep copy of a system event (flat, but for its `memberIds` array). */
function copySystemEvent(event: SystemEvent): SystemEvent {
  return 'memberIds' in event ? { ...event, memberIds: [...event.memberIds] } : { ...event };
}

/** Shallow copy of a flat record (users, channels, members, tokens). */
export function copyRecord<T extends object>(record: T): T {
  return { ...record };
}

/** `copyRecord` that passes `undefined` through. */
export function copyOptional<T extends object>(record: T | undefined): T | undefined {
  return record === undefined ? undefined : { ...record };
}
