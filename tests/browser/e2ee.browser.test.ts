/**
 * `@natter/e2ee` in headless Chromium, talking MLS with a device in Node: the browser device joins from a
 * Welcome made in Node, messages go both ways, its state survives a page reload through IndexedDB, and it
 * follows a commit made in Node after the reload.
 */

import { createTsMlsEngine, deviceFingerprint, type MlsEngine } from '@natter/e2ee';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, launchChromium } from './helpers/chromium.js';
import { type E2eePage, serveE2eePage } from './helpers/e2ee-page.js';

const GROUP = 'ch_browser';
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const unb64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
const utf8 = new TextEncoder();

describeInChromium('@natter/e2ee in headless Chromium', () => {
  let site: E2eePage;
  let browser: Browser;
  let page: Page;
  let alice: MlsEngine;

  async function openPage(): Promise<{ fingerprint: string; restored: boolean }> {
    await page.goto(`${site.origin}/`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    return page.evaluate(() => window.e2ee.open('bob', 'browser'));
  }

  beforeAll(async () => {
    [site, browser] = await Promise.all([serveE2eePage(), launchChromium()]);
    page = await browser.newPage();
    alice = await createTsMlsEngine({ device: { userId: 'alice', deviceId: 'node' } });
    await alice.createGroup(GROUP);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('records the size of the engine in a browser bundle (minified)', () => {
    const kb = (n: number) => (n / 1024).toFixed(1);
    console.log(
      `@natter/e2ee browser page (engine + ts-mls + crypto, minified): ${kb(site.bytes)} KB, ${kb(site.gzipBytes)} KB gzipped`,
    );
    expect(site.gzipBytes).toBeGreaterThan(0);
  });

  it('joins a group made in Node and exchanges messages both ways, then keeps its state across a reload', async () => {
    const first = await openPage();
    expect(first.restored).toBe(false);
    const kp = unb64(await page.evaluate(() => window.e2ee.keyPackage()));
    const add = await alice.addDevices(GROUP, [kp]);
    await alice.confirmCommit(GROUP);
    expect(await page.evaluate((w) => window.e2ee.join(w), b64(add.welcome!))).toBe(GROUP);
    expect(alice.members(GROUP).map((m) => deviceFingerprint(m))).toContain(first.fingerprint);

    const toBrowser = b64(await alice.encrypt(GROUP, utf8.encode('hello, browser')));
    expect(await page.evaluate(([g, c]) => window.e2ee.decrypt(g!, c!), [GROUP, toBrowser])).toEqual({
      text: 'hello, browser',
      sender: 'alice/node',
      epoch: 1,
    });
    const toNode = unb64(await page.evaluate((g) => window.e2ee.encrypt(g, 'hello, node'), GROUP));
    const got = await alice.decrypt(GROUP, toNode);
    expect(new TextDecoder().decode(got.plaintext)).toBe('hello, node');
    expect(got.sender).toEqual({ userId: 'bob', deviceId: 'browser' });

    const saved = await page.evaluate(() => window.e2ee.save());
    console.log(`browser device state for one 2-device group: ${saved} bytes`);
    const again = await openPage();
    expect(again).toEqual({ fingerprint: first.fingerprint, restored: true });

    const update = await alice.update(GROUP);
    await alice.confirmCommit(GROUP);
    expect(
      await page.evaluate(([g, c]) => window.e2ee.processCommit(g!, c!), [GROUP, b64(update.commit)]),
    ).toBe(2);
    const afterReload = b64(await alice.encrypt(GROUP, utf8.encode('after the reload')));
    expect(await page.evaluate(([g, c]) => window.e2ee.decrypt(g!, c!), [GROUP, afterReload])).toMatchObject({
      text: 'after the reload',
      epoch: 2,
    });
  }, 60_000);
});
