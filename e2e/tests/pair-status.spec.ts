import { rmSync } from 'node:fs';
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

test('a pair card says how many items are out of sync, lists them, turns "In sync" after a run, and shows a missing folder as an error', async ({
  page,
}) => {
  const folders = makeFolders('status');
  writeFiles(folders.source, { 'a.txt': 'alpha', 'docs/b.txt': 'bravo!' });
  writeFiles(folders.destination, { 'c.txt': 'charlie' });
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Status pair',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
  });

  await signIn(page);
  await page.goto(url('/pairs'));
  const card = page.getByRole('listitem', { name: 'Pair Status pair' });
  // a.txt, docs/, docs/b.txt to the destination; c.txt to the source.
  await expect(card.getByTestId('pair-status')).toHaveText(/^\d+ items out of sync$/);
  const count = Number((await card.getByTestId('pair-status').textContent())?.split(' ')[0]);
  expect(count).toBeGreaterThanOrEqual(3);
  await card.getByRole('link', { name: /out of sync: show the items/ }).click();
  await expect(page).toHaveURL(new RegExp(`/pairs/${pairId}#out-of-sync$`));
  const items = page.getByTestId('out-of-sync-items');
  await expect(items).toContainText('docs/b.txt');
  await expect(items).toContainText('Copy new file to destination');
  await expect(items).toContainText('c.txt');
  await expect(items).toContainText('Copy new file to source');
  await expect(items.getByRole('row')).toHaveCount(count + 1);
  await screenshot(page, 'pair-out-of-sync');

  const run = await api.post(`pairs/${pairId}/runs?wait=true`, { data: {} });
  expect(run.status(), await run.text()).toBe(200);
  expect(readTree(folders.destination)).toEqual({
    'a.txt': 'alpha',
    'docs/b.txt': 'bravo!',
    'c.txt': 'charlie',
  });

  await page.goto(url('/pairs'));
  await expect(card.getByTestId('pair-status')).toHaveText('In sync');
  await expect(card.getByTestId('side-totals')).toHaveText(
    'Source: 3 files, 1 folder, 18 B · Destination: 3 files, 1 folder, 18 B',
  );

  rmSync(folders.destination, { recursive: true });
  // A pair whose folder vanished is an error, however recently it was in sync.
  await page.goto(url('/pairs'));
  await expect(card.getByTestId('pair-status')).toHaveText('Error', { timeout: 30_000 });
  await expect(card.getByTestId('pair-problem')).toHaveText(
    `Destination folder ${folders.destination} does not exist`,
  );
  await screenshot(page, 'pairs-error');
});
