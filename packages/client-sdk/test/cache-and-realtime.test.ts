import { type ChannelSummary, ErrorCode, type ServerFrame, type SystemEvent } from '@natter/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyMessageToChannel, ChatCache } from '../src/cache.js';
import type { RequestSender } from '../src/connection.js';

/** Any frame the client sends, without its request id, read loosely by the fakes. */
type OutgoingFrame = { t: string } & Record<string, unknown>;

import type { HttpClient } from '../src/http.js';
import { Realtime, type TypingEvent } from '../src/presence.js';
import { MemoryStore } from '../src/stores/memory.js';
import { entry, message } from './helpers/fake-network.js';

const group: ChannelSummary = {
  id: 'g_1',
  kind: 'group',
  name: 'team',
  createdBy: 'u_1',
  createdAt: 1,
  memberIds: ['u_1', 'u_2'],
  lastSeq: 3,
  lastMessage: null,
  readSeq: 3,
  unread: 0,
};

const system = (seq: number, event: SystemEvent) =>
  message('g_1', seq, { kind: 'system', text: '', system: event, senderId: event.actorId });

describe('applyMessageToChannel', () => {
  it('moves lastSeq and lastMessage and counts unread messages of others', () => {
    const next = applyMessageToChannel(group, message('g_1', 4, { senderId: 'u_2' }), 'u_1');
    expect(next).toMatchObject({ lastSeq: 4, unread: 1, lastMessage: { seq: 4 } });
    const mine = applyMessageToChannel(next!, message('g_1', 5, { senderId: 'u_1' }), 'u_1');
    expect(mine).toMatchObject({ lastSeq: 5, unread: 1 });
  });

  it('applies renames and membership changes', () => {
    expect(
      applyMessageToChannel(group, system(4, { action: 'renamed', actorId: 'u_2', name: 'new' }), 'u_1')
        ?.name,
    ).toBe('new');
    expect(
      applyMessageToChannel(
        group,
        system(4, { action: 'members_added', actorId: 'u_2', memberIds: ['u_3'] }),
        'u_1',
      )?.memberIds,
    ).toEqual(['u_1', 'u_2', 'u_3']);
    expect(
      applyMessageToChannel(
        group,
        system(4, { action: 'member_removed', actorId: 'u_1', memberId: 'u_2' }),
        'u_1',
      )?.memberIds,
    ).toEqual(['u_1']);
    expect(
      applyMessageToChannel(group, system(4, { action: 'member_left', actorId: 'u_2' }), 'u_1')?.memberIds,
    ).toEqual(['u_1']);
  });

  it('drops the channel when the user is removed or leaves', () => {
    expect(
      applyMessageToChannel(
        group,
        system(4, { action: 'member_removed', actorId: 'u_2', memberId: 'u_1' }),
        'u_1',
      ),
    ).toBeNull();
    expect(
      applyMessageToChannel(group, system(4, { action: 'member_left', actorId: 'u_1' }), 'u_1'),
    ).toBeNull();
  });

  it('creates a channel from its created event, and ignores other messages of unknown channels', () => {
    const created = applyMessageToChannel(
      undefined,
      message('d_1', 1, {
        kind: 'system',
        system: { action: 'created', actorId: 'u_2', name: null, memberIds: ['u_1', 'u_2'] },
      }),
      'u_1',
    );
    expect(created).toMatchObject({ id: 'd_1', kind: 'direct', memberIds: ['u_1', 'u_2'], lastSeq: 1 });
    expect(applyMessageToChannel(undefined, message('x_1', 5), 'u_1')).toBeUndefined();
  });

  it('ignores events the channel already reflects (replays never roll it back)', () => {
    expect(
      applyMessageToChannel(group, system(2, { action: 'renamed', actorId: 'u_2', name: 'old' }), 'u_1'),
    ).toBeUndefined();
  });
});

describe('ChatCache', () => {
  it('commits messages, channel changes and the cursor together, and reloads them', async () => {
    const store = new MemoryStore();
    const cache = new ChatCache(store, () => 'u_1');
    await cache.replaceChannels([{ ...group, lastMessage: null }]);
    await cache.commitEntries(
      [
        entry(1, 'g_1', 4),
        { pos: 2, kind: 'message', message: system(5, { action: 'member_left', actorId: 'u_1' }) },
      ],
      { epoch: 'E', pos: 2 },
    );
    expect(cache.getChannel('g_1')).toBeUndefined();
    expect(await store.getCursor()).toEqual({ epoch: 'E', pos: 2 });
    const reloaded = new ChatCache(store, () => 'u_1');
    await reloaded.load();
    expect(reloaded.listChannels()).toEqual([]);
    expect((await reloaded.getMessages('g_1')).map((m) => m.seq)).toEqual([4, 5]);
  });
});

describe('ChatCache: channels the user joins', () => {
  const added = (channelId: string, seq: number, memberIds: string[]) =>
    message(channelId, seq, {
      kind: 'system',
      text: '',
      senderId: 'u_2',
      system: { action: 'members_added', actorId: 'u_2', memberIds },
    });
  const setup = () => {
    const joined: string[][] = [];
    const events: [string, string][] = [];
    const store = new MemoryStore();
    const cache = new ChatCache(store, () => 'u_1', {
      onJoined: (ids) => joined.push(ids),
      onChannelAdded: (channel, reason) => events.push([channel.id, reason]),
    });
    return { cache, store, joined, events };
  };

  it('asks for a channel the user was added to that it does not know, and adds it once fetched', async () => {
    const { cache, store, joined, events } = setup();
    await cache.commitEntries(
      [
        { pos: 1, kind: 'message', message: added('g_9', 4, ['u_1', 'u_3']) },
        entry(2, 'g_9', 5),
        // Someone else added to a group the user is not in (cannot happen in a real log) is not a join.
        { pos: 3, kind: 'message', message: added('g_8', 2, ['u_4']) },
      ],
      { epoch: 'E', pos: 3 },
    );
    expect(joined).toEqual([['g_9']]);
    expect(cache.getChannel('g_9')).toBeUndefined();
    const fetched = {
      id: 'g_9',
      kind: 'group' as const,
      name: 'ops',
      createdBy: 'u_2',
      createdAt: 1,
      memberIds: ['u_1', 'u_2', 'u_3'],
    };
    const channel = await cache.adoptJoined(fetched);
    // The newest message sync delivered meanwhile, so later entries apply on top.
    expect(channel).toMatchObject({ id: 'g_9', name: 'ops', lastSeq: 5 });
    expect(cache.listChannels().map((c) => c.id)).toEqual(['g_9']);
    expect((await store.getChannels()).map((c) => c.id)).toEqual(['g_9']);
    expect(events).toEqual([['g_9', 'joined']]);
    await cache.commitEntries([entry(4, 'g_9', 6)], { epoch: 'E', pos: 4 });
    expect(cache.getChannel('g_9')?.lastSeq).toBe(6);
    // A second answer for the same channel changes nothing.
    expect(await cache.adoptJoined(fetched)).toBeUndefined();
  });

  it('does not add a joined channel the user has left since, nor one the channel list brought', async () => {
    const { cache, joined } = setup();
    await cache.commitEntries(
      [
        { pos: 1, kind: 'message', message: added('g_9', 4, ['u_1']) },
        { pos: 2, kind: 'message', message: added('g_7', 1, ['u_1']) },
      ],
      { epoch: 'E', pos: 2 },
    );
    expect(joined).toEqual([['g_9', 'g_7']]);
    const left = message('g_9', 5, {
      kind: 'system',
      text: '',
      senderId: 'u_1',
      system: { action: 'member_left', actorId: 'u_1' },
    });
    await cache.commitEntries([{ pos: 3, kind: 'message', message: left }], { epoch: 'E', pos: 3 });
    expect(await cache.adoptJoined({ ...group, id: 'g_9' })).toBeUndefined();
    await cache.replaceChannels([{ ...group, id: 'g_7', lastSeq: 1 }]);
    expect(await cache.adoptJoined({ ...group, id: 'g_7', name: 'stale' })).toBeUndefined();
    expect(cache.listChannels().map((c) => [c.id, c.name])).toEqual([['g_7', 'team']]);
    // Removed before the first fetch in one batch: never asked for.
    await cache.commitEntries(
      [
        { pos: 4, kind: 'message', message: added('g_6', 1, ['u_1']) },
        { pos: 5, kind: 'message', message: { ...left, channelId: 'g_6', seq: 2 } },
      ],
      { epoch: 'E', pos: 5 },
    );
    expect(joined).toHaveLength(1);
  });

  it('announces a channel created through sync at once', async () => {
    const { cache, events, joined } = setup();
    const created = message('g_5', 1, {
      kind: 'system',
      text: '',
      senderId: 'u_2',
      system: { action: 'created', actorId: 'u_2', name: 'new', memberIds: ['u_1', 'u_2'] },
    });
    await cache.commitEntries([{ pos: 1, kind: 'message', message: created }], { epoch: 'E', pos: 1 });
    expect(cache.getChannel('g_5')).toMatchObject({ name: 'new', kind: 'group' });
    expect(events).toEqual([['g_5', 'created']]);
    expect(joined).toEqual([]);
  });
});

describe('Realtime', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(open = true) {
    const notified: OutgoingFrame[] = [];
    const requested: OutgoingFrame[] = [];
    const typing: TypingEvent[] = [];
    const cache = new ChatCache(new MemoryStore(), () => 'u_1');
    const http = { markRead: vi.fn(async () => ({ readSeq: 9, unread: 0 })) } as unknown as HttpClient;
    const realtime = new Realtime({
      request: (async (frame: OutgoingFrame): Promise<ServerFrame> => {
        requested.push(frame);
        if (frame.t === 'read')
          return {
            t: 'read.ok',
            rid: 0,
            channelId: frame.channelId as string,
            readSeq: frame.seq as number,
            unread: 2,
          };
        if (frame.t === 'status') return { t: 'status.ok', rid: 0, status: frame.status as 'away' };
        return { t: 'error', rid: 0, code: ErrorCode.BAD_REQUEST, message: 'x' };
      }) as RequestSender,
      notify: (frame) => {
        if (!open) return false;
        notified.push(frame);
        return true;
      },
      isOpen: () => open,
      userId: () => 'u_1',
      http,
      cache,
      deliveryReceipts: true,
      onTyping: (e) => typing.push(e),
      onPresence: () => {},
      onReceipt: () => {},
      onError: (err) => {
        throw err;
      },
    });
    return { realtime, notified, requested, typing, cache, http };
  }

  it('throttles typing signals to one per 3 s per channel and always sends a stop', () => {
    const { realtime, notified } = setup();
    realtime.setTyping('g_1', true, 0);
    realtime.setTyping('g_1', true, 1_000);
    realtime.setTyping('g_2', true, 1_000);
    realtime.setTyping('g_1', true, 3_000);
    realtime.setTyping('g_1', false, 3_100);
    realtime.setTyping('g_1', false, 3_200);
    expect(notified.map((f) => `${f.channelId}:${f.active}`)).toEqual([
      'g_1:true',
      'g_2:true',
      'g_1:true',
      'g_1:false',
    ]);
  });

  it('batches delivery receipts per channel, skipping the user own messages', async () => {
    vi.useFakeTimers();
    const { realtime, notified } = setup();
    realtime.onDelivered([entry(1, 'g_1', 1), entry(2, 'g_1', 2), entry(3, 'g_2', 7)]);
    realtime.onDelivered([{ pos: 4, kind: 'message', message: message('g_1', 3, { senderId: 'u_1' }) }]);
    expect(notified).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(notified.map((f) => `${f.t}:${f.channelId}:${f.seq}`)).toEqual([
      'received:g_1:2',
      'received:g_2:7',
    ]);
    realtime.onDelivered([entry(5, 'g_1', 2)]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(notified).toHaveLength(2);
  });

  it('marks read over the socket and updates the cached unread count', async () => {
    const { realtime, cache, requested } = setup();
    await cache.replaceChannels([{ ...group, lastSeq: 10, unread: 7, readSeq: 3, lastMessage: null }]);
    expect(await realtime.markRead('g_1', 8)).toEqual({ readSeq: 8, unread: 2 });
    expect(requested[0]).toMatchObject({ t: 'read', channelId: 'g_1', seq: 8 });
    expect(cache.getChannel('g_1')).toMatchObject({ readSeq: 8, unread: 2 });
  });

  it('marks read over HTTP while offline', async () => {
    const { realtime, http } = setup(false);
    expect(await realtime.markRead('g_1', 9)).toEqual({ readSeq: 9, unread: 0 });
    expect(http.markRead).toHaveBeenCalledWith('g_1', 9);
  });

  it('follows read receipts of the user other devices and re-sends the chosen status after reconnect', async () => {
    const { realtime, cache, requested, typing } = setup();
    await cache.replaceChannels([{ ...group, lastSeq: 10, unread: 7, readSeq: 3, lastMessage: null }]);
    realtime.onFrame({ t: 'receipt', channelId: 'g_1', userId: 'u_1', readSeq: 10, deliveredSeq: 10 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(cache.getChannel('g_1')).toMatchObject({ readSeq: 10, unread: 0 });
    realtime.onFrame({ t: 'typing', channelId: 'g_1', userId: 'u_2', active: true, expiresInMs: 5_000 });
    expect(typing).toEqual([{ channelId: 'g_1', userId: 'u_2', active: true, expiresInMs: 5_000 }]);
    await realtime.setStatus('away');
    realtime.onOpen();
    expect(requested.filter((f) => f.t === 'status')).toHaveLength(2);
  });
});
