// @vitest-environment happy-dom
// @vitest-environment-options {"settings":{"fetch":{"disableSameOriginPolicy":true}}}
import { type ChatClient, MemoryStore } from '@natter/client';
import { Profiler } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelList, ChatTheme, Composer, MessageList, TypingIndicator } from '../src/index.js';
import { makeClient, mount, signedIn, startServer, type TestServer, until } from './harness.js';

describe('components against a real server (1,000-message channel)', () => {
  let server: TestServer;
  let alice: Awaited<ReturnType<typeof signedIn>>;
  let bob: ChatClient;
  let channelId: string;

  beforeAll(async () => {
    server = await startServer();
    alice = await signedIn(server.url, 'alice');
    // Bob keeps the whole channel in his cache.
    bob = makeClient(server.url, { store: new MemoryStore({ maxMessagesPerChannel: 2_000 }) });
    const bobUser = await bob.signup('bob', 'password-bob');
    channelId = (await alice.client.openDirect(bobUser.id)).id;
    for (let i = 0; i < 999; i++) alice.client.send(channelId, `message ${i}`);
    await until(() => alice.client.pending().length === 0, 'seeded', 30_000);
    await bob.connect();
    await bob.whenSynced();
    expect(await bob.cachedMessages(channelId, { limit: 2_000 })).toHaveLength(1_000);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([alice.client.close(), bob.close()]);
    await server.stop();
  });

  it('first renders a cached 1,000-message channel from the cache, with only a window of rows in the DOM', async () => {
    // Twice, each with fresh stores (a new provider): the first pays for loading the code paths.
    const timings: number[] = [];
    for (let run = 0; run < 2; run++) {
      const started = performance.now();
      const view = await mount(
        bob,
        <ChatTheme theme="dark">
          <MessageList channelId={channelId} />
        </ChatTheme>,
      );
      await until(
        () => view.container.querySelector('.natter-message-text') !== null,
        'first rows',
        10_000,
        1,
      );
      timings.push(performance.now() - started);
      const rendered = view.container.querySelectorAll('.natter-message').length;
      expect(rendered).toBeGreaterThan(5);
      expect(rendered).toBeLessThan(100);
      expect(view.container.querySelector('.natter[data-natter-theme="dark"] style')).not.toBeNull();
      await view.unmount();
    }
    console.log(
      `figure: time to first render of a cached 1,000-message channel: ${timings[1]?.toFixed(1)} ms (first mount in the process ${timings[0]?.toFixed(1)} ms)`,
    );
  });

  it('commits the list once per incoming message and renders only the new row', async () => {
    let commits = 0;
    const view = await mount(
      bob,
      <Profiler id="list" onRender={() => commits++}>
        <MessageList channelId={channelId} markRead={false} />
      </Profiler>,
    );
    await until(() => view.container.querySelectorAll('.natter-message').length > 5, 'rows');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = view.container.querySelectorAll('.natter-message-text');
    const firstRow = before[0];
    commits = 0;
    await alice.client.send(channelId, 'one more').acked;
    await until(() => view.container.textContent?.includes('one more') ?? false, 'incoming row');
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The old rows are the same DOM nodes: React did not remount them.
    expect(view.container.querySelectorAll('.natter-message-text')[0]).toBe(firstRow);
    expect(commits).toBeLessThanOrEqual(3);
    console.log(
      `figure: React commits of MessageList per incoming message (1,000-message channel): ${commits}`,
    );
    await view.unmount();
  });

  it('loads older messages when the user scrolls up at the very top, where no scroll event fires', async () => {
    // A second device of Alice's with an empty cache: the list starts from the server's newest page.
    const device = makeClient(server.url);
    await device.login('alice', 'password-alice');
    await device.connect();
    await device.whenSynced();
    const view = await mount(device, <MessageList channelId={channelId} markRead={false} />);
    const scroller = () => view.container.querySelector<HTMLElement>('.natter-scroller');
    const rows = () => Number(scroller()?.dataset.rows ?? 0);
    await until(() => rows() > 5, 'first page');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const firstPage = rows();
    expect(firstPage).toBeLessThan(1_000);
    expect(scroller()?.scrollTop).toBe(0);
    // Scrolling down (deltaY > 0) at the top asks for nothing.
    scroller()?.dispatchEvent(new WheelEvent('wheel', { deltaY: 120, bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rows()).toBe(firstPage);
    scroller()?.dispatchEvent(new WheelEvent('wheel', { deltaY: -120, bubbles: true }));
    await until(() => rows() > firstPage, 'an older page after a wheel turn up at the top');
    const secondPage = rows();
    scroller()?.dispatchEvent(new KeyboardEvent('keydown', { key: 'PageUp', bubbles: true }));
    await until(() => rows() > secondPage, 'an older page after PageUp at the top');
    await view.unmount();
    await device.close();
  });

  it('renders the channel list, composer and typing indicator with accessible names', async () => {
    let editLast = 0;
    const view = await mount(
      bob,
      <ChatTheme>
        <ChannelList selectedId={channelId} onSelect={() => undefined} />
        <TypingIndicator channelId={channelId} />
        <Composer channelId={channelId} onEditLast={() => editLast++} />
      </ChatTheme>,
    );
    await until(() => view.container.querySelector('.natter-channel') !== null, 'channel row');
    await until(
      () => view.container.querySelector('.natter-channel-name')?.textContent === 'alice',
      'direct channel named after the other member',
    );
    expect(view.container.querySelector('nav')?.getAttribute('aria-label')).toBe('Conversations');
    expect(view.container.querySelector('textarea')?.getAttribute('aria-label')).toBe('Message');
    // The up arrow in an empty composer is the hook point for editing the last message.
    const textarea = view.container.querySelector('textarea')!;
    textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true }));
    expect(editLast).toBe(1);
    alice.client.setTyping(channelId, true);
    await until(
      () => view.container.querySelector('.natter-typing')?.textContent === 'alice is typing…',
      'typing',
    );
    await view.unmount();
  });
});
