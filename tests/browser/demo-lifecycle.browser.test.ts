/**
 * Message lifecycle and media flows in the web demo (issues #24 point 9 and #16 point 7), through the kit's
 * rows, composer and thread panel, in headless Chromium against the reference server: Alice and Bob in two
 * browser contexts edit (up arrow), react (with who reacted on hover), reply with a quote, talk in a thread
 * the other side opens, delete with a confirmation, and send photos by drag and drop and by pasting, with
 * real DataTransfer events.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, launchChromium } from './helpers/chromium.js';
import {
  composer,
  messageRows,
  openConversation,
  sendMessage,
  signInAsDemoUser,
  UI_TIMEOUT,
  waitForCount,
  waitForMessage,
  waitForText,
} from './helpers/demo-app.js';
import { type ReferenceServer, startReferenceServer } from './helpers/reference-server.js';

const screenshots = process.env.NATTER_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'natter-screenshots-'));
const DESKTOP = { width: 1280, height: 800 };

/** Hovers a row so the kit shows its actions, then clicks one of them. */
async function rowAction(page: Page, text: string, action: string): Promise<void> {
  const row = messageRows(page, text).first();
  await row.hover();
  await row.getByRole('button', { name: action, exact: true }).click({ timeout: UI_TIMEOUT });
}

/**
 * Dispatches a real `DataTransfer` carrying a PNG onto an element: `drop` (after `dragover`) or `paste`.
 * The bytes travel as base64 because a File cannot cross from Node into the page.
 */
async function transferImage(
  page: Page,
  selector: string,
  kind: 'drop' | 'paste',
  name: string,
  png: Buffer,
): Promise<void> {
  await page
    .locator(selector)
    .first()
    .evaluate(
      (el, { kind, name, base64 }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], name, { type: 'image/png' }));
        if (kind === 'paste') {
          el.dispatchEvent(
            new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
          );
          return;
        }
        for (const type of ['dragenter', 'dragover', 'drop'])
          el.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
      },
      { kind, name, base64: png.toString('base64') },
    );
}

describeInChromium('message lifecycle and media in the web demo (headless Chromium)', () => {
  let server: ReferenceServer;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    [server, browser] = await Promise.all([startReferenceServer(), launchChromium()]);
    alice = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    bob = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    for (const [page, who] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const)
      page.on('pageerror', (err) => errors.push(`${who}: ${err.message}`));
    await Promise.all([
      signInAsDemoUser(alice, server.url, 'alice'),
      signInAsDemoUser(bob, server.url, 'bob'),
    ]);
    await Promise.all([openConversation(alice, 'Bob'), openConversation(bob, 'Alice')]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the up arrow edits the last message; both sides see the new text marked edited', async () => {
    await sendMessage(alice, 'Lunch at noon?');
    await waitForMessage(bob, 'Lunch at noon?');
    await composer(alice).press('ArrowUp');
    const editor = alice.getByRole('textbox', { name: 'Edit message' });
    await editor.waitFor({ timeout: UI_TIMEOUT });
    expect(await editor.inputValue()).toBe('Lunch at noon?');
    await editor.fill('Lunch at 12:30?');
    await editor.press('Enter');
    await waitForMessage(bob, 'Lunch at 12:30?');
    await messageRows(bob, 'Lunch at 12:30?').locator('.natter-edited').waitFor({ timeout: UI_TIMEOUT });
    await messageRows(alice, 'Lunch at 12:30?').locator('.natter-edited').waitFor({ timeout: UI_TIMEOUT });
    expect(await messageRows(bob, 'Lunch at noon?').count()).toBe(0);
  }, 60_000);

  it('reactions: picked from the palette, counted on both sides, who reacted on hover', async () => {
    await rowAction(bob, 'Lunch at 12:30?', 'Add reaction');
    await bob.getByRole('toolbar', { name: 'Pick a reaction' }).getByRole('button', { name: '👍' }).click();
    const chip = messageRows(alice, 'Lunch at 12:30?').locator('.natter-reaction');
    await waitForText(chip, '👍1');
    expect(await chip.getAttribute('aria-label')).toBe('👍 1');
    await chip.hover();
    await waitForText(alice.getByRole('tooltip'), '👍 Bob');
    // Alice adds hers from the chip: two, including her.
    await chip.click();
    await waitForText(messageRows(bob, 'Lunch at 12:30?').locator('.natter-reaction'), '👍2');
    expect(await chip.getAttribute('aria-label')).toBe('👍 2, including you');
  }, 60_000);

  it('reply quotes its parent; a thread is seen and answered from the other browser', async () => {
    await rowAction(bob, 'Lunch at 12:30?', 'Reply');
    await waitForText(bob.locator('.natter-reply-banner'), 'Lunch at 12:30?');
    await sendMessage(bob, 'Works for me');
    await waitForMessage(alice, 'Works for me');
    await waitForText(messageRows(alice, 'Works for me').locator('.natter-quote'), 'Lunch at 12:30?');

    await sendMessage(alice, 'Which place?');
    await waitForMessage(bob, 'Which place?');
    await rowAction(alice, 'Which place?', 'Reply in thread');
    const aliceThread = alice.locator('.natter-thread');
    await aliceThread.waitFor({ timeout: UI_TIMEOUT });
    await aliceThread.getByRole('combobox', { name: 'Reply in thread' }).fill('The noodle bar on 5th?');
    await aliceThread.getByRole('combobox', { name: 'Reply in thread' }).press('Enter');
    await waitForText(aliceThread, 'The noodle bar on 5th?');

    // Bob sees the root's reply count, opens the thread and answers there; Alice's panel gets it live.
    const summary = messageRows(bob, 'Which place?').locator('.natter-thread-summary');
    await waitForText(summary, '1 reply');
    await summary.click();
    const bobThread = bob.locator('.natter-thread');
    await waitForText(bobThread, 'The noodle bar on 5th?');
    await bobThread.getByRole('combobox', { name: 'Reply in thread' }).fill('Perfect, see you there');
    await bobThread.getByRole('combobox', { name: 'Reply in thread' }).press('Enter');
    await waitForText(aliceThread, 'Perfect, see you there');
    // Thread replies stay out of the channel's list.
    expect(await messageRows(alice, 'Perfect, see you there').count()).toBe(
      await aliceThread.locator('.natter-message', { hasText: 'Perfect, see you there' }).count(),
    );
    await waitForText(messageRows(alice, 'Which place?').locator('.natter-thread-summary'), '2 replies');
    await alice.screenshot({ path: join(screenshots, 'demo-lifecycle.png') });
    await aliceThread.getByRole('button', { name: 'Close thread' }).click();
    await bobThread.getByRole('button', { name: 'Close thread' }).click();
  }, 60_000);

  it('delete asks first, then removes the text for everyone', async () => {
    await sendMessage(alice, 'Oops, wrong chat');
    await waitForMessage(bob, 'Oops, wrong chat');
    await rowAction(alice, 'Oops, wrong chat', 'Delete');
    const confirm = alice.getByRole('alertdialog', { name: 'Delete message' });
    await confirm.waitFor({ timeout: UI_TIMEOUT });
    // Cancel keeps it.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await messageRows(alice, 'Oops, wrong chat').count()).toBe(1);
    await rowAction(alice, 'Oops, wrong chat', 'Delete');
    await alice
      .getByRole('alertdialog', { name: 'Delete message' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await waitForCount(messageRows(alice, 'Oops, wrong chat'), 0);
    await waitForCount(messageRows(bob, 'Oops, wrong chat'), 0);
    await bob.locator('.natter-tombstone', { hasText: 'This message was deleted' }).first().waitFor({
      timeout: UI_TIMEOUT,
    });
  }, 60_000);

  it('an image dropped on the conversation and one pasted into the composer reach the other side', async () => {
    const png = (colour: string) =>
      sharp({ create: { width: 640, height: 480, channels: 3, background: colour } })
        .png()
        .toBuffer();
    // Dropped on the message list, not the composer: the demo hands the drop to the composer.
    await transferImage(alice, '.natter-scroller', 'drop', 'dropped.png', await png('#2a9d8f'));
    await alice.locator('.natter-upload[data-state="done"]').waitFor({ timeout: UI_TIMEOUT });
    await composer(alice).fill('Dropped photo');
    await composer(alice).press('Enter');
    await waitForMessage(bob, 'Dropped photo');
    await messageRows(bob, 'Dropped photo')
      .locator('.natter-attachment-image[data-state="thumbnail"]')
      .waitFor({ timeout: UI_TIMEOUT });

    await composer(alice).focus();
    await transferImage(alice, '.natter-composer textarea', 'paste', 'pasted.png', await png('#e76f51'));
    await alice.locator('.natter-upload[data-state="done"]').waitFor({ timeout: UI_TIMEOUT });
    await alice.click('.natter-send');
    await bob.getByRole('button', { name: 'Open image pasted.png' }).waitFor({ timeout: UI_TIMEOUT });
    await bob
      .locator('.natter-attachment-image[data-state="thumbnail"]')
      .nth(1)
      .waitFor({ timeout: UI_TIMEOUT });
    expect(errors).toEqual([]);
  }, 90_000);
});
