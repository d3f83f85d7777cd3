// @vitest-environment happy-dom
// @vitest-environment-options {"settings":{"fetch":{"disableSameOriginPolicy":true}}}
import type { ChatClient } from '@natter/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Composer, MessageList, NatterProvider } from '../src/index.js';
import { mount, signedIn, startServer, type TestServer, until } from './harness.js';

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

/** Opens a row's actions through its "Message actions" button; answers the toolbar's action labels. */
async function actionsOf(container: HTMLElement, text: string): Promise<string[]> {
  await until(() => rowWith(container, text) !== undefined, text);
  click(rowWith(container, text)?.querySelector('.natter-actions-trigger'));
  await until(() => rowWith(container, text)?.querySelector('.natter-toolbar') != null, 'toolbar');
  return [...(rowWith(container, text)?.querySelectorAll('.natter-toolbar button') ?? [])].map(
    (b) => b.getAttribute('aria-label') ?? '',
  );
}

describe('moderation in the components, against a real server', () => {
  let server: TestServer;
  let alice: { client: ChatClient; user: { id: string } };
  let bob: { client: ChatClient; user: { id: string } };
  let channelId: string;

  beforeAll(async () => {
    server = await startServer();
    alice = await signedIn(server.url, 'alice');
    bob = await signedIn(server.url, 'bob');
    channelId = (await alice.client.openDirect(bob.user.id)).id;
  }, 30_000);
  afterAll(async () => {
    await Promise.all([alice.client.close(), bob.client.close()]);
    await server.stop();
  });

  it('offers Report on others’ messages only, and the dialog sends the report and confirms it', async () => {
    await bob.client.send(channelId, 'buy followers now').acked;
    await alice.client.send(channelId, 'no thanks').acked;
    const view = await mount(alice.client, <MessageList channelId={channelId} />);
    expect(await actionsOf(view.container, 'no thanks')).not.toContain('Report');
    expect(await actionsOf(view.container, 'buy followers now')).toContain('Report');

    click(rowWith(view.container, 'buy followers now')?.querySelector('[aria-label="Report"]'));
    await until(() => view.container.querySelector('.natter-dialog') != null, 'report dialog');
    const dialog = view.container.querySelector<HTMLDialogElement>('.natter-dialog');
    const send = () => dialog?.querySelector<HTMLButtonElement>('button[type=submit]');
    expect(send()?.disabled).toBe(true);
    const reasons = [...(dialog?.querySelectorAll<HTMLInputElement>('input[type=radio]') ?? [])];
    expect(reasons.map((r) => r.value)).toEqual([
      'spam',
      'harassment',
      'hate',
      'sexual',
      'violence',
      'self_harm',
      'impersonation',
      'other',
    ]);
    click(reasons[0]);
    await until(() => send()?.disabled === false, 'a reason chosen');
    click(send());
    await until(() => dialog?.textContent?.includes('Your report was sent') === true, 'confirmation');
    await view.unmount();
  });

  it('reportMessages: false hides the Report action', async () => {
    const view = await mount(
      alice.client,
      <NatterProvider client={alice.client} options={{ reportMessages: false }}>
        <MessageList channelId={channelId} />
      </NatterProvider>,
    );
    expect(await actionsOf(view.container, 'buy followers now')).not.toContain('Report');
    await view.unmount();
  });

  it('the composer shows slow mode, and the wait once the server holds a message', async () => {
    const group = await alice.client.createGroup('Slow club', [bob.user.id]);
    await alice.client.setSlowMode(group.id, 30);
    await bob.client.listChannels();
    const view = await mount(bob.client, <Composer channelId={group.id} />);
    const line = () => view.container.querySelector('.natter-slow-mode')?.textContent ?? '';
    await until(() => line().includes('Slow mode: one message every 30 s'), 'slow mode line');
    await bob.client.send(group.id, 'first').acked;
    bob.client.send(group.id, 'second');
    await until(() => /your message will be sent in \d+ s/.test(line()), 'the wait');
    await view.unmount();
  });
});
