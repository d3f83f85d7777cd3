/**
 * Photos and files in the web demo, end to end on the reference server in headless Chromium: Alice attaches
 * a photo and a PDF, Bob sees the placeholder then the thumbnail, opens the full image in the lightbox and
 * sees the file's name and size; Carol, who is in no channel with them, gets 404 for every one of them.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, launchChromium } from './helpers/chromium.js';
import { openConversation, signInAsDemoUser, UI_TIMEOUT } from './helpers/demo-app.js';
import { type ReferenceServer, startReferenceServer } from './helpers/reference-server.js';

const screenshots = process.env.NATTER_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'natter-screenshots-'));

describeInChromium('photos and files in the web demo (headless Chromium)', () => {
  let server: ReferenceServer;
  let browser: Browser;
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    [server, browser] = await Promise.all([startReferenceServer(), launchChromium()]);
    alice = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    bob = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await Promise.all([
      signInAsDemoUser(alice, server.url, 'alice'),
      signInAsDemoUser(bob, server.url, 'bob'),
    ]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a photo and a PDF reach the other side with placeholder, thumbnail, lightbox and file card; a stranger gets 404', async () => {
    // A picture that reads as one in the README's screenshot: sky, sea, sun and sand.
    const scene = `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="1200">
      <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
        <stop offset="0" stop-color="#2f80ed"/><stop offset="1" stop-color="#a6d8ff"/></linearGradient></defs>
      <rect width="1600" height="1200" fill="url(#sky)"/>
      <circle cx="1200" cy="330" r="150" fill="#ffd54f"/>
      <rect y="700" width="1600" height="260" fill="#1565c0"/>
      <path d="M0 960 Q800 860 1600 960 V1200 H0 Z" fill="#f3d9a4"/>
    </svg>`;
    const photo = await sharp(Buffer.from(scene)).jpeg({ quality: 85 }).toBuffer();
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    await openConversation(alice, 'Bob');
    // The kit's composer: each file uploads at once (progress in the tray) and goes with the next send.
    const fileInput = alice.locator('.natter-composer input[type=file]');
    await fileInput.setInputFiles({ name: 'beach.jpg', mimeType: 'image/jpeg', buffer: photo });
    await alice.locator('.natter-upload[data-state="done"]').waitFor({ timeout: UI_TIMEOUT });
    await alice.click('.natter-send');
    await alice
      .locator('.natter-attachment-image[data-state="thumbnail"]')
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await fileInput.setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf });
    await alice.locator('.natter-upload[data-state="done"]').waitFor({ timeout: UI_TIMEOUT });
    await alice.click('.natter-send');

    await openConversation(bob, 'Alice');
    const image = bob.locator('.natter-attachment-image').first();
    await image.waitFor({ timeout: UI_TIMEOUT });
    // The placeholder is drawn from the message itself (ThumbHash), before any request.
    expect(await image.evaluate((el: HTMLElement) => el.style.backgroundImage)).toMatch(/data:image\/png/);
    await bob
      .locator('.natter-attachment-image[data-state="thumbnail"]')
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    const thumbSrc = (await image.locator('img').getAttribute('src'))!;
    expect(thumbSrc).toMatch(/\/v1\/media\/[^/]+\/thumbnail\?size=320&exp=\d+&sig=/);
    await bob
      .locator('.natter-attachment-file .natter-file-name', { hasText: 'report.pdf' })
      .waitFor({ timeout: UI_TIMEOUT });
    expect(await bob.locator('.natter-attachment-file .natter-file-size').first().textContent()).toMatch(
      /\d+ B/,
    );
    await bob.screenshot({ path: join(screenshots, 'demo-media.png') });

    await image.click();
    const full = bob.locator('dialog.natter-lightbox img.natter-lightbox-media');
    await full.waitFor({ timeout: UI_TIMEOUT });
    await bob.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>(
        'dialog.natter-lightbox img.natter-lightbox-media',
      );
      return img?.complete && img.naturalWidth > 0;
    });
    expect(await full.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1600);
    await bob.keyboard.press('Escape');

    // Carol shares no channel with Alice and Bob: every media id answers 404, as an unknown id does.
    const mediaId = /\/v1\/media\/([^/]+)\//.exec(thumbSrc)![1]!;
    const login = await fetch(`${server.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'carol', password: 'natter-demo' }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    for (const path of [`/v1/media/${mediaId}`, `/v1/media/${mediaId}/thumbnail`]) {
      const res = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(res.status).toBe(404);
    }
    const signed = await fetch(`${server.url}/v1/media/${mediaId}/url`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(signed.status).toBe(404);
  }, 90_000);
});
