/**
 * examples/react-minimal (the @natter/react kit) in headless Chromium against a real natter node: Alice uses
 * the app, Bob and Carol are Node clients. Sending and receiving, typing and receipts, a message written
 * offline delivered exactly once after reconnecting, a 10,000-message channel that scrolls back without
 * putting all of it in the DOM, and axe-core finding no serious accessibility violations (light and dark).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient, type Message } from '@natter/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, launchChromium } from './helpers/chromium.js';
import { buildReactExample, type ReactExample, startReactExample } from './helpers/react-example.js';

const UI_TIMEOUT = 15_000;
// `npm run screenshots` writes the README's images to docs/images; otherwise they go to a temp dir.
const screenshots = process.env.NATTER_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'natter-react-shots-'));
const HISTORY = 10_000;

describeInChromium('examples/react-minimal in headless Chromium (real server)', () => {
  let example: ReactExample;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let bob: ChatClient;
  let carol: ChatClient;
  let withBob: string;
  let withCarol: string;
  let bobId: string;
  const bobGot: Message[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    const [outDir, launched] = await Promise.all([buildReactExample(), launchChromium()]);
    browser = launched;
    example = await startReactExample(outDir);
    const alice = new ChatClient({ url: example.url });
    await alice.signup('alice', 'password-alice', 'Alice');
    await alice.close();
    bob = new ChatClient({ url: example.url });
    carol = new ChatClient({ url: example.url });
    const bobUser = await bob.signup('bob', 'password-bob', 'Bob');
    await carol.signup('carol', 'password-carol', 'Carol');
    await Promise.all([bob.connect(), carol.connect()]);
    const aliceId = (await bob.searchUsers('alice'))[0]!.id;
    withCarol = (await carol.openDirect(aliceId)).id;
    // Stop-and-wait per channel: the outbox sends these one after the other, in order.
    const sends = Array.from(
      { length: HISTORY - 1 },
      (_, i) => carol.send(withCarol, `history ${i + 1}`).acked,
    );
    await Promise.all(sends);
    withBob = (await bob.openDirect(aliceId)).id;
    bob.on('message', ({ message }) => bobGot.push(message));
    expect(bobUser.displayName).toBe('Bob');
    bobId = bobUser.id;

    context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    page = await context.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(example.url);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('password-alice');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout: UI_TIMEOUT });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([bob?.close(), carol?.close()]);
    await example?.stop();
  });

  const open = async (name: string) => {
    await page.getByRole('button', { name: new RegExp(`^${name}`) }).click({ timeout: UI_TIMEOUT });
    await page.getByRole('log', { name: 'Messages' }).waitFor({ timeout: UI_TIMEOUT });
  };
  const send = async (text: string) => {
    await page.getByRole('combobox', { name: 'Message' }).fill(text);
    await page.getByRole('combobox', { name: 'Message' }).press('Enter');
  };
  const waitUntil = async (predicate: () => boolean, what: string, timeoutMs = UI_TIMEOUT) => {
    const start = Date.now();
    while (!predicate()) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('sends and receives, with typing and read receipts', async () => {
    await open('Bob');
    await send('Hello Bob, from React');
    await waitUntil(() => bobGot.some((m) => m.text === 'Hello Bob, from React'), 'Bob receiving');
    await page
      .locator('.natter-message[data-status="sent"]', { hasText: 'Hello Bob, from React' })
      .waitFor({ timeout: UI_TIMEOUT });
    bob.setTyping(withBob, true);
    await page.locator('.natter-typing', { hasText: 'Bob is typing…' }).waitFor({ timeout: UI_TIMEOUT });
    await bob.send(withBob, 'Hi Alice, see https://example.org/notes').acked;
    await page.locator('.natter-message-text', { hasText: 'Hi Alice' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await page.locator('.natter-message-text a[href="https://example.org/notes"]').count()).toBe(1);
    await page.locator('.natter-typing:empty').waitFor({ timeout: UI_TIMEOUT });
    // @-mention autocomplete by display name: "@Bo" suggests Bob, Enter picks him, the send mentions him.
    const field = page.getByRole('combobox', { name: 'Message' });
    await field.fill('Thanks @Bo');
    await page.getByRole('option', { name: /Bob/ }).waitFor({ timeout: UI_TIMEOUT });
    await field.press('Enter');
    expect(await field.inputValue()).toBe('Thanks @bob ');
    await field.pressSequentially('see you');
    await field.press('Enter');
    await waitUntil(() => bobGot.some((m) => m.text === 'Thanks @bob see you'), 'the mention reaching Bob');
    expect(bobGot.find((m) => m.text === 'Thanks @bob see you')?.mentions).toEqual([bobId]);
    const mine = bobGot.find((m) => m.text === 'Thanks @bob see you')!;
    await bob.markRead(withBob, mine.seq + 1);
    await page.locator('.natter-receipts', { hasText: 'Seen' }).waitFor({ timeout: UI_TIMEOUT });
  }, 60_000);

  it('keeps a message written offline pending, then delivers it exactly once', async () => {
    await open('Bob');
    await context.setOffline(true);
    await page.locator('.connection', { hasNotText: 'Connected' }).waitFor({ timeout: UI_TIMEOUT });
    await send('Written while offline');
    const row = page.locator('.natter-message', { hasText: 'Written while offline' });
    await row.locator('.natter-message-status', { hasText: 'Sending…' }).waitFor({ timeout: UI_TIMEOUT });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(bobGot.some((m) => m.text === 'Written while offline')).toBe(false);
    await context.setOffline(false);
    await waitUntil(
      () => bobGot.some((m) => m.text === 'Written while offline'),
      'delivery after reconnecting',
      30_000,
    );
    await page
      .locator('.natter-message[data-status="sent"]', { hasText: 'Written while offline' })
      .waitFor({ timeout: UI_TIMEOUT });
    expect(await row.count()).toBe(1);
    const stored = (await bob.history(withBob, { limit: 100 })).messages.filter(
      (m) => m.text === 'Written while offline',
    );
    expect(stored).toHaveLength(1);
  }, 60_000);

  it('scrolls back through a 10,000-message channel with only a window of rows in the DOM', async () => {
    // Opening the channel: its newest messages come from the IndexedDB cache, timed in the page.
    const openedIn = await page.evaluate(
      (newest) =>
        new Promise<number>((resolve) => {
          const started = performance.now();
          const button = Array.from(document.querySelectorAll<HTMLElement>('.natter-channel-name'))
            .find((name) => name.textContent === 'Carol')
            ?.closest('button');
          const done = () =>
            Array.from(document.querySelectorAll('.natter-message-text')).some(
              (el) => el.textContent === newest,
            );
          const observer = new MutationObserver(() => {
            if (!done()) return;
            observer.disconnect();
            resolve(performance.now() - started);
          });
          observer.observe(document.body, { childList: true, subtree: true, characterData: true });
          button?.click();
        }),
      `history ${HISTORY - 1}`,
    );
    console.log(
      `figure: Chromium, click to the newest rows of the 10,000-message channel (IndexedDB cache): ${openedIn.toFixed(0)} ms`,
    );
    expect(openedIn).toBeLessThan(5_000);
    const scroller = page.getByRole('log', { name: 'Messages' });
    await page
      .locator('.natter-message-text', { hasText: `history ${HISTORY - 1}` })
      .waitFor({ timeout: UI_TIMEOUT });
    const rowsLoaded = async () => Number(await scroller.getAttribute('data-rows'));
    const first = await rowsLoaded();
    for (let i = 0; i < 8; i++) {
      const before = await rowsLoaded();
      await scroller.evaluate((el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event('scroll'));
      });
      await page.waitForFunction(
        ([selector, n]) =>
          Number(document.querySelector(selector as string)?.getAttribute('data-rows')) > (n as number),
        ['.natter-scroller', before],
        { timeout: UI_TIMEOUT },
      );
    }
    const loaded = await rowsLoaded();
    const inDom = await page.locator('.natter-message').count();
    const nodes = await page.evaluate(() => document.querySelectorAll('*').length);
    console.log(
      `figure: 10,000-message channel after 8 pages back: ${loaded} rows loaded, ${inDom} message rows and ${nodes} elements in the DOM`,
    );
    expect(loaded).toBeGreaterThan(first + 300);
    expect(loaded).toBeLessThan(HISTORY);
    expect(inDom).toBeLessThan(150);
    expect(nodes).toBeLessThan(2_500);
  }, 90_000);

  it('jumps to a search result deep in the 10,000-message channel and back to the newest', async () => {
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('history 1234');
    await page
      .locator('.natter-search-result', { hasText: 'history 1234' })
      .first()
      .click({ timeout: UI_TIMEOUT });
    const target = page.locator('[data-focused] .natter-message-text', { hasText: /^history 1234$/ });
    await target.waitFor({ timeout: UI_TIMEOUT });
    expect(await target.isVisible()).toBe(true);
    expect(await page.locator('.natter-message').count()).toBeLessThan(150);
    await page.getByRole('button', { name: /Jump to newest/ }).click();
    await page
      .locator('.natter-message-text', { hasText: `history ${HISTORY - 1}` })
      .waitFor({ timeout: UI_TIMEOUT });
    expect(await page.locator('.natter-message-text', { hasText: /^history 1234$/ }).count()).toBe(0);
  }, 60_000);

  it('has no serious accessibility violations, light or dark', async () => {
    await open('Bob');
    const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
    await page.addScriptTag({ path: axePath });
    const audit = () =>
      page.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: {
              run(ctx: Document): Promise<{
                violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }>;
              }>;
            };
          }
        ).axe;
        const result = await axe.run(document);
        return result.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
    expect(await audit()).toEqual([]);
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: join(screenshots, 'react-light.png') });
    // Arrow keys move between conversations.
    await page.locator('.natter-channel').first().focus();
    await page.keyboard.press('ArrowDown');
    expect(
      await page.evaluate(() => document.activeElement === document.querySelectorAll('.natter-channel')[1]),
    ).toBe(true);
    await page.keyboard.press('Home');
    expect(
      await page.evaluate(() => document.activeElement === document.querySelectorAll('.natter-channel')[0]),
    ).toBe(true);
    // The search panel with highlighted hits, audited too.
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('history');
    await page
      .locator('.natter-search-result mark', { hasText: 'history' })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await page.locator('.natter[data-natter-theme="dark"]').waitFor();
    expect(await audit()).toEqual([]);
    await page.screenshot({ path: join(screenshots, 'react-dark.png') });
    expect(errors).toEqual([]);
  }, 60_000);
});
