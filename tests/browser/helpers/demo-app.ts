/**
 * Drives the web demo like a user: sign in, open conversations, type and send. The demo is built on
 * `@natter/react`, so most selectors are the kit's (`.natter-*`) or roles and labels.
 */
import type { Locator, Page } from 'playwright-core';

/** How long to wait for something to show up. */
export const UI_TIMEOUT = 20_000;

/** Signs in with one of the seeded demo users from the sign-in screen. */
export async function signInAsDemoUser(
  page: Page,
  url: string,
  username: 'alice' | 'bob' | 'carol',
): Promise<void> {
  await page.goto(`${url}/`);
  await page.click(`[data-demo-user=${username}]`);
  await page.locator('.natter-channel').first().waitFor({ timeout: UI_TIMEOUT });
}

/** The conversation list entry with this title. */
export function conversationItem(page: Page, title: string): Locator {
  return page
    .locator('.natter-channel')
    .filter({ has: page.locator('.natter-channel-name', { hasText: new RegExp(`^${title}$`) }) });
}

/** Opens a conversation from the list. */
export async function openConversation(page: Page, title: string): Promise<void> {
  await conversationItem(page, title).click({ timeout: UI_TIMEOUT });
  await page.locator('#conversation-title', { hasText: title }).waitFor({ timeout: UI_TIMEOUT });
}

/** The open conversation's message field. */
export function composer(page: Page): Locator {
  return page.getByRole('combobox', { name: 'Message' });
}

/** Types a message and presses Enter. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** The rows of the open conversation showing `text`. */
export function messageRows(page: Page, text: string | RegExp): Locator {
  return page
    .locator('.natter-message')
    .filter({ has: page.locator('.natter-message-text', { hasText: text }) });
}

/** Waits for a message with `text` in the open conversation. */
export async function waitForMessage(page: Page, text: string | RegExp): Promise<void> {
  await messageRows(page, text).first().waitFor({ timeout: UI_TIMEOUT });
}

/** Waits until `locator` has exactly `count` elements. */
export async function waitForCount(locator: Locator, count: number, timeoutMs = UI_TIMEOUT): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await locator.count();
    if (n === count) return;
    if (Date.now() > deadline) throw new Error(`expected ${count} elements, found ${n}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the element's text matches. */
export async function waitForText(
  locator: Locator,
  expected: string | RegExp,
  timeoutMs = UI_TIMEOUT,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await locator.count()) > 0 ? ((await locator.first().textContent()) ?? '') : '';
    if (typeof expected === 'string' ? text.includes(expected) : expected.test(text)) return;
    if (Date.now() > deadline) throw new Error(`expected text ${expected}, found "${text}"`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
