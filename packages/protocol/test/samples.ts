import type { ClientFrameType, EntryKind, RouteName, ServerFrameType } from '../src/index.js';

/** Sample values for the round-trip test: one valid value of every frame, entry kind and HTTP body. */

const message = {
  id: '01JD0000000000000000000000',
  channelId: 'g_1',
  seq: 3,
  senderId: 'u_ada',
  clientMsgId: 'c_1',
  kind: 'text' as const,
  text: 'héllo 👋 wörld',
  mentions: ['u_bob'],
  system: null,
  createdAt: 1_700_000_000_000,
};
const attachment = {
  mediaId: 'm_1',
  kind: 'image' as const,
  mime: 'image/jpeg',
  size: 123_456,
  filename: 'photo.jpg',
  width: 2048,
  height: 1536,
  placeholder: 'HBkSHYSIeHiPiHh8eJd4eTN0EEQG',
  thumbnails: [{ size: 320, width: 320, height: 240 }],
};
const { mediaId: _mediaId, ...mediaFields } = attachment;
const media = {
  id: 'm_1',
  ...mediaFields,
  sha256: 'a'.repeat(64),
  sourceSha256: 'b'.repeat(64),
  expiresAt: 1_700_086_400_000,
};
const systemMessage = {
  ...message,
  seq: 1,
  clientMsgId: null,
  kind: 'system' as const,
  text: '',
  mentions: [],
  system: { action: 'created' as const, actorId: 'u_ada', name: 'Team', memberIds: ['u_ada', 'u_bob'] },
};
const channel = {
  id: 'g_1',
  kind: 'group' as const,
  name: 'Team',
  createdBy: 'u_ada',
  createdAt: 1_700_000_000_000,
  memberIds: ['u_ada', 'u_bob'],
};
const user = { id: 'u_ada', username: 'ada', displayName: 'Ada', createdAt: 1 };
const presence = { userId: 'u_bob', status: 'away' as const, lastActiveAt: 12 };
const entry = { pos: 7, kind: 'message' as const, message };
const limits = {
  maxMessageBytes: 16_384,
  maxFrameBytes: 65_536,
  sendsPerSecond: 20,
  sendBurst: 40,
  maxGroupMembers: 100,
  maxSyncPage: 500,
  maxHistoryPage: 200,
  heartbeatIntervalMs: 20_000,
  heartbeatTimeoutMs: 60_000,
  maxReactionEmojis: 20,
  editWindowMs: 0,
};
const reply = {
  ...message,
  seq: 4,
  id: '01JD0000000000000000000001',
  replyTo: 3,
  replyPreview: { senderId: 'u_ada', text: 'héllo', deleted: false },
  editedAt: 1_700_000_000_500,
  version: 2,
  reactions: [{ emoji: '👍🏽', count: 2, me: true }],
};
const tombstone = {
  ...message,
  text: '',
  mentions: [],
  deletedAt: 1_700_000_000_900,
  deletedBy: 'u_ada',
  threadReplies: 2,
  threadLastReplyAt: 1_700_000_000_800,
};
const session = { user, deviceId: 'dev_1', accessToken: 'a.b.c', refreshToken: 'r', expiresAt: 2 };

export const CLIENT_FRAME_SAMPLES: Record<ClientFrameType, object> = {
  send: {
    t: 'send',
    rid: 1,
    channelId: 'g_1',
    clientMsgId: 'c_1',
    text: 'hi',
    mentions: ['u_bob'],
    attachments: [{ mediaId: 'm_1' }],
  },
  sync: { t: 'sync', rid: 2, epoch: 'e1', after: 5, limit: 100 },
  history: { t: 'history', rid: 3, channelId: 'g_1', around: 4, limit: 10 },
  ping: { t: 'ping', rid: 4 },
  typing: { t: 'typing', rid: 5, channelId: 'g_1', active: false },
  read: { t: 'read', rid: 6, channelId: 'g_1', seq: 3 },
  received: { t: 'received', rid: 7, channelId: 'g_1', seq: 3 },
  'presence.get': { t: 'presence.get', rid: 8, userIds: ['u_bob'] },
  status: { t: 'status', rid: 9, status: 'invisible' },
  edit: { t: 'edit', rid: 10, clientId: 'm_1', channelId: 'g_1', seq: 3, text: 'fixed', mentions: [] },
  delete: { t: 'delete', rid: 11, clientId: 'm_2', channelId: 'g_1', seq: 3 },
  react: { t: 'react', rid: 12, clientId: 'm_3', channelId: 'g_1', seq: 3, emoji: '👨‍👩‍👧', op: 'add' },
  reactors: { t: 'reactors', rid: 13, channelId: 'g_1', seq: 3, emoji: '👍', after: 'u_ada', limit: 20 },
};

export const SERVER_FRAME_SAMPLES: Record<ServerFrameType, object> = {
  hello: {
    t: 'hello',
    protocol: 1,
    userId: 'u_ada',
    deviceId: 'dev_1',
    sessionId: 's',
    epoch: 'e1',
    head: 7,
    limits,
    serverTime: 5,
  },
  ack: { t: 'ack', rid: 1, entry, duplicate: false },
  msg: { t: 'msg', entry: { pos: 1, kind: 'message', message: systemMessage } },
  'sync.page': { t: 'sync.page', rid: 2, epoch: 'e1', entries: [entry], head: 7, hasMore: false },
  'history.page': {
    t: 'history.page',
    rid: 3,
    channelId: 'g_1',
    messages: [systemMessage, message, reply, tombstone],
    hasMoreBefore: false,
    hasMoreAfter: true,
  },
  pong: { t: 'pong', rid: 4, serverTime: 9 },
  error: { t: 'error', rid: 5, code: 'NATTER_RATE_LIMITED', message: 'slow down', retryAfterMs: 250 },
  presence: { t: 'presence', user: presence },
  'presence.list': { t: 'presence.list', rid: 6, users: [presence] },
  'status.ok': { t: 'status.ok', rid: 7, status: 'away' },
  typing: { t: 'typing', channelId: 'g_1', userId: 'u_bob', active: true, expiresInMs: 5_000 },
  'read.ok': { t: 'read.ok', rid: 8, channelId: 'g_1', readSeq: 3, unread: 0 },
  receipt: { t: 'receipt', channelId: 'g_1', userId: 'u_bob', readSeq: 3, deliveredSeq: 3 },
  mutated: { t: 'mutated', rid: 9, entry: { pos: 8, kind: 'edited', message: reply }, duplicate: true },
  'reactors.page': { t: 'reactors.page', rid: 10, userIds: ['u_bob'], hasMore: false },
};

export const ENTRY_SAMPLES: Record<EntryKind, object> = {
  message: entry,
  edited: { pos: 8, kind: 'edited', message: reply },
  deleted: { pos: 9, kind: 'deleted', message: tombstone },
  reaction: {
    pos: 10,
    kind: 'reaction',
    channelId: 'g_1',
    seq: 3,
    userId: 'u_bob',
    emoji: '🎉',
    added: true,
  },
};

const report = {
  id: 'rep_1',
  reporterId: 'u_ada',
  userId: 'u_bob',
  reason: 'spam' as const,
  note: 'ads',
  message: {
    id: message.id,
    channelId: 'g_1',
    seq: 3,
    senderId: 'u_bob',
    text: 'buy now',
    createdAt: 1_700_000_000_000,
    attachments: 0,
  },
  createdAt: 1_700_000_000_100,
  status: 'open' as const,
};
const resolvedReport = {
  ...report,
  status: 'resolved' as const,
  resolution: { outcome: 'actioned' as const, note: 'banned', resolvedAt: 1_700_000_000_200 },
};

const B64 = 'AAEC';
const device = { userId: 'u_bob', deviceId: 'dev_2', signaturePublicKey: B64, createdAt: 1_700_000_000_000 };
const commitMessage = {
  ...message,
  seq: 12,
  clientMsgId: null,
  kind: 'system' as const,
  text: '',
  mentions: [],
  system: {
    action: 'mls_commit' as const,
    actorId: 'u_ada',
    deviceId: 'dev_1',
    epoch: 4,
    commit: B64,
    added: [{ userId: 'u_bob', deviceId: 'dev_2' }],
    removed: [],
  },
};
const encryptedMessage = {
  ...message,
  seq: 13,
  clientMsgId: 'c_9',
  kind: 'system' as const,
  text: '',
  mentions: [],
  system: { action: 'mls_message' as const, actorId: 'u_ada', deviceId: 'dev_1', ciphertext: B64 },
};

/** Request and response bodies by route (only the ones the route has). */
export const ROUTE_SAMPLES: Record<RouteName, { body?: object; response?: object }> = {
  signup: { body: { username: 'ada', password: 'correct horse', displayName: 'Ada' }, response: session },
  login: { body: { username: 'ada', password: 'x', deviceId: 'dev_1' }, response: session },
  refresh: { body: { refreshToken: 'r' }, response: session },
  changePassword: { body: { currentPassword: 'x', newPassword: 'a much better one' }, response: session },
  logout: { body: { allDevices: true } },
  me: { response: { user } },
  updateProfile: { body: { displayName: 'Ada L.' }, response: { user } },
  searchUsers: { response: { users: [user] } },
  getUser: { response: { user } },
  listChannels: {
    response: {
      channels: [
        {
          ...channel,
          lastSeq: 3,
          lastMessage: { ...message, attachments: [attachment] },
          readSeq: 1,
          unread: 2,
        },
      ],
    },
  },
  openDirect: {
    body: { userId: 'u_bob' },
    response: { channel: { ...channel, id: 'd_1', kind: 'direct', name: null } },
  },
  getChannel: { response: { channel } },
  history: { response: { messages: [message], hasMoreBefore: true, hasMoreAfter: false } },
  receipts: { response: { receipts: [{ userId: 'u_bob', readSeq: 2, deliveredSeq: 3 }] } },
  markRead: { body: { seq: 3 }, response: { readSeq: 3, unread: 0 } },
  setMuted: { body: { muted: true }, response: { channelId: 'g_1', muted: true } },
  mentions: { response: { messages: [message] } },
  search: { response: { messages: [message] } },
  presence: { response: { users: [presence] } },
  vapidKey: { response: { publicKey: 'BPk' } },
  registerPush: {
    body: {
      kind: 'webpush',
      endpoint: 'https://push.example/abc',
      keys: {
        p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
        auth: 'tBHItJI5svbpez7KI4CCXg',
      },
    },
  },
  removePush: {},
  createGroup: { body: { name: 'Team', memberIds: ['u_bob'] }, response: { channel } },
  renameGroup: { body: { name: 'Team 2' }, response: { channel } },
  addMembers: { body: { userIds: ['u_cat'] }, response: { channel } },
  removeMember: {},
  leaveGroup: {},
  discovery: {
    response: {
      wsUrl: 'wss://a.example/v1/ws',
      region: 'eu',
      candidates: [
        {
          nodeId: 'n1',
          wsUrl: 'wss://a.example/v1/ws',
          pingUrl: 'https://a.example/v1/ping',
          region: 'eu',
          load: 0.5,
        },
      ],
    },
  },
  ping: { response: { nodeId: 'n1', region: 'eu', status: 'ok' } },
  openApi: { response: { openapi: '3.1.0', paths: {} } },
  uploadMedia: { response: media },
  getMedia: {},
  getThumbnail: {},
  mediaUrl: {
    body: { thumbnailSize: 320, ttlMs: 60_000 },
    response: { url: '/v1/media/m_1/thumbnail?size=320&exp=1&sig=abc', expiresAt: 1_700_000_060_000 },
  },
  serverCreateUser: {
    body: { id: 'u_ada', username: 'ada', displayName: 'Ada' },
    response: { user },
  },
  serverUpdateUser: { body: { displayName: 'Ada L.' }, response: { user } },
  serverDeactivateUser: { response: { user: { ...user, deactivatedAt: 1_700_000_000_500 } } },
  serverReactivateUser: { response: { user } },
  serverIssueTokens: { body: { deviceId: 'dev_1' }, response: session },
  serverCreateChannel: {
    body: { kind: 'group', name: 'Team', ownerId: 'u_ada', memberIds: ['u_bob'] },
    response: { channel },
  },
  serverAddMembers: { body: { userIds: ['u_cat'] }, response: { channel } },
  serverRemoveMember: {},
  serverPostMessage: {
    body: { text: 'Ada started a call', system: true, clientMsgId: 'c_2' },
    response: {
      message: {
        ...systemMessage,
        text: 'Ada started a call',
        system: { action: 'notice' as const, actorId: 'app' },
      },
    },
  },
  serverEvents: {
    response: {
      events: [
        {
          id: 'evt_01JD0000000000000000000000',
          type: 'message.created',
          createdAt: 1_700_000_000_000,
          data: { message },
        },
        {
          id: 'evt_01JD0000000000000000000002',
          type: 'user.reported',
          createdAt: 1_700_000_000_002,
          data: {
            reportId: 'rep_1',
            reporterId: 'u_ada',
            userId: 'u_bob',
            channelId: 'g_1',
            messageId: message.id,
            seq: 3,
            reason: 'spam',
          },
        },
        {
          id: 'evt_01JD0000000000000000000001',
          type: 'member.removed',
          createdAt: 1_700_000_000_001,
          data: { channelId: 'g_1', actorId: 'app', userId: 'u_bob', left: false },
        },
      ],
      hasMore: false,
    },
  },
  listBlocks: { response: { blocks: [{ userId: 'u_bob', createdAt: 1_700_000_000_000 }] } },
  blockUser: {},
  unblockUser: {},
  report: {
    body: { target: { kind: 'message', channelId: 'g_1', seq: 3 }, reason: 'spam', note: 'ads' },
    response: { report },
  },
  listBans: { response: { bans: [{ userId: 'u_cat', bannedBy: 'u_ada', createdAt: 1_700_000_000_000 }] } },
  banMember: {},
  unbanMember: {},
  setSlowMode: { body: { seconds: 30 }, response: { channel: { ...channel, slowModeSeconds: 30 } } },
  publishDevice: { body: { signaturePublicKey: B64 }, response: { device } },
  listDevices: { response: { devices: [device] } },
  revokeDevice: {},
  uploadKeyPackages: {
    body: { keyPackages: [B64, B64], lastResort: B64 },
    response: { remaining: 2, hasLastResort: true, low: true },
  },
  keyPackageStock: { response: { remaining: 40, hasLastResort: true, low: false } },
  claimKeyPackages: {
    body: { channelId: 'g_1', devices: [{ userId: 'u_bob', deviceId: 'dev_2' }] },
    response: { keyPackages: [{ userId: 'u_bob', deviceId: 'dev_2', keyPackage: B64, lastResort: false }] },
  },
  groupInfo: { response: { epoch: 3, groupInfo: B64 } },
  commit: {
    body: {
      commit: B64,
      groupInfo: B64,
      welcome: B64,
      added: [{ userId: 'u_bob', deviceId: 'dev_2' }],
      removed: [],
    },
    response: { message: commitMessage, epoch: 4 },
  },
  sendEncrypted: {
    body: { clientMsgId: 'c_9', ciphertext: B64 },
    response: { message: encryptedMessage },
  },
  readQueue: {
    response: {
      welcomes: [{ id: 'q_1', channelId: 'g_1', seq: 12, welcome: B64, createdAt: 1_700_000_000_000 }],
    },
  },
  ackQueued: {},
  serverListReports: { response: { reports: [report, resolvedReport], hasMore: false } },
  serverResolveReport: {
    body: { outcome: 'actioned', note: 'banned' },
    response: { report: resolvedReport },
  },
};
