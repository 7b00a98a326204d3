import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Debian's Chromium (installed by .ci/run); Playwright's own browser downloads cannot work here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export const SCREENSHOTS = fileURLToPath(new URL('../../../.test-artifacts/screenshots/', import.meta.url));

export interface TestBrowser {
  readonly browser: Browser;
  newContext(viewport?: { width: number; height: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Chromium with a fresh user-data dir (no state between runs). Each test gets its own
 * context (cookies), like a separate person at their own browser.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH.`);
  const downloads = mkdtempSync(join(tmpdir(), 'trailmark-downloads-'));
  // launch() gives Chromium a fresh temporary user-data dir of its own (and removes it on
  // close); several contexts then share one browser, each with its own cookies.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, downloadsPath: downloads, timeout: 30_000 });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    browser,
    async newContext(viewport = { width: 1280, height: 800 }) {
      const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'en-GB', timezoneId: 'Europe/Berlin', reducedMotion: 'reduce' });
      // Fail a step with the locator's name well before the test's own timeout.
      context.setDefaultTimeout(10_000);
      return context;
    },
    async close() {
      await browser.close();
      rmSync(downloads, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** The page is not wider than the viewport: nothing sticks out sideways. */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; viewport: number; culprits: string[] }> {
  return page.evaluate(`(() => {
    const vw = document.documentElement.clientWidth;
    const culprits = [...document.querySelectorAll('body *')]
      .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > vw + 1 && getComputedStyle(el).position !== 'fixed'; })
      .slice(0, 5)
      .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : ''));
    return { scrollWidth: document.documentElement.scrollWidth, viewport: vw, culprits };
  })()`);
}
