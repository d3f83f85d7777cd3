/**
 * The client SDK's core scenarios in real headless Chromium, on the IndexedDB store: send and receive
 * between two browser contexts, catch-up after the server dropped the sockets, cursor and cache kept across a
 * reload, and messages sent offline surviving a reload and delivered exactly once.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer, type TestUser } from '../helpers/server.js';
import type { Received } from './fixtures/sdk-harness.js';
import { describeInChromium, launchChromium } from './helpers/chromium.js';
import { type BundleSize, measureSdkBundle, type SdkPage, serveSdkPage } from './helpers/sdk-page.js';

const PASSWORD = 'correct horse battery';

/** Polls `check` in Node until it returns a truthy value. */
async function until<T>(
  check: () => Promise<T> | T,
  what: string,
  timeoutMs = 20_000,
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const received = (page: Page): Promise<Received[]> => page.evaluate(() => window.harness.received());

describeInChromium('client SDK in headless Chromium (IndexedDB store)', () => {
  let ts: TestServer;
  let site: SdkPage;
  let browser: Browser;
  let bundle: BundleSize;
  let alice: TestUser;
  let bob: TestUser;
  let aliceContext: BrowserContext;
  let bobContext: BrowserContext;
  let alicePage: Page;
  let bobPage: Page;
  let direct: string;

  async function openPage(context: BrowserContext, user: TestUser | undefined, store: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${site.origin}/`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    await page.evaluate(
      (o) => window.harness.open(o),
      user ? { url: ts.url, store, username: user.username, password: PASSWORD } : { url: ts.url, store },
    );
    return page;
  }

  beforeAll(async () => {
    [site, bundle, browser] = await Promise.all([serveSdkPage(), measureSdkBundle(), launchChromium()]);
    ts = await startServer({ allowedOrigins: [site.origin] });
    [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    aliceContext = await browser.newContext();
    bobContext = await browser.newContext();
    [alicePage, bobPage] = await Promise.all([
      openPage(aliceContext, alice, 'alice'),
      openPage(bobContext, bob, 'bob'),
    ]);
    await Promise.all([alicePage, bobPage].map((p) => p.evaluate(() => window.harness.connect())));
    await Promise.all([alicePage, bobPage].map((p) => p.evaluate(() => window.harness.whenSynced())));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ts?.stop();
    await site?.close();
  });

  it('records the size of the SDK browser bundle (minified ESM)', () => {
    const kb = (n: number) => (n / 1024).toFixed(1);
    console.log(
      `SDK browser bundle (every export, minified ESM): ${kb(bundle.bytes)} KB loaded at once, ${kb(bundle.gzipBytes)} KB gzipped; ${kb(bundle.totalBytes)} KB with the chunks loaded on first use`,
    );
    expect(bundle.bytes).toBeGreaterThan(10_000);
    // Regression guards above today's sizes: what loads at once was about 213 KB before E2EE and must stay
    // there (tus-js-client and the MLS engine are loaded only when a resumable upload starts or an app turns
    // E2EE on); with those chunks about 460 KB. A jump past either means something heavy was pulled in, or
    // a lazy import became a static one.
    expect(bundle.bytes).toBeLessThan(240_000);
    expect(bundle.totalBytes).toBeLessThan(520_000);
  });

  it('sends and receives between two browser contexts, in order, in a 1-1 and a group', async () => {
    direct = await alicePage.evaluate((id) => window.harness.openDirect(id), bob.id);
    await alicePage.evaluate((ch) => {
      for (const text of ['one', 'two', 'three']) window.harness.send(ch, text);
      return window.harness.allAcked();
    }, direct);
    const got = await until(async () => {
      const texts = (await received(bobPage))
        .filter((m) => m.channelId === direct && m.text)
        .map((m) => m.text);
      return texts.length >= 3 && texts;
    }, 'bob to receive three messages');
    expect(got).toEqual(['one', 'two', 'three']);

    const group = await bobPage.evaluate((id) => window.harness.createGroup('browsers', [id]), alice.id);
    await bobPage.evaluate((ch) => {
      window.harness.send(ch, 'hello group');
      return window.harness.allAcked();
    }, group);
    await until(
      async () => (await received(alicePage)).some((m) => m.channelId === group && m.text === 'hello group'),
      'alice to receive the group message',
    );
    // Positions are emitted once each, with no gaps, on both sides.
    for (const page of [alicePage, bobPage]) {
      const positions = (await received(page)).map((m) => m.pos);
      expect(positions).toEqual(positions.map((_, i) => i + 1));
    }
  }, 60_000);

  it('catches up through sync after the server closed the sockets', async () => {
    const before = (await received(bobPage)).length;
    ts.server.closeSessions(bob.id, undefined, 1011, 'test: server fault');
    await alicePage.evaluate((ch) => {
      for (let i = 1; i <= 5; i++) window.harness.send(ch, `missed ${i}`);
      return window.harness.allAcked();
    }, direct);
    const after = await until(async () => {
      const all = await received(bobPage);
      return all.filter((m) => m.text.startsWith('missed')).length >= 5 && all;
    }, 'bob to catch up');
    expect(after.slice(before).map((m) => m.text)).toEqual([
      'missed 1',
      'missed 2',
      'missed 3',
      'missed 4',
      'missed 5',
    ]);
    expect(after.map((m) => m.pos)).toEqual(after.map((_, i) => i + 1));
    const stats = await bobPage.evaluate(() => window.harness.stats());
    expect(stats.reconnects).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('keeps the sync cursor and the message cache in IndexedDB across a reload', async () => {
    await bobPage.evaluate(() => window.harness.whenSynced());
    const cursorBefore = await bobPage.evaluate(() => window.harness.cursor());
    expect(cursorBefore.pos).toBeGreaterThan(0);
    await bobPage.reload();
    await bobPage.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    await bobPage.evaluate((url) => window.harness.open({ url, store: 'bob' }), ts.url);
    // Before any network: the stored cursor, channel list and messages.
    const local = await bobPage.evaluate(() => window.harness.local());
    expect(local.cursor).toEqual(cursorBefore);
    expect(local.channels).toBe(2);
    expect(await bobPage.evaluate((ch) => window.harness.cachedTexts(ch), direct)).toEqual(
      expect.arrayContaining(['one', 'two', 'three', 'missed 5']),
    );
    await bobPage.evaluate(() => window.harness.connect());
    await bobPage.evaluate(() => window.harness.whenSynced());
    await alicePage.evaluate((ch) => {
      window.harness.send(ch, 'after reload');
      return window.harness.allAcked();
    }, direct);
    const fresh = await until(async () => {
      const all = await received(bobPage);
      return all.some((m) => m.text === 'after reload') && all;
    }, 'bob to receive after the reload');
    // The reloaded page emits only what came after its stored cursor.
    expect(fresh.map((m) => m.pos)).toEqual([cursorBefore.pos + 1]);
  }, 60_000);

  it('delivers messages sent offline exactly once, after a reload while still offline', async () => {
    await aliceContext.setOffline(true);
    const ids = await alicePage.evaluate(
      (ch) => [window.harness.send(ch, 'offline 1'), window.harness.send(ch, 'offline 2')],
      direct,
    );
    await until(
      () => alicePage.evaluate(() => window.harness.persistedOutbox()).then((n) => n === 2),
      'the outbox to be persisted',
    );

    // Reload without network: the service worker serves the page, IndexedDB still holds the outbox.
    await alicePage.reload();
    await alicePage.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    await alicePage.evaluate((url) => window.harness.open({ url, store: 'alice' }), ts.url);
    const local = await alicePage.evaluate(() => window.harness.local());
    expect(local.pending.map((p) => [p.clientMsgId, p.text])).toEqual([
      [ids[0], 'offline 1'],
      [ids[1], 'offline 2'],
    ]);
    await alicePage.evaluate(() => window.harness.connect());
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await alicePage.evaluate(() => window.harness.status())).not.toBe('open');

    await aliceContext.setOffline(false);
    await until(
      async () => (await alicePage.evaluate(() => window.harness.pending())).length === 0,
      'the outbox to drain',
      30_000,
    );
    const atBob = await until(async () => {
      const texts = (await received(bobPage)).map((m) => m.text).filter((t) => t.startsWith('offline'));
      return texts.length >= 2 && texts;
    }, 'bob to receive the offline messages');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await received(bobPage)).filter((m) => m.text.startsWith('offline')).map((m) => m.text)).toEqual(
      atBob,
    );
    expect(atBob).toEqual(['offline 1', 'offline 2']);
    // And stored once on the server.
    const history = await api<{ messages: Array<{ text: string }> }>(
      ts.url,
      bob,
      'GET',
      `/v1/channels/${direct}/messages`,
    );
    expect(history.body.messages.map((m) => m.text).filter((t) => t.startsWith('offline'))).toEqual([
      'offline 1',
      'offline 2',
    ]);
  }, 90_000);
});
