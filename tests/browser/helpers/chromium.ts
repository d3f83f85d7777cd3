/**
 * Debian's Chromium, driven by playwright-core. Never a downloaded browser: `.ci/run` installs the `chromium`
 * package with apt. The flags keep it off the network (no updates, sync or background requests); each
 * `launch()` gets a fresh temporary profile (user-data dir) that Playwright deletes on close.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { describe } from 'vitest';

/** Where the browser is. */
export const CHROMIUM_PATH = process.env.NATTER_CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a quiet, offline-friendly headless browser. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * `describe`, or `describe.skip` with a note when Chromium is missing on a developer machine. In CI a missing
 * browser is an error (the tests run and fail), never a silent skip.
 */
export const describeInChromium: typeof describe =
  existsSync(CHROMIUM_PATH) || process.env.CI ? describe : (describe.skip as typeof describe);

if (!existsSync(CHROMIUM_PATH) && !process.env.CI)
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`);

/** Starts headless Chromium with a fresh profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: 60_000,
  });
}
