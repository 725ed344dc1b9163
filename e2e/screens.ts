import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

/** The sizes every page is checked at. */
export const SCREENS = [
  { name: 'desktop', width: 1366, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/**
 * Full-page screenshots of the page as it is, at desktop and phone size, in the light and
 * the dark scheme, to e2e/artifacts/<name>-<screen>-<scheme>.png. Leaves the page at its
 * first viewport size and the light scheme.
 */
export async function screenshotEverywhere(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  const original = page.viewportSize();
  for (const screen of SCREENS) {
    await page.setViewportSize({ width: screen.width, height: screen.height });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      // Let layout and the scheme settle (fonts, media queries) before the picture.
      await page.waitForTimeout(300);
      await page.screenshot({
        path: join(artifacts, `${name}-${screen.name}-${scheme}.png`),
        fullPage: true,
      });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  if (original) await page.setViewportSize(original);
}
