/**
 * End-to-end encryption in the web demo, in headless Chromium against the reference server: Alice opens an
 * encrypted 1-1 with Bob from "New chat", messages go both ways, the lock shows in the list and the header,
 * the device lists show fingerprints equal on both screens for the same device, and a new device of Bob's (a
 * third browser context) joins, is noticed by Alice ("Bob added a device") and reads what is sent after it
 * joined, while what was sent before shows in place as unreadable. Screenshot: docs/images/demo-e2ee.png
 * with `npm run screenshots`.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, launchChromium } from './helpers/chromium.js';
import {
  sendMessage,
  signInAsDemoUser,
  UI_TIMEOUT,
  waitForMessage,
  waitForText,
} from './helpers/demo-app.js';
import { type ReferenceServer, startReferenceServer } from './helpers/reference-server.js';

const screenshots = process.env.NATTER_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'natter-screenshots-'));
const DESKTOP = { width: 1280, height: 800 };
/** MLS work (group creation, external joins) on a loaded 2-core machine: generous, never a timing goal. */
const E2EE_TIMEOUT = 60_000;

/** The encrypted conversation in the list (the seeded plaintext 1-1 has the same title). */
const encryptedItem = (page: Page, title: string): Locator =>
  page
    .locator('.natter-channel')
    .filter({ has: page.locator('.natter-channel-name', { hasText: new RegExp(`^${title}$`) }) })
    .filter({ has: page.getByRole('img', { name: 'End-to-end encrypted' }) });

/** Opens the encrypted conversation titled `title` (waiting for it to reach the list). */
async function openEncrypted(page: Page, title: string): Promise<void> {
  await encryptedItem(page, title).click({ timeout: E2EE_TIMEOUT });
  await page
    .locator('#conversation-title', { hasText: title })
    .getByRole('img', { name: 'End-to-end encrypted' })
    .waitFor({ timeout: UI_TIMEOUT });
}

/** Opens the details panel of the open conversation (if closed). */
async function openDetails(page: Page): Promise<void> {
  if ((await page.locator('#details-toggle').getAttribute('aria-expanded')) !== 'true')
    await page.click('#details-toggle');
  await page.locator('#encryption-heading').waitFor({ timeout: UI_TIMEOUT });
}

/** The fingerprints a device list shows, waiting until it lists `count` devices. */
async function fingerprints(page: Page, listName: string, count: number): Promise<string[]> {
  const list = page.getByRole('region', { name: listName }).locator('.natter-fingerprint');
  const deadline = Date.now() + E2EE_TIMEOUT;
  while ((await list.count()) !== count) {
    if (Date.now() > deadline)
      throw new Error(`${listName}: expected ${count} devices, found ${await list.count()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return list.allTextContents();
}

describeInChromium('web demo: end-to-end encrypted 1-1 in headless Chromium', () => {
  let server: ReferenceServer;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  let bobPhone: Page;
  const errors: string[] = [];

  const watch = (page: Page, who: string) => {
    page.on('pageerror', (err) => errors.push(`${who}: ${err.stack}`));
    return page;
  };

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    [server, browser] = await Promise.all([startReferenceServer(), launchChromium()]);
    alice = watch(await (await browser.newContext({ viewport: DESKTOP })).newPage(), 'alice');
    bob = watch(await (await browser.newContext({ viewport: DESKTOP })).newPage(), 'bob');
    await Promise.all([
      signInAsDemoUser(alice, server.url, 'alice'),
      signInAsDemoUser(bob, server.url, 'bob'),
    ]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('opens an encrypted 1-1 from "New chat"; messages go both ways under a lock', async () => {
    await alice.getByRole('button', { name: 'New chat' }).click();
    await alice.getByLabel('End-to-end encrypted').check();
    await alice.getByLabel('Find a person by username').fill('bob');
    await alice.getByRole('button', { name: 'Chat with Bob' }).click({ timeout: UI_TIMEOUT });
    await alice
      .locator('#conversation-title')
      .getByRole('img', { name: 'End-to-end encrypted' })
      .waitFor({ timeout: E2EE_TIMEOUT });
    await expect(encryptedItem(alice, 'Bob').count()).resolves.toBe(1);

    await sendMessage(alice, 'hello, encrypted Bob');
    await openEncrypted(bob, 'Alice');
    await waitForMessage(bob, 'hello, encrypted Bob');
    await sendMessage(bob, 'hello, encrypted Alice');
    await waitForMessage(alice, 'hello, encrypted Alice');
  }, 180_000);

  it("shows each device's fingerprint, equal on both screens", async () => {
    await Promise.all([openDetails(alice), openDetails(bob)]);
    const [aliceOwn] = await fingerprints(alice, 'Your devices', 1);
    const [aliceSeenByBob] = await fingerprints(bob, "Alice's devices", 1);
    const [bobOwn] = await fingerprints(bob, 'Your devices', 1);
    const [bobSeenByAlice] = await fingerprints(alice, "Bob's devices", 1);
    expect(aliceOwn).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(aliceSeenByBob).toBe(aliceOwn);
    expect(bobSeenByAlice).toBe(bobOwn);
    expect(bobOwn).not.toBe(aliceOwn);
    await expect(
      alice.getByRole('region', { name: 'Your devices' }).getByText('(this device)').count(),
    ).resolves.toBe(1);
  }, 180_000);

  it('a new device of Bob joins: Alice is told, it reads what is sent after it joined', async () => {
    const before = 'sent before the new device';
    await sendMessage(alice, before);
    await waitForMessage(bob, before);

    const phoneContext = await browser.newContext({ viewport: DESKTOP });
    bobPhone = watch(await phoneContext.newPage(), 'bob-phone');
    await signInAsDemoUser(bobPhone, server.url, 'bob');

    // Alice's open panel reads Bob's list again: two devices, and a notice. The new device's fingerprint
    // is the one it shows as its own.
    await waitForText(
      alice.getByRole('region', { name: "Bob's devices" }),
      'Bob added a device',
      E2EE_TIMEOUT,
    );
    const bobDevices = await fingerprints(alice, "Bob's devices", 2);
    await openEncrypted(bobPhone, 'Alice');
    await openDetails(bobPhone);
    const phoneOwn = await fingerprints(bobPhone, 'Your devices', 2);
    expect(new Set(phoneOwn)).toEqual(new Set(bobDevices));

    // Sent once the phone's external join is in the log, which Alice's device has then read: her next
    // message is for the epoch that includes the phone. Her device list showing the phone tells us that
    // the phone published itself; the join follows at its connect, so retry the send until it is read.
    const deadline = Date.now() + E2EE_TIMEOUT * 2;
    let attempt = 0;
    for (;;) {
      attempt += 1;
      const text = `after the new device joined #${attempt}`;
      await sendMessage(alice, text);
      try {
        await waitForMessage(bobPhone, text);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
    // What was sent before it joined is shown in place, never dropped.
    await bobPhone
      .locator('.natter-message-system')
      .filter({ hasText: /Unable to decrypt this message|Encrypted message/ })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await expect(bobPhone.locator('.natter-message-text', { hasText: before }).count()).resolves.toBe(0);
    await alice.screenshot({ path: join(screenshots, 'demo-e2ee.png') });
  }, 300_000);

  it('raised no page errors', () => {
    expect(errors).toEqual([]);
  });
});
