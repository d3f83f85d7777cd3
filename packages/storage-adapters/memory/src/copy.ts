import type { Message } from '@natter/protocol';

/**
 * Deep copy of a message. The store never hands out or keeps objects a caller can still mutate,
 * so it behaves like a real database (a caller editing a returned message changes nothing stored).
 */
export function copyMessage(message: Message): Message {
  return structuredClone(message);
}

/** Shallow copy of a flat record (users, channels, members, tokens). */
export function copyRecord<T extends object>(record: T): T {
  return { ...record };
}

/** `copyRecord` that passes `undefined` through. */
export function copyOptional<T extends object>(record: T | undefined): T | undefined {
  return record === undefined ? undefined : { ...record };
}
