/** Headless Chromium for the browser tests (Debian's package). */
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined. */
export function chromiumMissing(): string | undefined {
  return fs.existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (Debian package chromium)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * Shows a sidebar tab once the editor has loaded the flows (Node-RED 4.1's
 * tabbed sidebar and Node-RED 5's sidebars alike; before that the editor
 * opens the tab it had open last) and waits for `selector` in it to be visible.
 */
export async function showSidebarTab(page: Page, id: string, selector: string): Promise<void> {
  await page.waitForSelector(selector, { state: 'attached', timeout: 30_000 });
  await page.waitForFunction('Boolean(RED.workspaces.active())', undefined, { timeout: 30_000 });
  await page.evaluate(`RED.sidebar.show(${JSON.stringify(id)})`);
  await page.waitForSelector(selector, { timeout: 10_000 });
}
