/**
 * The web demo end to end, as `npm start` serves it: the real reference server with its seeded demo users,
 * driven in headless Chromium. Two people in separate browser contexts chat 1-1 and in a group; presence,
 * typing, receipts, history, search, mentions, offline sending with a reload, two tabs of one account, and
 * phone width. Screenshots go to NATTER_SCREENSHOT_DIR (`npm run screenshots` sets docs/images/), else a temp dir.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
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
  waitForCount,
  waitForMessage,
  waitForText,
} from './helpers/demo-app.js';
import { type ReferenceServer, startReferenceServer } from './helpers/reference-server.js';

// Screenshots go to a temp dir unless asked for: `npm run screenshots` refreshes the README's images in docs/images/.
const screenshots = process.env.NATTER_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'natter-screenshots-'));
const DESKTOP = { width: 1280, height: 800 };
/** Own messages still in the outbox. */
const pending = (page: Page) =>
  page.locator('.natter-message:is([data-status="pending"], [data-status="sending"])');
const PHONE = { width: 390, height: 844 };

describeInChromium('web demo in headless Chromium (reference server, seeded users)', () => {
  let server: ReferenceServer;
  let browser: Browser;
  let aliceContext: BrowserContext;
  let bobContext: BrowserContext;
  let alice: Page;
  let bob: Page;
  const errors: string[] = [];

  const watch = (page: Page, who: string) => {
    page.on('pageerror', (err) => errors.push(`${who}: ${err.stack}`));
    page.on('console', (msg) => {
      if (
        msg.type() === 'error' &&
        !/ERR_INTERNET_DISCONNECTED|Failed to load resource|WebSocket/.test(msg.text())
      )
        errors.push(`${who}: ${msg.text()}`);
    });
    return page;
  };
  const shoot = (page: Page, name: string) => page.screenshot({ path: join(screenshots, name) });

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    [server, browser] = await Promise.all([
      // Longer than the demo's 5 s heartbeat, so a connected user never flaps offline between pings.
      startReferenceServer({ NATTER_PRESENCE_GRACE_MS: '7000' }),
      launchChromium(),
    ]);
    aliceContext = await browser.newContext({ viewport: DESKTOP });
    bobContext = await browser.newContext({ viewport: DESKTOP });
    alice = watch(await aliceContext.newPage(), 'alice');
    bob = watch(await bobContext.newPage(), 'bob');
    await Promise.all([
      signInAsDemoUser(alice, server.url, 'alice'),
      signInAsDemoUser(bob, server.url, 'bob'),
    ]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('prints the demo users and serves the app with its API on one port', () => {
    expect(server.output()).toMatch(/Demo users\s+alice, bob, carol \(password natter-demo\)/);
  });

  it('two people chat 1-1 with unread badges, typing, presence and read receipts', async () => {
    await openConversation(alice, 'Bob');
    await waitForText(alice.locator('#conversation-subtitle'), 'online');
    await sendMessage(alice, 'Hi Bob! Did you get the notes from Tuesday?');
    await waitForMessage(alice, 'notes from Tuesday');

    const badge = conversationItem(bob, 'Alice').locator('.natter-badge');
    await waitForText(badge, '1');
    expect(await conversationItem(bob, 'Alice').locator('.natter-channel-preview').textContent()).toContain(
      'notes from Tuesday',
    );
    // Sorted by activity: the conversation just written to comes first.
    expect(await bob.locator('.natter-channel .natter-channel-name').first().textContent()).toBe('Alice');

    await openConversation(bob, 'Alice');
    await waitForMessage(bob, 'notes from Tuesday');
    await waitForCount(badge, 0);
    await waitForText(alice.locator('.natter-receipts'), 'Seen');

    await composer(bob).fill('Yes, reading');
    await waitForText(alice.locator('.natter-typing'), 'Bob is typing…');
    await sendMessage(bob, 'Yes, reading them now. Looks good!');
    await waitForMessage(alice, 'Looks good');
    await waitForText(alice.locator('.natter-typing'), /^$/);
    await sendMessage(alice, "Great, let's go through them tomorrow.");
    await waitForMessage(bob, 'tomorrow');
    await waitForText(alice.locator('.natter-receipts'), 'Seen');
    expect(await alice.locator('.natter-day').first().textContent()).toBe('Today');
  }, 60_000);

  it('creates a group, renames it, adds and removes members, with the member limit shown', async () => {
    await alice.click('text=New group');
    await alice.fill('#new-group-name', 'Weekend trip');
    await alice.fill('#new-group-search', 'bo');
    await alice.click('button[aria-label="Add Bob"]', { timeout: UI_TIMEOUT });
    await waitForText(alice.locator('#new-group-count'), '2 of 100 members');
    await alice.click('#new-group button[type=submit]');
    await alice.locator('#conversation-title', { hasText: 'Weekend trip' }).waitFor({ timeout: UI_TIMEOUT });
    await conversationItem(bob, 'Weekend trip').waitFor({ timeout: UI_TIMEOUT });

    await alice.click('#details-toggle');
    await waitForText(alice.locator('#member-count'), '2 of 100');
    await alice.fill('#group-name', 'Weekend plans');
    await alice.click('#panel button:text-is("Rename")');
    await waitForText(alice.locator('#conversation-title'), 'Weekend plans');
    await conversationItem(bob, 'Weekend plans').waitFor({ timeout: UI_TIMEOUT });

    await alice.fill('#add-member', 'car');
    await alice.click('button[aria-label="Add Carol"]', { timeout: UI_TIMEOUT });
    await waitForText(alice.locator('#member-count'), '3 of 100');
    expect(await alice.locator('#group-full').textContent()).toBe('Groups can have up to 100 members.');
    await alice.click('button[aria-label="Remove Carol"]', { timeout: UI_TIMEOUT });
    await waitForText(alice.locator('#member-count'), '2 of 100');

    await openConversation(bob, 'Weekend plans');
    await bob
      .locator('.natter-message-system', { hasText: 'Alice renamed the group to “Weekend plans”' })
      .waitFor({ timeout: UI_TIMEOUT });
    await bob
      .locator('.natter-message-system', { hasText: 'Alice removed Carol' })
      .waitFor({ timeout: UI_TIMEOUT });

    await sendMessage(alice, 'Who is in for a hike on Saturday, @bob?');
    await waitForMessage(bob, 'hike on Saturday');
    expect(await messageRows(bob, 'hike on Saturday').locator('.natter-mention').textContent()).toBe('@bob');
    await sendMessage(bob, 'Count me in! I will bring snacks.');
    await waitForMessage(alice, 'bring snacks');
    await waitForText(alice.locator('.natter-receipts'), 'Read by Bob');
    await shoot(alice, 'demo-group.png');
    await alice.click('#details-toggle');
  }, 60_000);

  it('loads history on scroll, and jumps to messages from search results and mentions', async () => {
    // Carol writes a long 1-1 history to Bob through the SDK in Node.
    const carol = new ChatClient({ url: server.url });
    try {
      await carol.login('carol', 'natter-demo');
      await carol.connect();
      const bobUser = (await carol.searchUsers('bob'))[0]!;
      const { id } = await carol.openDirect(bobUser.id);
      const sends = [];
      for (let i = 1; i <= 120; i++) {
        const text = i === 5 ? 'Message 5: the secret word is pineapple' : `Message ${i}`;
        sends.push(carol.send(id, text).acked);
        if (i === 12)
          sends.push(carol.send(id, 'Hey @bob, message 12 is for you', { mentions: [bobUser.id] }).acked);
      }
      await Promise.all(sends);
    } finally {
      await carol.close();
    }

    await openConversation(bob, 'Carol');
    await waitForMessage(bob, 'Message 120');
    const loaded = await bob.locator('.natter-message').count();
    expect(loaded).toBeLessThan(100);

    await bob.click('#open-search');
    // Search as you type: no Enter needed.
    await bob.getByRole('searchbox', { name: 'Search messages' }).fill('pineapple');
    await bob.click('.natter-search-result', { timeout: UI_TIMEOUT });
    const target = messageRows(bob, 'secret word is pineapple');
    await target.waitFor({ timeout: UI_TIMEOUT });
    await waitForCount(bob.locator('[data-focused]'), 1);
    expect(await target.isVisible()).toBe(true);

    await bob.click('#open-mentions');
    await bob.click('.result', { timeout: UI_TIMEOUT });
    await waitForMessage(bob, 'message 12 is for you');
    expect(await messageRows(bob, 'message 12 is for you').isVisible()).toBe(true);
    await bob.click('#panel button[aria-label="Close panel"]');

    await bob.click('.natter-jump');
    await waitForMessage(bob, 'Message 120');
    // Scrolling up loads older pages until the start of the conversation.
    for (let i = 0; i < 20 && !(await messageRows(bob, /^Message 1$/).count()); i++) {
      // From a little below the top, as a wheel would: the list loads older pages on scroll events, and
      // setting scrollTop to 0 when it is 0 already fires none.
      await bob.locator('.natter-scroller').evaluate((el) => {
        el.scrollTop = 300;
      });
      await bob.waitForTimeout(50);
      await bob.locator('.natter-scroller').evaluate((el) => {
        el.scrollTop = 0;
      });
      await bob.waitForTimeout(300);
    }
    await waitForMessage(bob, /^Message 1$/);
    // Every message is in the list's rows (the DOM holds only those near the viewport).
    const rows = Number(await bob.locator('.natter-scroller').getAttribute('data-rows'));
    expect(rows).toBeGreaterThanOrEqual(122);
    expect(await bob.locator('.natter-message').count()).toBeLessThan(100);
  }, 90_000);

  it('two tabs of one account stay in sync', async () => {
    const second = watch(await aliceContext.newPage(), 'alice-tab-2');
    await second.goto(`${server.url}/`);
    await conversationItem(second, 'Bob').waitFor({ timeout: UI_TIMEOUT });
    await openConversation(alice, 'Bob');

    await openConversation(bob, 'Alice');
    await sendMessage(bob, 'Ping for both tabs');
    await waitForMessage(alice, 'Ping for both tabs');
    // The first tab shows the conversation and reads it: the second tab's badge clears too.
    await waitForCount(conversationItem(second, 'Bob').locator('.natter-badge'), 0);

    await openConversation(second, 'Bob');
    await waitForMessage(second, 'Ping for both tabs');
    await sendMessage(second, 'Sent from my second tab');
    await waitForMessage(alice, 'Sent from my second tab');
    expect(await messageRows(alice, 'Sent from my second tab').getAttribute('data-own')).toBe('true');
    await waitForMessage(bob, 'Sent from my second tab');
    await second.close();
  }, 60_000);

  it('keeps messages sent offline through a reload and delivers each exactly once', async () => {
    // The service worker must hold the app shell before the network goes.
    await alice.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await openConversation(alice, 'Bob');
    await aliceContext.setOffline(true);
    await waitForText(alice.locator('#connection-banner'), 'You are offline');
    await sendMessage(alice, 'Offline message one');
    await sendMessage(alice, 'Offline message two');
    await waitForCount(pending(alice), 2);
    await waitForText(alice.locator('#connection-banner'), '2 messages will be sent when you are back');
    // Presence pushed over the lost connection is stale: not shown as "online".
    await waitForText(alice.locator('#conversation-subtitle'), 'waiting for network');
    await shoot(alice, 'demo-offline.png');

    await alice.reload();
    await waitForCount(pending(alice), 2);
    await waitForMessage(alice, 'tomorrow');
    // Receipts are remembered: still "Seen" after a reload without network (it used to fall back to "Sent").
    await waitForText(alice.locator('.natter-receipts'), 'Seen');
    expect(await alice.locator('#connection-banner').textContent()).toContain('You are offline');

    await aliceContext.setOffline(false);
    await waitForCount(pending(alice), 0, 30_000);
    await waitForMessage(bob, 'Offline message two');
    await bob.waitForTimeout(1_000);
    expect(await messageRows(bob, 'Offline message one').count()).toBe(1);
    expect(await messageRows(bob, 'Offline message two').count()).toBe(1);
    expect(await messageRows(alice, 'Offline message one').count()).toBe(1);
    await waitForCount(alice.locator('#connection-banner:visible'), 0);
  }, 90_000);

  it('shows presence changes: away, back online, and last seen after leaving', async () => {
    await openConversation(alice, 'Bob');
    await waitForText(alice.locator('#conversation-subtitle'), 'online');
    // The README's picture: an unread badge on another conversation, and Bob typing.
    await openConversation(bob, 'Weekend plans');
    await sendMessage(bob, 'Forecast says sunny on Saturday.');
    await waitForText(conversationItem(alice, 'Weekend plans').locator('.natter-badge'), '1');
    await openConversation(bob, 'Alice');
    await composer(bob).fill('See you');
    await waitForText(alice.locator('.natter-typing'), 'Bob is typing…');
    await shoot(alice, 'demo-desktop.png');

    await bob.selectOption('#my-status', 'away');
    await waitForText(alice.locator('#conversation-subtitle'), 'away');
    await bob.selectOption('#my-status', 'online');
    await waitForText(alice.locator('#conversation-subtitle'), 'online');

    await bobContext.close();
    await waitForText(alice.locator('#conversation-subtitle'), 'last seen', 20_000);
    expect(await conversationItem(alice, 'Bob').locator('.natter-presence').getAttribute('data-status')).toBe(
      'offline',
    );
  }, 60_000);

  it('works at phone width: the list, then one conversation with a way back', async () => {
    const context = await browser.newContext({
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const phone = watch(await context.newPage(), 'carol-phone');
    await signInAsDemoUser(phone, server.url, 'carol');
    await conversationItem(phone, 'Demo group').waitFor({ timeout: UI_TIMEOUT });
    expect(await phone.locator('#conversation').isVisible()).toBe(false);
    await shoot(phone, 'demo-phone-list.png');

    await openConversation(phone, 'Demo group');
    expect(await phone.locator('.sidebar').isVisible()).toBe(false);
    await sendMessage(phone, 'Hello from my phone!');
    await waitForMessage(phone, 'Hello from my phone!');
    const box = await composer(phone).boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    await shoot(phone, 'demo-phone-chat.png');

    await phone.click('button[aria-label="Back to conversations"]');
    await phone.locator('.sidebar').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await context.close();
    expect(errors).toEqual([]);
  }, 60_000);
});
