/**
 * Moderation in the web demo (issue #15, as users meet it), in headless Chromium against a natter node in
 * this process (so the test can read the server's reports through the server API): block from a 1-1
 * conversation's Info (the blocked person's message never arrives, their presence is not shown) and
 * unblock; report a message by keyboard; an admin bans a member, who loses the group and cannot be added
 * back; slow mode's line, and an early second send that waits for its turn. axe-core checks each dialog.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
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
import { type DemoHost, startDemoHost } from './helpers/demo-host.js';

const DESKTOP = { width: 1280, height: 800 };
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical axe-core violations inside `selector` (a dialog that is open). */
async function axeViolations(page: Page, selector: string): Promise<string[]> {
  // The CSP refuses inline scripts; evaluating through the DevTools protocol is not the page's own script.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async (include) => {
    const axe = (
      window as unknown as {
        axe: {
          run(ctx: { include: string[] }): Promise<{
            violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }>;
          }>;
        };
      }
    ).axe;
    const result = await axe.run({ include: [include] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, selector);
}

/** Opens the side panel's details of the open conversation. */
async function openDetails(page: Page): Promise<void> {
  if ((await page.locator('#details-toggle').getAttribute('aria-expanded')) !== 'true')
    await page.click('#details-toggle');
  await page.locator('#panel').waitFor({ timeout: UI_TIMEOUT });
}

/** A group member's line in Group info. */
function memberLine(page: Page, name: string) {
  return page.locator('.members li').filter({ has: page.locator('.user-name', { hasText: name }) });
}

describeInChromium('moderation in the web demo (headless Chromium)', () => {
  let host: DemoHost;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  let carol: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    [host, browser] = await Promise.all([startDemoHost({ presenceGraceMs: 1_000 }), launchChromium()]);
    const page = async (who: string) => {
      const p = await (await browser.newContext({ viewport: DESKTOP })).newPage();
      p.on('pageerror', (err) => errors.push(`${who}: ${err.message}`));
      return p;
    };
    [alice, bob, carol] = await Promise.all([page('alice'), page('bob'), page('carol')]);
    await Promise.all([
      signInAsDemoUser(alice, host.url, 'alice'),
      signInAsDemoUser(bob, host.url, 'bob'),
      signInAsDemoUser(carol, host.url, 'carol'),
    ]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('blocking from Info stops the blocked person’s messages and hides their presence; unblocking restores both', async () => {
    await openConversation(alice, 'Bob');
    await openDetails(alice);
    await waitForText(alice.locator('#contact-status'), 'online');

    await alice.click('#block-user');
    const confirm = alice.getByRole('dialog', { name: 'Block Bob?' });
    await confirm.waitFor({ timeout: UI_TIMEOUT });
    expect(await confirm.textContent()).toContain('They are not told that you blocked them');
    expect(await axeViolations(alice, '#confirm-block')).toEqual([]);
    await confirm.getByRole('button', { name: 'Block', exact: true }).click();
    await waitForText(alice.locator('#contact-status'), 'Blocked');
    await waitForText(alice.locator('#conversation-subtitle'), 'Blocked');
    // No presence dot for Bob, and no composer: a bar offers Unblock instead.
    expect(await alice.locator('.conversation-head .natter-presence').count()).toBe(0);
    await alice.locator('#blocked-bar').waitFor({ timeout: UI_TIMEOUT });
    expect(await composer(alice).count()).toBe(0);

    // Bob's message is refused (he is told only that Alice takes no messages) and never reaches Alice.
    await openConversation(bob, 'Alice');
    await sendMessage(bob, 'Are you ignoring me?');
    await messageRows(bob, 'Are you ignoring me?')
      .and(bob.locator('[data-status="failed"]'))
      .waitFor({ timeout: UI_TIMEOUT });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await messageRows(alice, 'Are you ignoring me?').count()).toBe(0);

    // Bob is online, yet Alice sees no presence of his anywhere: the group's member list says offline.
    await openConversation(alice, 'Demo group');
    await openDetails(alice);
    await waitForText(memberLine(alice, 'Bob').locator('.hint'), /^offline/);
    await bob.selectOption('#my-status', 'away');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await memberLine(alice, 'Bob').locator('.hint').textContent()).toMatch(/^offline/);
    await bob.selectOption('#my-status', 'online');

    // "Blocked people" in the account menu lists Bob; Unblock there restores presence and messages.
    await alice.click('summary[aria-label="Account menu"]');
    await alice.click('#open-blocked');
    const blockedList = alice.getByRole('dialog', { name: 'Blocked people' });
    await blockedList.getByRole('button', { name: 'Unblock Bob' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await axeViolations(alice, '#blocked-people')).toEqual([]);
    await blockedList.getByRole('button', { name: 'Unblock Bob' }).click();
    await blockedList.getByText('You have not blocked anyone').waitFor({ timeout: UI_TIMEOUT });
    await blockedList.getByRole('button', { name: 'Close' }).click();
    await waitForText(memberLine(alice, 'Bob').locator('.hint'), /^online/);

    await openConversation(alice, 'Bob');
    await composer(alice).waitFor({ timeout: UI_TIMEOUT });
    await sendMessage(bob, 'Friends again?');
    await waitForMessage(alice, 'Friends again?');
  }, 90_000);

  it('reports a message from its actions by keyboard; the server stores it with the text as it was', async () => {
    await openConversation(bob, 'Alice');
    await sendMessage(bob, 'Cheap followers at example.test');
    await openConversation(alice, 'Bob');
    await waitForMessage(alice, 'Cheap followers at example.test');

    // Keyboard only: "Message actions" opens the toolbar, Tab reaches Report, Enter opens the dialog.
    const row = messageRows(alice, 'Cheap followers at example.test').first();
    await row.locator('.natter-actions-trigger').focus();
    await alice.keyboard.press('Enter');
    for (let i = 0; i < 8; i++) {
      if ((await alice.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === 'Report')
        break;
      await alice.keyboard.press('Tab');
    }
    expect(await alice.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Report');
    await alice.keyboard.press('Enter');
    const dialog = alice.getByRole('dialog', { name: 'Report Bob’s message' });
    await dialog.waitFor({ timeout: UI_TIMEOUT });
    expect(await axeViolations(alice, '.natter-dialog')).toEqual([]);
    expect(await dialog.getByRole('button', { name: 'Send report' }).isDisabled()).toBe(true);
    await dialog.getByRole('radio', { name: 'Spam or scam' }).check();
    await dialog.getByRole('textbox').fill('Sells followers in every chat');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByText('Thanks. Your report was sent').waitFor({ timeout: UI_TIMEOUT });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await waitForCount(alice.locator('.natter-dialog'), 0);

    const { status, body } = await host.serverApi<{
      reports: Array<{ reason: string; note?: string; message?: { text: string }; userId: string }>;
    }>('/v1/server/reports?status=open');
    expect(status).toBe(200);
    const report = body.reports.find((r) => r.message?.text === 'Cheap followers at example.test');
    expect(report).toMatchObject({ reason: 'spam', note: 'Sells followers in every chat' });

    // Alice's own message has no Report action.
    await sendMessage(alice, 'My own words');
    await waitForMessage(alice, 'My own words');
    const own = messageRows(alice, 'My own words').first();
    await own.hover();
    await own.locator('.natter-toolbar').waitFor({ timeout: UI_TIMEOUT });
    expect(await own.getByRole('button', { name: 'Report' }).count()).toBe(0);
  }, 60_000);

  it('an admin bans a member: the member loses the group and cannot be added back until unbanned', async () => {
    await conversationItem(carol, 'Demo group').waitFor({ timeout: UI_TIMEOUT });
    await openConversation(alice, 'Demo group');
    await openDetails(alice);
    await alice.getByRole('button', { name: 'Ban Carol' }).click();
    const confirm = alice.getByRole('dialog', { name: 'Ban Carol?' });
    await confirm.waitFor({ timeout: UI_TIMEOUT });
    expect(await axeViolations(alice, '[id^="confirm-ban-"][open]')).toEqual([]);
    await confirm.getByRole('button', { name: 'Ban', exact: true }).click();

    await waitForCount(conversationItem(carol, 'Demo group'), 0);
    await alice.getByRole('button', { name: 'Unban Carol' }).waitFor({ timeout: UI_TIMEOUT });
    await waitForCount(alice.getByRole('button', { name: 'Remove Carol' }), 0);

    // Adding her back is refused with the reason.
    await alice.fill('#add-member', 'car');
    await alice
      .locator('#add-member-results .user-name', { hasText: 'Carol' })
      .click({ timeout: UI_TIMEOUT });
    await waitForText(alice.locator('.notice'), 'banned from this group');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await conversationItem(carol, 'Demo group').count()).toBe(0);

    // Unban, then add: she is back.
    await alice.getByRole('button', { name: 'Unban Carol' }).click();
    await waitForCount(alice.getByRole('button', { name: 'Unban Carol' }), 0);
    await alice.fill('#add-member', 'car');
    await alice
      .locator('#add-member-results .user-name', { hasText: 'Carol' })
      .click({ timeout: UI_TIMEOUT });
    await conversationItem(carol, 'Demo group').waitFor({ timeout: UI_TIMEOUT });
  }, 60_000);

  it('slow mode: members see the pace, and an early second send waits for its turn', async () => {
    await openConversation(alice, 'Demo group');
    await openDetails(alice);
    await alice.selectOption('#slow-mode', '10');
    await waitForText(alice.locator('#slow-mode-hint'), 'one message every 10 s');

    await openConversation(bob, 'Demo group');
    await waitForText(
      bob.locator('.natter-message-system').last(),
      'turned slow mode on: one message per 10 s',
    );
    await waitForText(bob.locator('.natter-slow-mode'), 'Slow mode: one message every 10 s');

    const first = Date.now();
    await sendMessage(bob, 'First in slow mode');
    await waitForMessage(alice, 'First in slow mode');
    await sendMessage(bob, 'Second too soon');
    // The server held it: the composer shows the wait, the message stays pending and reaches nobody yet.
    await waitForText(bob.locator('.natter-slow-mode'), /your message will be sent in \d+ s/);
    expect(await messageRows(bob, 'Second too soon').first().getAttribute('data-status')).not.toBe('sent');
    expect(await messageRows(alice, 'Second too soon').count()).toBe(0);
    await waitForMessage(alice, 'Second too soon');
    expect(Date.now() - first).toBeGreaterThanOrEqual(9_000);
    await waitForText(bob.locator('.natter-slow-mode'), 'Slow mode: one message every 10 s');

    // Off again: the line goes.
    await alice.selectOption('#slow-mode', '0');
    await waitForCount(bob.locator('.natter-slow-mode'), 0);
    expect(errors).toEqual([]);
  }, 60_000);
});
