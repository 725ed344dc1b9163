import { expect, test } from '@playwright/test';
import {
  adminApi,
  createPair,
  makeFolders,
  readTree,
  screenshot,
  signIn,
  url,
  writeFiles,
} from '../support.js';

test('a MANUAL conflict waits in the inbox and the chosen version lands on both sides', async ({ page }) => {
  const folders = makeFolders('conflict');
  writeFiles(folders.source, { 'report.txt': 'first version', 'other.txt': 'unchanged' });
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Manual conflicts',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
    conflictResolution: 'MANUAL',
  });

  // A first run brings both sides in sync.
  const first = await api.post(`pairs/${pairId}/runs`, { data: {} });
  expect(first.status()).toBe(202);
  const firstRun = (await first.json()) as { id: string };
  await expect
    .poll(async () => ((await (await api.get(`runs/${firstRun.id}`)).json()) as { status: string }).status, {
      timeout: 30_000,
    })
    .toBe('completed');
  expect(readTree(folders.destination)['report.txt']).toBe('first version');

  // Both sides edit the file: the destination's edit is the newer one.
  const now = Date.now();
  writeFiles(folders.source, { 'report.txt': 'edited at the source' }, new Date(now - 120_000));
  writeFiles(
    folders.destination,
    { 'report.txt': 'edited at the destination, later' },
    new Date(now - 10_000),
  );

  await signIn(page);
  await page.goto(url(`/pairs/${pairId}`));
  await page.getByRole('button', { name: 'Run now' }).click();
  await expect(page).toHaveURL(/\/runs\//);

  await page
    .getByRole('navigation')
    .getByRole('link', { name: /^Conflicts/ })
    .click();
  const card = page.getByRole('listitem', { name: 'Conflict on report.txt' });
  await expect(card).toBeVisible({ timeout: 30_000 });
  await expect(card.getByLabel('Source version')).toContainText('20 B');
  await expect(card.getByLabel('Destination version')).toContainText('newer');
  await screenshot(page, 'conflicts');

  // Nothing changed on either side while the conflict waits.
  expect(readTree(folders.source)['report.txt']).toBe('edited at the source');
  expect(readTree(folders.destination)['report.txt']).toBe('edited at the destination, later');

  // Choose the older version on purpose: the choice, not the clock, must decide.
  await card.getByRole('button', { name: 'Keep source' }).click();
  await expect(card).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByText('No conflicts waiting')).toBeVisible();

  await expect
    .poll(() => readTree(folders.destination)['report.txt'], { timeout: 60_000 })
    .toBe('edited at the source');
  expect(readTree(folders.source)['report.txt']).toBe('edited at the source');
  expect(readTree(folders.destination)['other.txt']).toBe('unchanged');
  await api.dispose();
});
