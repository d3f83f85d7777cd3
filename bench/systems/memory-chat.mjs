import { randomBytes } from 'node:crypto';
import { range } from './setup-plan.mjs';

/**
 * The in-memory chat state the two baselines (bare ws relay, Socket.IO) share: opaque tokens, channel
 * membership, per-channel seq and per-user positions. No persistence: that is what makes them baselines.
 * Users and channels follow the same setup plan as natter (see setup-plan.mjs).
 */
export class MemoryChat {
  constructor() {
    this.tokens = new Map(); // token -> userId
    this.members = new Map(); // channelId -> userIds
    this.lastSeq = new Map(); // channelId -> seq
    this.heads = new Map(); // userId -> last position
    this.logs = undefined; // userId -> entries, only when a scenario needs sync (catch-up)
    this.nextMessage = 0;
  }

  setup(plan) {
    const users = range(plan.users).map((i) => {
      const id = `u${i}`;
      const token = randomBytes(24).toString('base64url');
      this.tokens.set(token, id);
      return { id, token, deviceId: `dev${i}` };
    });
    const direct = range(plan.directPairs ?? 0).map((i) =>
      this.addChannel(`d${i}`, [users[2 * i].id, users[2 * i + 1].id]),
    );
    const groups = plan.group
      ? [
          this.addChannel(
            'g0',
            users.slice(0, plan.group).map((u) => u.id),
          ),
        ]
      : [];
    return { users, direct, groups };
  }

  addChannel(id, userIds) {
    this.members.set(id, userIds);
    this.lastSeq.set(id, 0);
    return id;
  }

  /** Stores nothing but the counters; returns the message and each member's position, like an append. */
  append(senderId, channelId, clientMsgId, text) {
    const members = this.members.get(channelId);
    if (!members?.includes(senderId)) return undefined;
    const seq = this.lastSeq.get(channelId) + 1;
    this.lastSeq.set(channelId, seq);
    const message = {
      id: `m${++this.nextMessage}`,
      channelId,
      seq,
      senderId,
      clientMsgId,
      kind: 'text',
      text,
      mentions: [],
      system: null,
      createdAt: Date.now(),
    };
    const positions = members.map((userId) => {
      const pos = (this.heads.get(userId) ?? 0) + 1;
      this.heads.set(userId, pos);
      const entry = { pos, kind: 'message', message };
      this.logs?.get(userId)?.push(entry) ?? this.logs?.set(userId, [entry]);
      return { userId, entry };
    });
    return { message, positions };
  }
}
