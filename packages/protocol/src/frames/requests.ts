import type { ClientFrameOf, ClientFrameType } from './client.js';
import type { ServerFrameOf, ServerFrameType } from './server.js';

/**
 * Which server frame answers each client request. Frames not listed (`typing`, `received`) are
 * notifications: the server answers them only with an `error`. Any request may be answered with `error`.
 */
export const ANSWERS = {
  send: 'ack',
  sync: 'sync.page',
  history: 'history.page',
  ping: 'pong',
  read: 'read.ok',
  'presence.get': 'presence.list',
  status: 'status.ok',
  edit: 'mutated',
  delete: 'mutated',
  react: 'mutated',
  reactors: 'reactors.page',
} as const satisfies Partial<Record<ClientFrameType, ServerFrameType>>;

/** Client frames that expect an answer. */
export type RequestType = keyof typeof ANSWERS;

/** Client frames answered only when they fail. */
export type NotificationType = Exclude<ClientFrameType, RequestType>;

/** The answer frame of request `T`. */
export type AnswerOf<T extends RequestType> = ServerFrameOf<(typeof ANSWERS)[T]>;

/** A request frame without its `rid`, which the connection stamps. */
export type RequestFrame<T extends RequestType = RequestType> = T extends RequestType
  ? Omit<ClientFrameOf<T>, 'rid'>
  : never;

/** A notification frame without its `rid`. */
export type NotificationFrame<T extends NotificationType = NotificationType> = T extends NotificationType
  ? Omit<ClientFrameOf<T>, 'rid'>
  : never;

/** True when `t` is a request that has an answer frame. */
export function isRequestType(t: string): t is RequestType {
  return Object.hasOwn(ANSWERS, t);
}
