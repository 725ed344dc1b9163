import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { adminApi, createPair, makeFolders, signIn, url, writeFiles } from '../support.js';

/** Every page, on a laptop and a phone, light and dark: e2e/artifacts/screens/ (ignored by git). */
const screens = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts', 'screens');
const VIEWPORTS = [
  { name: 'desktop', width: 1366, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const SCHEMES = ['light', 'dark'] as const;

test('every page renders on a laptop and a phone, light and dark, with nothing wider than the screen', async ({
  page,
}) => {
  test.setTimeout(240_000);
  mkdirSync(screens, { recursive: true });
  const folders = makeFolders('screens');
  writeFiles(folders.source, { 'a.txt': 'alpha', 'docs/b.md': '# bravo', 'docs/c.txt': 'charlie' });
  writeFiles(folders.destination, { 'd.txt': 'delta' });
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Screens',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
  });
  const run = await api.post(`pairs/${pairId}/runs?wait=true`, { data: {} });
  expect(run.status(), await run.text()).toBe(200);
  const runId = ((await run.json()) as { id: string }).id;
  writeFiles(folders.source, { 'e.txt': 'echo' });

  const pages = [
    { name: 'overview', path: '/', heading: 'Overview' },
    { name: 'pairs', path: '/pairs', heading: 'Sync pairs' },
    { name: 'pair', path: `/pairs/${pairId}`, heading: 'Screens' },
    { name: 'preview', path: `/pairs/${pairId}/preview`, heading: 'Preview' },
    { name: 'run', path: `/runs/${runId}`, heading: null },
    { name: 'pair-form', path: '/pairs/new', heading: 'New sync pair' },
    { name: 'edit-pair', path: `/pairs/${pairId}/edit`, heading: 'Edit “Screens”' },
    { name: 'conflicts', path: '/conflicts', heading: null },
    { name: 'tokens', path: '/tokens', heading: null },
  ];

  await signIn(page);
  for (const scheme of SCHEMES) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      for (const target of pages) {
        await page.goto(url(target.path));
        if (target.heading) {
          await expect(page.getByRole('heading', { name: target.heading, exact: true })).toBeVisible();
        }
        await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', scheme);
        await page.waitForLoadState('networkidle');
        await expect(page.getByRole('status').filter({ hasText: /Loading/ })).toHaveCount(0);
        await page.screenshot({
          path: join(screens, `${target.name}-${viewport.name}-${scheme}.png`),
          fullPage: true,
        });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${target.name} is wider than the ${viewport.name} screen`).toBeLessThanOrEqual(0);
      }
    }
  }
  // The sign-in page, after signing out.
  await page.getByRole('button', { name: 'Sign out' }).click();
  for (const scheme of SCHEMES) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      await page.goto(url('/login'));
      await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
      await page.screenshot({
        path: join(screens, `sign-in-${viewport.name}-${scheme}.png`),
        fullPage: true,
      });
    }
  }
});
