// @vitest-environment happy-dom
// @vitest-environment-options {"settings":{"fetch":{"disableSameOriginPolicy":true}}}
import type { ChatClient } from '@natter/client';
import axe from 'axe-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatTheme, Composer, MessageList, Thread, useSend, useUpload } from '../src/index.js';
import { mount, signedIn, startServer, type TestServer, until, watchHook } from './harness.js';

/** Types into a React-controlled field as a user would (React listens to `input`). */
function typeInto(field: HTMLTextAreaElement, text: string): void {
  Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')?.set?.call(field, text);
  field.dispatchEvent(new Event('input', { bubbles: true }));
}

function press(target: Element, key: string): void {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
}

function click(element: Element | null | undefined): void {
  if (!element) throw new Error('nothing to click');
  (element as HTMLElement).click();
}

/** The row of the message whose text contains `text`. */
function rowWith(container: HTMLElement, text: string): HTMLElement | undefined {
  return [...container.querySelectorAll<HTMLElement>('.natter-message')].find((row) =>
    row.querySelector('.natter-message-text')?.textContent?.includes(text),
  );
}

/** Opens a row's actions by keyboard (the "Message actions" button) and clicks the action named `label`. */
async function act(container: HTMLElement, text: string, label: string): Promise<void> {
  const trigger = rowWith(container, text)?.querySelector('.natter-actions-trigger');
  if (trigger) click(trigger);
  await until(() => rowWith(container, text)?.querySelector(`[aria-label="${label}"]`) != null, label);
  click(rowWith(container, text)?.querySelector(`[aria-label="${label}"]`));
}

describe('lifecycle and media in the components, against a real server with media', () => {
  let server: TestServer;
  let alice: { client: ChatClient; user: { id: string } };
  let bob: { client: ChatClient; user: { id: string } };
  let channelId: string;

  beforeAll(async () => {
    server = await startServer({ media: true });
    alice = await signedIn(server.url, 'alice');
    bob = await signedIn(server.url, 'bob');
    channelId = (await alice.client.openDirect(bob.user.id)).id;
  }, 30_000);
  afterAll(async () => {
    await Promise.all([alice.client.close(), bob.client.close()]);
    await server.stop();
  });

  it('reacting, replying with a quote, editing with the up arrow and deleting with a confirmation show on the other side', async () => {
    await alice.client.send(channelId, 'hello bob').acked;
    const bobView = await mount(
      bob.client,
      <ChatTheme>
        <MessageList channelId={channelId} markRead={false} />
        <Composer channelId={channelId} />
      </ChatTheme>,
    );
    const aliceView = await mount(
      alice.client,
      <ChatTheme>
        <MessageList channelId={channelId} markRead={false} />
      </ChatTheme>,
    );
    await until(() => rowWith(bobView.container, 'hello bob') !== undefined, 'message at bob');

    // React through the toolbar's picker: the chip is pressed for Bob and counted for Alice.
    await act(bobView.container, 'hello bob', 'Add reaction');
    await until(() => bobView.container.querySelector('.natter-emoji-picker') !== null, 'picker');
    click(
      [...bobView.container.querySelectorAll('.natter-emoji-picker button')].find(
        (b) => b.textContent === '🎉',
      ),
    );
    await until(
      () =>
        rowWith(bobView.container, 'hello bob')?.querySelector('.natter-reaction[aria-pressed="true"]') !=
        null,
      'own reaction pressed',
    );
    await until(
      () =>
        rowWith(aliceView.container, 'hello bob')?.querySelector('.natter-reaction')?.textContent === '🎉1',
      'reaction at alice',
    );

    // Reply: the banner quotes the message; the sent reply carries the quote on Alice's side.
    await act(bobView.container, 'hello bob', 'Reply');
    await until(() => bobView.container.querySelector('.natter-reply-banner') !== null, 'reply banner');
    const field = bobView.container.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
    typeInto(field, 'hi alice');
    press(field, 'Enter');
    await until(() => bobView.container.querySelector('.natter-reply-banner') === null, 'banner gone');
    await until(
      () =>
        rowWith(aliceView.container, 'hi alice')?.querySelector('.natter-quote-text')?.textContent ===
        'hello bob',
      'quote at alice',
    );

    // The up arrow in the empty composer edits Bob's last message inline.
    press(field, 'ArrowUp');
    await until(
      () => bobView.container.querySelector('textarea[aria-label="Edit message"]') !== null,
      'editor',
    );
    const editor = bobView.container.querySelector<HTMLTextAreaElement>(
      'textarea[aria-label="Edit message"]',
    )!;
    expect(editor.value).toBe('hi alice');
    typeInto(editor, 'hi alice!');
    press(editor, 'Enter');
    await until(
      () => rowWith(aliceView.container, 'hi alice!')?.querySelector('.natter-edited') != null,
      'edited at alice',
    );

    // Delete asks first; then Alice sees a tombstone where the message was.
    await act(bobView.container, 'hi alice!', 'Delete');
    await until(() => bobView.container.querySelector('[role="alertdialog"]') !== null, 'confirmation');
    expect(rowWith(aliceView.container, 'hi alice!')).toBeDefined();
    click(
      [...bobView.container.querySelectorAll('[role="alertdialog"] button')].find(
        (b) => b.textContent === 'Delete',
      ),
    );
    await until(
      () =>
        aliceView.container.querySelector('.natter-tombstone')?.textContent === 'This message was deleted',
      'tombstone at alice',
    );
    expect(rowWith(aliceView.container, 'hi alice!')).toBeUndefined();
    await bobView.unmount();
    await aliceView.unmount();
  });

  it('a reply in a thread goes to the Thread panel, and the root shows the count in the list', async () => {
    await alice.client.send(channelId, 'thread root here').acked;
    const bobView = await mount(
      bob.client,
      <ChatTheme>
        <MessageList channelId={channelId} markRead={false} />
        <Thread channelId={channelId} />
      </ChatTheme>,
    );
    const aliceView = await mount(alice.client, <MessageList channelId={channelId} markRead={false} />);
    await until(() => rowWith(bobView.container, 'thread root here') !== undefined, 'root at bob');
    expect(bobView.container.querySelector('.natter-thread')).toBeNull();
    await act(bobView.container, 'thread root here', 'Reply in thread');
    await until(() => bobView.container.querySelector('.natter-thread') !== null, 'thread panel');
    const field = bobView.container.querySelector<HTMLTextAreaElement>(
      'textarea[aria-label="Reply in thread"]',
    )!;
    await until(
      () => bobView.container.querySelector('.natter-thread .natter-message') !== null,
      'root in panel',
    );
    typeInto(field, 'a threaded answer');
    press(field, 'Enter');
    await until(
      () =>
        bobView.container.querySelector('.natter-thread')?.textContent?.includes('a threaded answer') ??
        false,
      'reply in the panel',
    );
    await until(
      () =>
        rowWith(aliceView.container, 'thread root here')
          ?.querySelector('.natter-thread-summary')
          ?.textContent?.startsWith('1 reply') ?? false,
      'count at alice',
    );
    // The reply is in the thread, not in the channel's list.
    expect(rowWith(aliceView.container, 'a threaded answer')).toBeUndefined();
    click(bobView.container.querySelector('[aria-label="Close thread"]'));
    await until(() => bobView.container.querySelector('.natter-thread') === null, 'closed');
    await bobView.unmount();
    await aliceView.unmount();
  });

  it('an uploaded image shows its placeholder at once, then the thumbnail, and opens full size in a lightbox', async () => {
    const png = await sharp({
      create: { width: 640, height: 480, channels: 3, background: { r: 20, g: 120, b: 200 } },
    })
      .png()
      .toBuffer();
    const bobView = await mount(bob.client, <MessageList channelId={channelId} markRead={false} />);
    const sender = await watchHook(alice.client, () => ({ uploads: useUpload(), send: useSend(channelId) }));
    const progress: number[] = [];
    sender.current.uploads.add([new File([png], 'lake.png', { type: 'image/png' })]);
    await until(() => {
      const item = sender.current.uploads.items[0];
      if (item?.state === 'uploading') progress.push(item.sent);
      return sender.current.uploads.attachments.length === 1;
    }, 'upload done');
    const attachment = sender.current.uploads.attachments[0]!;
    expect(attachment.placeholder).toBeTruthy();
    expect(attachment.thumbnails.length).toBeGreaterThan(0);
    await sender.current.send('', { attachments: sender.current.uploads.attachments }).acked;
    sender.current.uploads.clear();

    await until(() => bobView.container.querySelector('.natter-attachment-image') !== null, 'image tile');
    const tile = bobView.container.querySelector<HTMLButtonElement>('.natter-attachment-image')!;
    expect(tile.dataset.state).toBe('placeholder');
    expect(tile.style.backgroundImage).toContain('data:image/png');
    expect(tile.getAttribute('aria-label')).toBe('Open image lake.png');
    // The thumbnail's signed URL arrives, and it serves a WebP to whoever holds it (no bearer token).
    await until(
      () => tile.querySelector('img')?.getAttribute('src')?.includes('/v1/media/') ?? false,
      'thumb url',
    );
    const img = tile.querySelector('img')!;
    const src = img.getAttribute('src')!;
    const url = src.startsWith('http') ? src : `${server.url}${src}`;
    const thumb = await fetch(url);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    img.dispatchEvent(new Event('load'));
    await until(() => tile.dataset.state === 'thumbnail', 'thumbnail shown');

    click(tile);
    await until(
      () =>
        bobView.container
          .querySelector('dialog.natter-lightbox img')
          ?.getAttribute('src')
          ?.includes('/v1/media/') ?? false,
      'lightbox with the full image',
    );
    const full = bobView.container.querySelector('dialog.natter-lightbox img')!.getAttribute('src')!;
    expect(full).not.toBe(src);
    click(
      [...bobView.container.querySelectorAll('dialog.natter-lightbox button')].find(
        (b) => b.textContent === 'Close',
      ),
    );
    await until(() => bobView.container.querySelector('dialog.natter-lightbox') === null, 'lightbox closed');
    await sender.unmount();
    await bobView.unmount();
  });

  it('the row actions, picker, editor, reply banner and thread panel have no serious axe violations', async () => {
    const sent = await bob.client.send(channelId, 'check me').acked;
    await alice.client.react(channelId, sent.seq, '👍');
    const view = await mount(
      bob.client,
      <ChatTheme>
        <MessageList channelId={channelId} markRead={false} />
        <Composer channelId={channelId} />
        <Thread channelId={channelId} rootSeq={sent.seq} />
      </ChatTheme>,
    );
    await until(() => rowWith(view.container, 'check me')?.querySelector('.natter-reaction') != null, 'row');
    await act(view.container, 'check me', 'Add reaction');
    await until(() => view.container.querySelector('.natter-emoji-picker') !== null, 'picker');
    await act(view.container, 'check me', 'Reply');
    await until(() => view.container.querySelector('.natter-reply-banner') !== null, 'banner');
    const result = await axe.run(view.container, {
      // happy-dom has no layout: contrast is checked in Chromium (tests/browser).
      rules: { 'color-contrast': { enabled: false } },
      resultTypes: ['violations'],
    });
    // axe ran its rules here (a DOM without layout still has roles, names and structure to check).
    expect(result.passes.length).toBeGreaterThan(10);
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([]);
    await view.unmount();
  });

  it('cancelling an upload removes the file, and nothing goes with the next send', async () => {
    const sender = await watchHook(alice.client, () => useUpload());
    sender.current.add([new File([new Uint8Array(2 * 1024 * 1024).fill(7)], 'big.bin')]);
    await until(() => sender.current.items[0]?.state === 'uploading', 'uploading');
    expect(sender.current.uploading).toBe(true);
    sender.current.cancel(sender.current.items[0]!.id);
    await until(() => sender.current.items.length === 0, 'removed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sender.current.items).toHaveLength(0);
    expect(sender.current.attachments).toHaveLength(0);
    expect(sender.current.uploading).toBe(false);
    await sender.unmount();
  });
});
