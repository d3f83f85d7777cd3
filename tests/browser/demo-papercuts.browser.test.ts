/**
 * What a new user of the web demo ran into (issue #18, point 3), each checked in headless Chromium against
 * the reference server: avatars and names right after sign-in, the group dialog, "1 member", mentions by
 * display name and @-autocomplete, clickable links, search as you type with highlighting, receipts in
 * groups, desktop notifications while the tab is hidden, and axe-core in light and dark.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient } from '@natter/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, launchChromium } from './helpers/chromium.js';
import {
  composer,
  conversationItem,
  messageRows,
  openConversation,
  sendMessage,
  signInAsDemoUser,
  UI_TIMEOUT,
  waitForMessage,
  waitForText,
} from './helpers/demo-app.js';
import { type ReferenceServer, startReferenceServer } from './helpers/reference-server.js';

const screenshots = process.env.NATTER_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'natter-screenshots-'));
const DESKTOP = { width: 1280, height: 800 };

/** The computed background colour of the first element matching `selector`. */
function background(page: Page, selector: string): Promise<string> {
  return page
    .locator(selector)
    .first()
    .evaluate((el) => getComputedStyle(el).backgroundColor);
}

/** Notifications the page's service worker shows now, as "title: body". */
function shownNotifications(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => `${n.title}: ${n.body}`);
  });
}

describeInChromium('web demo papercuts (issue #18) in headless Chromium', () => {
  let server: ReferenceServer;
  let browser: Browser;
  let aliceContext: BrowserContext;
  let bobContext: BrowserContext;
  let alice: Page;
  let bob: Page;
  const errors: string[] = [];

  const watch = (page: Page, who: string) => {
    page.on('pageerror', (err) => errors.push(`${who}: ${err.message}`));
    return page;
  };

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    [server, browser] = await Promise.all([
      startReferenceServer({ NATTER_PRESENCE_GRACE_MS: '7000' }),
      launchChromium(),
    ]);
    // Alice allowed notifications (as after clicking "Turn on notifications"); Bob has not decided yet.
    aliceContext = await browser.newContext({ viewport: DESKTOP, permissions: ['notifications'] });
    bobContext = await browser.newContext({ viewport: DESKTOP });
    alice = watch(await aliceContext.newPage(), 'alice');
    bob = watch(await bobContext.newPage(), 'bob');
    await signInAsDemoUser(bob, server.url, 'bob');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows the name and avatar at once after sign-in, in the colour the sign-in screen uses', async () => {
    await alice.goto(`${server.url}/`);
    // Never signed in here: the avatar is neutral rather than a colour that would change afterwards.
    const demoAvatar = '[data-demo-user=alice] .natter-avatar';
    expect(await alice.locator(demoAvatar).getAttribute('data-neutral')).toBe('true');
    await alice.click('[data-demo-user=alice]');
    const head = alice.locator('.sidebar-head');
    await head.locator('.me-name', { hasText: 'Alice' }).waitFor({ timeout: UI_TIMEOUT });
    // The first frame with the app already has the initials (it used to show "…").
    expect(await head.locator('.natter-avatar').textContent()).toBe('AL');
    const inApp = await background(alice, '.sidebar-head .natter-avatar');

    await alice.click('summary[aria-label="Account menu"]');
    await alice.click('text=Switch account');
    await alice.locator('#saved-heading').waitFor({ timeout: UI_TIMEOUT });
    expect(await background(alice, '.login-section .user-button .natter-avatar')).toBe(inApp);
    expect(await alice.locator(demoAvatar).getAttribute('data-neutral')).toBeNull();
    expect(await background(alice, demoAvatar)).toBe(inApp);
    await alice.click('button:has-text("Alice") >> nth=0');
    await conversationItem(alice, 'Bob').waitFor({ timeout: UI_TIMEOUT });
  }, 60_000);

  it('group dialog: a click on a name picks the person and clears the query; no group of one', async () => {
    await alice.click('text=New group');
    await alice.fill('#new-group-name', 'Book club');
    const create = alice.locator('#new-group button[type=submit]');
    expect(await create.isDisabled()).toBe(true);
    expect(await alice.locator('#new-group-missing').textContent()).toBe('Add at least one person.');

    await alice.fill('#new-group-search', 'bo');
    // The name itself, not a separate "Add" button.
    await alice
      .locator('#new-group-search-results .user-name', { hasText: 'Bob' })
      .click({ timeout: UI_TIMEOUT });
    await alice.locator('.chip', { hasText: 'Bob' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await alice.inputValue('#new-group-search')).toBe('');
    expect(await alice.evaluate(() => document.activeElement?.id)).toBe('new-group-search');
    expect(await alice.locator('#new-group-search-results li').count()).toBe(0);
    await waitForText(alice.locator('#new-group-count'), '2 of 100 members');
    expect(await create.isDisabled()).toBe(false);
    await create.click();
    await alice.locator('#conversation-title', { hasText: 'Book club' }).waitFor({ timeout: UI_TIMEOUT });
    await waitForText(alice.locator('#conversation-subtitle'), /^2 members/);
  }, 60_000);

  it('mentions: @-autocomplete, "@Bob" by display name, clickable links; group receipts without ticks', async () => {
    await openConversation(bob, 'Book club');
    await composer(alice).fill('Welcome @Bo');
    const option = alice.getByRole('option', { name: /Bob/ });
    await option.waitFor({ timeout: UI_TIMEOUT });
    await composer(alice).press('Enter');
    expect(await composer(alice).inputValue()).toBe('Welcome @bob ');
    await composer(alice).pressSequentially('see https://example.com/books?id=1');
    await composer(alice).press('Enter');
    await waitForMessage(bob, 'see https://example.com');
    const first = messageRows(bob, 'see https://example.com');
    expect(await first.locator('.natter-mention').textContent()).toBe('@bob');
    const link = first.getByRole('link', { name: 'https://example.com/books?id=1' });
    expect(await link.getAttribute('href')).toBe('https://example.com/books?id=1');
    expect(await link.getAttribute('target')).toBe('_blank');

    // Written by hand with the display name: still a mention, and in Bob's "Mentions".
    await sendMessage(alice, 'Thanks @Bob, see you Thursday');
    await waitForMessage(bob, 'see you Thursday');
    expect(await messageRows(bob, 'see you Thursday').locator('.natter-mention').textContent()).toBe('@Bob');
    await bob.click('#open-mentions');
    await bob.locator('.result', { hasText: 'see you Thursday' }).waitFor({ timeout: UI_TIMEOUT });
    await bob.click('#panel button[aria-label="Close panel"]');

    // Bob read it: the group line names him, with no single tick beside it.
    await waitForText(alice.locator('.natter-receipts'), 'Read by Bob');
    const own = messageRows(alice, 'see you Thursday');
    expect(await own.textContent()).not.toMatch(/✓/);
  }, 60_000);

  it('search runs as you type and highlights the words found', async () => {
    await bob.click('#open-search');
    await bob.getByRole('searchbox', { name: 'Search messages' }).pressSequentially('thursday');
    const hit = bob.locator('.natter-search-result', { hasText: 'see you Thursday' });
    await hit.waitFor({ timeout: UI_TIMEOUT });
    expect(await hit.locator('mark').first().textContent()).toBe('Thursday');
    await bob.click('#panel button[aria-label="Close panel"]');
  }, 60_000);

  it('a group one member left says "1 member"', async () => {
    const channelId = /#\/c\/(.+)$/.exec(alice.url())![1]!;
    const bobClient = new ChatClient({ url: server.url });
    try {
      await bobClient.login('bob', 'natter-demo');
      await bobClient.leaveGroup(channelId);
    } finally {
      await bobClient.close();
    }
    await waitForText(alice.locator('#conversation-subtitle'), /^1 member$/);
  }, 60_000);

  it('a message arriving while the tab is hidden shows a desktop notification through the service worker', async () => {
    await alice.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await openConversation(alice, 'Bob');
    await openConversation(bob, 'Alice');
    // Bob has not been asked yet: the app offers to turn notifications on instead of prompting on load.
    await bob.getByRole('button', { name: 'Turn on notifications' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await alice.getByRole('button', { name: 'Turn on notifications' }).count()).toBe(0);

    await sendMessage(bob, 'Visible tab, no notification');
    await waitForMessage(alice, 'Visible tab, no notification');
    expect(await shownNotifications(alice)).toEqual([]);

    await alice.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await sendMessage(bob, 'Are you there? The tab is hidden');
    await waitForMessage(alice, 'The tab is hidden');
    const deadline = Date.now() + UI_TIMEOUT;
    let shown: string[] = [];
    while (Date.now() < deadline && shown.length === 0) {
      shown = await shownNotifications(alice);
      if (shown.length === 0) await alice.waitForTimeout(100);
    }
    expect(shown).toEqual(['Bob: Are you there? The tab is hidden']);
    await alice.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
  }, 60_000);

  it('has no serious or critical axe-core violations, light and dark', async () => {
    await openConversation(alice, 'Bob');
    await waitForMessage(alice, 'The tab is hidden');
    const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
    // The server's CSP refuses inline scripts (addScriptTag); evaluating through the DevTools protocol is
    // not the page's own script, so it runs.
    await alice.evaluate(readFileSync(axePath, 'utf8'));
    const audit = () =>
      alice.evaluate(async () => {
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
    await alice.click('summary[aria-label="Account menu"]');
    await alice.selectOption('.menu-theme select', 'light');
    await alice.click('summary[aria-label="Account menu"]');
    expect(await audit()).toEqual([]);
    await alice.screenshot({ path: join(screenshots, 'demo-light.png') });

    await alice.click('summary[aria-label="Account menu"]');
    await alice.selectOption('.menu-theme select', 'dark');
    await alice.click('summary[aria-label="Account menu"]');
    expect(await alice.locator('.natter').getAttribute('data-natter-theme')).toBe('dark');
    expect(await audit()).toEqual([]);
    await alice.screenshot({ path: join(screenshots, 'demo-dark.png') });
    expect(errors).toEqual([]);
  }, 60_000);
});
