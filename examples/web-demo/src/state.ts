/** The signed-in app's state: one mutable object, changed by the controller, drawn by the views. */
import type {
  CachedChannel,
  ConnectionStatus,
  MemberReceipt,
  Message,
  PendingMessage,
  PresenceInfo,
  ProtocolLimits,
  UserProfile,
} from '@natter/client';

/** The loaded part of a channel's history: contiguous messages by `seq`. */
export interface ChannelWindow {
  bySeq: Map<number, Message>;
  /** Older messages exist on the server. */
  hasMoreBefore: boolean;
  /** Newer messages exist (after a jump into the past); live messages are added only when false. */
  hasMoreAfter: boolean;
  loadingBefore: boolean;
  loadingAfter: boolean;
  /** The server answered at least once (else only cached messages are shown). */
  fromServer: boolean;
}

/** The side panel. */
export type Panel =
  | { kind: 'none' }
  | { kind: 'details' }
  | { kind: 'search'; query: string; results: Message[] | undefined; loading: boolean; error?: string }
  | { kind: 'mentions'; results: Message[] | undefined; loading: boolean; error?: string };

/** Everything the signed-in UI shows. */
export interface AppState {
  me: UserProfile;
  connection: ConnectionStatus;
  /** The browser's idea of the network (`navigator.onLine`, `online`/`offline` events). */
  networkOnline: boolean;
  /** When the next reconnect attempt is due, ms since the epoch. */
  reconnectAt: number | undefined;
  /** A session has been open at least once since start (no "reconnecting" banner during the first connect). */
  everOpen: boolean;
  /** The session ended (logout elsewhere, refused token): the UI offers to sign in again. */
  ended: string | undefined;
  channels: CachedChannel[];
  users: Map<string, UserProfile>;
  presence: Map<string, PresenceInfo>;
  /** channelId → userId → when the indicator expires (ms). */
  typing: Map<string, Map<string, number>>;
  /** channelId → userId → markers. */
  receipts: Map<string, Map<string, MemberReceipt>>;
  windows: Map<string, ChannelWindow>;
  /** Outbox messages by clientMsgId, with their latest status. */
  pending: Map<string, PendingMessage>;
  activeId: string | undefined;
  panel: Panel;
  /** A message to scroll to and highlight once it is rendered. */
  jump: { channelId: string; seq: number } | undefined;
  /** A short notice (errors of user actions), cleared after a few seconds. */
  notice: string | undefined;
  limits: ProtocolLimits;
  /** The status the user chose. */
  myStatus: 'online' | 'away' | 'invisible';
}

/** An empty window for a channel about to be loaded. */
export function emptyWindow(): ChannelWindow {
  return {
    bySeq: new Map(),
    hasMoreBefore: true,
    hasMoreAfter: false,
    loadingBefore: false,
    loadingAfter: false,
    fromServer: false,
  };
}

/** A window's messages, ascending by `seq`. */
export function windowMessages(window: ChannelWindow | undefined): Message[] {
  if (!window) return [];
  return [...window.bySeq.values()].sort((a, b) => a.seq - b.seq);
}
