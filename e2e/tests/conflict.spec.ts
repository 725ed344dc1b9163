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

test('MANUAL conflicts wait in the inbox, and the chosen versions land on both sides, one by one or in bulk', async ({
  page,
}) => {
  const folders = makeFolders('conflict');
  writeFiles(folders.source, {
    'report.txt': 'first version',
    'notes/a.txt': 'a0',
    'notes/b.txt': 'b0',
    'other.txt': 'unchanged',
  });
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

  // Both sides edit three files. report.txt and b.txt are newer at the destination, a.txt at the source.
  const now = Date.now();
  const older = new Date(now - 120_000);
  const newer = new Date(now - 10_000);
  writeFiles(folders.source, { 'report.txt': 'edited at the source', 'notes/b.txt': 'b source' }, older);
  writeFiles(
    folders.destination,
    { 'report.txt': 'edited at the destination, later', 'notes/b.txt': 'b dest' },
    newer,
  );
  writeFiles(folders.source, { 'notes/a.txt': 'a source' }, newer);
  writeFiles(folders.destination, { 'notes/a.txt': 'a dest' }, older);

  await signIn(page);
  await page.goto(url(`/pairs/${pairId}`));
  await page.getByRole('button', { name: 'Run now' }).click();
  await expect(page).toHaveURL(/\/runs\//);

  await page
    .getByRole('navigation')
    .getByRole('link', { name: /^Conflicts/ })
    .click();
  await expect(page.getByTestId('conflict-card')).toHaveCount(3, { timeout: 30_000 });
  const card = page.getByRole('listitem', { name: 'Conflict on report.txt' });
  await expect(card.getByLabel('Source version')).toContainText('20 B');
  await expect(card.getByLabel('Destination version')).toContainText('newer');
  await screenshot(page, 'conflicts');

  // Nothing changed on either side while the conflicts wait.
  expect(readTree(folders.source)['report.txt']).toBe('edited at the source');
  expect(readTree(folders.destination)['report.txt']).toBe('edited at the destination, later');

  // One by one: the older version on purpose, so the choice and not the clock decides.
  await card.getByRole('button', { name: 'Keep source' }).click();
  await expect(card).toHaveCount(0, { timeout: 30_000 });

  // In bulk: everything left, newest wins.
  await expect(page.getByTestId('conflict-card')).toHaveCount(2);
  await page.getByLabel('Select all').check();
  await page.getByRole('button', { name: 'Resolve 2 selected' }).click();
  await page.getByRole('menuitem', { name: 'Newest wins' }).click();
  await expect(page.getByText('No conflicts waiting')).toBeVisible({ timeout: 30_000 });

  // Both sides, polled together: the destination may already hold its own b.txt while the
  // copy to the source is still on its way.
  await expect
    .poll(() => ({ source: readTree(folders.source), destination: readTree(folders.destination) }), {
      timeout: 60_000,
    })
    .toMatchObject({
      source: {
        'report.txt': 'edited at the source',
        'notes/a.txt': 'a source',
        'notes/b.txt': 'b dest',
        'other.txt': 'unchanged',
      },
      destination: {
        'report.txt': 'edited at the source',
        'notes/a.txt': 'a source',
        'notes/b.txt': 'b dest',
        'other.txt': 'unchanged',
      },
    });
  await api.dispose();
});
