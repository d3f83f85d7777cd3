// @vitest-environment happy-dom
// @vitest-environment-options {"settings":{"fetch":{"disableSameOriginPolicy":true}}}
import type { ChatClient, WebSocketConstructor } from '@natter/client';
import { memo } from 'react';
import { flushSync } from 'react-dom';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type MessageItem,
  type MessagesView,
  useChannels,
  useConnectionState,
  useMessages,
  usePresence,
  useReadReceipts,
  useSearch,
  useSend,
  useTyping,
} from '../src/index.js';
import { mount, signedIn, startServer, type TestServer, until, watchHook } from './harness.js';

describe('hooks against a real server', () => {
  let server: TestServer;
  const clients: ChatClient[] = [];
  const unmounts: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    for (const unmount of unmounts.splice(0)) await unmount();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.stop();
  });

  async function pair() {
    const alice = await signedIn(server.url, 'alice');
    const bob = await signedIn(server.url, 'bob');
    clients.push(alice.client, bob.client);
    const channel = await alice.client.openDirect(bob.user.id);
    return { alice, bob, channel };
  }

  it('useConnectionState follows the client from open to closed', async () => {
    const { alice } = await pair();
    const state = await watchHook(alice.client, useConnectionState);
    unmounts.push(state.unmount);
    expect(state.current.status).toBe('open');
    expect(state.current.userId).toBe(alice.user.id);
    await alice.client.close();
    await until(() => state.current.status === 'closed', 'closed status');
  });

  it('useMessages shows history, then live messages from others, in order', async () => {
    const { alice, bob, channel } = await pair();
    await alice.client.send(channel.id, 'one').acked;
    await alice.client.send(channel.id, 'two').acked;
    const list = await watchHook(bob.client, () => useMessages(channel.id));
    unmounts.push(list.unmount);
    await until(() => list.current.phase === 'ready' && list.current.source === 'server', 'first page');
    expect(texts(list.current.items)).toEqual(['', 'one', 'two']);
    await alice.client.send(channel.id, 'three').acked;
    await until(() => list.current.items.length === 4, 'live message');
    expect(texts(list.current.items)).toEqual(['', 'one', 'two', 'three']);
    expect(list.current.hasMoreBefore).toBe(false);
  });

  it('useSend shows the message as pending at once and as sent in the same row after the ack', async () => {
    const { alice, channel } = await pair();
    const view = await watchHook(alice.client, () => ({
      list: useMessages(channel.id),
      send: useSend(channel.id),
    }));
    unmounts.push(view.unmount);
    await until(
      () => view.current.list.phase === 'ready' && view.current.list.source === 'server',
      'first page',
    );
    let key = '';
    flushSync(() => {
      key = view.current.send('hello').message.clientMsgId;
    });
    const row = view.current.list.items.find((item) => item.key === key);
    expect(row?.status).toMatch(/pending|sending/);
    await until(() => view.current.list.items.find((item) => item.key === key)?.status === 'sent', 'ack');
    expect(view.current.list.items.filter((item) => item.key === key)).toHaveLength(1);
  });

  it('a send while offline stays pending, then is delivered exactly once after reconnecting', async () => {
    const { alice, bob, channel } = await pair();
    const view = await watchHook(alice.client, () => ({
      list: useMessages(channel.id),
      send: useSend(channel.id),
    }));
    unmounts.push(view.unmount);
    await until(() => view.current.list.phase === 'ready', 'first page');
    await alice.client.close();
    let key = '';
    key = view.current.send('while offline').message.clientMsgId;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(view.current.list.items.find((item) => item.key === key)?.status).toBe('pending');
    await alice.client.connect();
    await until(
      () => view.current.list.items.find((item) => item.key === key)?.status === 'sent',
      'delivery',
    );
    const history = await bob.client.history(channel.id);
    expect(history.messages.filter((m) => m.text === 'while offline')).toHaveLength(1);
  });

  it('useChannels sorts by last activity and counts unread messages of others', async () => {
    const alice = await signedIn(server.url, 'alice');
    const bob = await signedIn(server.url, 'bob');
    const carol = await signedIn(server.url, 'carol');
    clients.push(alice.client, bob.client, carol.client);
    const withBob = await alice.client.openDirect(bob.user.id);
    const withCarol = await alice.client.openDirect(carol.user.id);
    const list = await watchHook(alice.client, useChannels);
    unmounts.push(list.unmount);
    await until(() => list.current.phase === 'ready' && list.current.channels.length === 2, 'channels');
    await bob.client.send(withBob.id, 'from bob').acked;
    await until(() => list.current.channels[0]?.channel.id === withBob.id, 'bob first');
    expect(list.current.channels[0]?.unread).toBe(1);
    await carol.client.send(withCarol.id, 'from carol 1').acked;
    await carol.client.send(withCarol.id, 'from carol 2').acked;
    await until(
      () => list.current.channels[0]?.channel.id === withCarol.id && list.current.channels[0].unread === 2,
      'carol first',
    );
    const bobRow = list.current.channels[1];
    await alice.client.send(withCarol.id, 'reply').acked;
    await until(() => list.current.channels[0]?.unread === 0, 'own message reads the channel');
    // A channel that did not change keeps its object.
    expect(list.current.channels[1]).toBe(bobRow);
  });

  it('useTyping, useReadReceipts and usePresence follow the other member', async () => {
    const { alice, bob, channel } = await pair();
    const view = await watchHook(alice.client, () => ({
      typing: useTyping(channel.id),
      receipts: useReadReceipts(channel.id),
      presence: usePresence(bob.user.id),
    }));
    unmounts.push(view.unmount);
    await until(() => view.current.presence?.status === 'online', 'bob online');
    bob.client.setTyping(channel.id, true);
    await until(() => view.current.typing.includes(bob.user.id), 'bob typing');
    const sent = await alice.client.send(channel.id, 'read me').acked;
    await bob.client.markRead(channel.id, sent.seq);
    await until(
      () => view.current.receipts.some((r) => r.userId === bob.user.id && r.readSeq >= sent.seq),
      'bob read receipt',
    );
    await bob.client.send(channel.id, 'a reply').acked;
    await until(() => view.current.typing.length === 0, 'a message ends typing');
    await bob.client.setStatus('away');
    await until(() => view.current.presence?.status === 'away', 'bob away');
  }, 30_000);

  it('usePresence fetches again after a reconnection: a change made while disconnected is not shown stale', async () => {
    // Alice's sockets go through a gate: closed, new sockets fail, so Alice stays away while Bob changes.
    let gateClosed = false;
    const sockets: WebSocket[] = [];
    class GatedWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(gateClosed ? 'ws://127.0.0.1:9/' : url, protocols);
        sockets.push(this);
      }
    }
    const alice = await signedIn(server.url, 'alice', {
      WebSocket: GatedWebSocket as unknown as WebSocketConstructor,
    });
    const bob = await signedIn(server.url, 'bob');
    clients.push(alice.client, bob.client);
    await alice.client.openDirect(bob.user.id);
    const view = await watchHook(alice.client, () => usePresence(bob.user.id));
    unmounts.push(view.unmount);
    await until(() => view.current?.status === 'online', 'bob online');
    gateClosed = true;
    for (const socket of sockets) socket.terminate();
    await until(() => alice.client.status === 'reconnecting', 'alice disconnected');
    await bob.client.setStatus('away');
    // Bob's change is stored before Alice comes back (her own fetch through the server would show it).
    const [seen] = await bob.client.getPresence({ userIds: [bob.user.id] });
    expect(seen?.status).toBe('away');
    expect(view.current?.status).toBe('online');
    gateClosed = false;
    await until(() => view.current?.status === 'away', 'bob away after the reconnection');
  }, 30_000);

  it('useSearch finds messages as the query changes and never shows an older answer', async () => {
    const { alice, bob, channel } = await pair();
    await bob.client.send(channel.id, 'the blue whale').acked;
    await bob.client.send(channel.id, 'a red fox').acked;
    let query = 'whale';
    const view = await watchHook(alice.client, () => useSearch(query, { debounceMs: 20 }));
    unmounts.push(view.unmount);
    await until(() => view.current.status === 'done', 'first answer');
    expect(view.current.status === 'done' && view.current.results.map((m) => m.text)).toEqual([
      'the blue whale',
    ]);
    query = 'fox';
    await view.rerender();
    await until(() => view.current.status === 'done' && view.current.query === 'fox', 'second answer');
    expect(view.current.status === 'done' && view.current.results.map((m) => m.text)).toEqual(['a red fox']);
    query = 'x';
    await view.rerender();
    await until(() => view.current.status === 'idle', 'too short is idle');
  });

  it('a failed send stays in place with its error, and retry sends it in the same row', async () => {
    const { alice, bob } = await pair();
    const carol = await signedIn(server.url, 'carol');
    clients.push(carol.client);
    // A group Alice is not in yet: her send fails for good (not a member) until Carol adds her.
    const group = await carol.client.createGroup('later', [bob.user.id]);
    const view = await watchHook(alice.client, () => ({
      list: useMessages(group.id),
      send: useSend(group.id),
    }));
    unmounts.push(view.unmount);
    const key = view.current.send('let me in').message.clientMsgId;
    await until(() => view.current.list.items.find((i) => i.key === key)?.status === 'failed', 'failed row');
    const failed = view.current.list.items.find((i) => i.key === key);
    expect(failed?.status === 'failed' && failed.pending.error?.code).toBe('NATTER_NOT_FOUND');
    await carol.client.addMembers(group.id, [alice.user.id]);
    view.current.list.retry(key);
    await until(
      () => view.current.list.items.find((i) => i.key === key)?.status === 'sent',
      'sent after retry',
    );
    expect(view.current.list.items.filter((i) => i.key === key)).toHaveLength(1);
    const discarded = view.current.send('never mind');
    await view.current.list.discard(discarded.message.clientMsgId);
    await until(
      () => !view.current.list.items.some((i) => i.key === discarded.message.clientMsgId),
      'discarded',
    );
  });

  it('a channel shown again after many messages arrived shows contiguous rows, never a hole', async () => {
    const { alice, bob, channel } = await pair();
    await alice.client.send(channel.id, 'before').acked;
    // One provider throughout (its stores keep the channel's rows while another channel is shown).
    const carol = await signedIn(server.url, 'carol');
    clients.push(carol.client);
    const other = await carol.client.openDirect(bob.user.id);
    let shown = channel.id;
    const list = await watchHook(bob.client, () => useMessages(shown));
    unmounts.push(list.unmount);
    await until(() => list.current.phase === 'ready' && list.current.source === 'server', 'first visit');
    shown = other.id;
    await list.rerender();
    await new Promise((resolve) => setTimeout(resolve, 50));
    let synced = false;
    bob.client.on('message', ({ message }) => {
      if (message.text === 'last') synced = true;
    });
    for (let i = 0; i < 119; i++) alice.client.send(channel.id, `while away ${i}`);
    await alice.client.send(channel.id, 'last').acked;
    await until(() => synced, 'synced');
    shown = channel.id;
    await list.rerender();
    await until(() => newest(list.current) === 122, 'second visit');
    const seqs = list.current.items.map((item) => (item.status === 'sent' ? item.message.seq : -1));
    expect(seqs.every((seq, i) => i === 0 || seq === (seqs[i - 1] ?? 0) + 1)).toBe(true);
    expect(list.current.hasMoreBefore).toBe(true);
  });

  it('one incoming message re-renders one row, not the list of 1,000 rows', async () => {
    const { alice, bob, channel } = await pair();
    for (let i = 0; i < 999; i++) alice.client.send(channel.id, `m${i}`);
    await until(() => alice.client.pending().length === 0, 'seeded', 30_000);
    let latest: MessagesView | undefined;
    const view = await mount(
      bob.client,
      <CountingList channelId={channel.id} onView={(v) => (latest = v)} />,
    );
    unmounts.push(view.unmount);
    await until(() => latest?.phase === 'ready' && latest.source === 'server', 'first page');
    while (latest!.hasMoreBefore) {
      const before = latest!.items.length;
      await latest!.loadOlder();
      await until(() => latest!.items.length > before, 'older page');
    }
    expect(latest!.items).toHaveLength(1_000);
    renders.rows = 0;
    renders.list = 0;
    await alice.client.send(channel.id, 'one more').acked;
    await until(() => latest!.items.length === 1_001, 'incoming message');
    expect(renders.rows).toBe(1);
    expect(renders.list).toBe(1);
    expect(view.container.querySelectorAll('li')).toHaveLength(1_001);
    console.log(
      `figure: renders per incoming message (1,000 rows): list ${renders.list}, rows ${renders.rows}`,
    );
  }, 60_000);
});

function texts(items: readonly MessageItem[]): string[] {
  return items.map((item) => (item.status === 'sent' ? item.message.text : item.pending.text));
}

/** Render counts of {@link CountingList}, reset by the test. */
const renders = { list: 0, rows: 0 };

const CountingRow = memo(function CountingRow({ item }: { item: MessageItem }) {
  renders.rows++;
  return <li>{item.status === 'sent' ? item.message.text : item.pending.text}</li>;
});

/** Every row of a channel, unvirtualised, counting renders of the list and of the rows. */
function CountingList({ channelId, onView }: { channelId: string; onView: (view: MessagesView) => void }) {
  const view = useMessages(channelId);
  onView(view);
  renders.list++;
  return (
    <ul>
      {view.items.map((item) => (
        <CountingRow key={item.key} item={item} />
      ))}
    </ul>
  );
}

function newest(view: MessagesView): number | undefined {
  const last = view.items.at(-1);
  return last?.status === 'sent' ? last.message.seq : undefined;
}
