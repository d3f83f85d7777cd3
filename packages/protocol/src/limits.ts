/** Limits a server enforces; sent to clients in the `hello` frame so they can check before sending. */
export interface ProtocolLimits {
  /** Largest message text, in UTF-8 bytes. @default 16384 */
  maxMessageBytes: number;
  /** Largest WebSocket frame, in bytes (`ws` maxPayload). @default 65536 */
  maxFrameBytes: number;
  /** Sustained sends per second per connection. @default 20 */
  sendsPerSecond: number;
  /** Burst of sends allowed above the sustained rate. @default 40 */
  sendBurst: number;
  /** Largest group, in members. @default 100 */
  maxGroupMembers: number;
  /** Most entries a `sync` page returns. @default 500 */
  maxSyncPage: number;
  /** Most messages a `history` page returns. @default 200 */
  maxHistoryPage: number;
  /** Interval at which clients should ping, in ms. @default 20000 */
  heartbeatIntervalMs: number;
  /** Silence after which the server closes a connection with 4008, in ms. @default 60000 */
  heartbeatTimeoutMs: number;
}

/** The defaults of {@link ProtocolLimits}. */
export const DEFAULT_LIMITS: Readonly<ProtocolLimits> = Object.freeze({
  maxMessageBytes: 16 * 1024,
  maxFrameBytes: 64 * 1024,
  sendsPerSecond: 20,
  sendBurst: 40,
  maxGroupMembers: 100,
  maxSyncPage: 500,
  maxHistoryPage: 200,
  heartbeatIntervalMs: 20_000,
  heartbeatTimeoutMs: 60_000,
});

/** Bounds on identifiers and names accepted anywhere in the protocol. */
export const ID_LIMITS = Object.freeze({
  /** Longest id (user, channel, device, client message id). */
  maxIdLength: 64,
  /** Longest display or group name, in characters. */
  maxNameLength: 100,
  /** Most @-mentions in one message. */
  maxMentions: 50,
});
