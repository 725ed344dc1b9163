import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { screenshotEverywhere } from '../screens.js';
import { adminApi, createPair, makeFolders, signIn, url, writeFiles } from '../support.js';

/** Every file under a side's versions area (relative path → content). */
function keptFiles(root: string): Record<string, string> {
  const base = join(root, '.syncengine', 'versions');
  const files: Record<string, string> = {};
  if (!existsSync(base)) return files;
  for (const entry of readdirSync(base, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files[full.slice(base.length + 1)] = readFileSync(full, 'utf8');
  }
  return files;
}

test('kept versions are browsed, searched, downloaded, restored, deleted and pruned from the dashboard', async ({
  page,
}) => {
  const folders = makeFolders('versions');
  writeFiles(folders.source, { 'todo.md': 'buy milk', 'docs/plan.md': 'plan one', 'docs/old.md': 'old' });
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Notes',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
  });
  const runToEnd = async () => {
    const response = await api.post(`pairs/${pairId}/runs`, { data: {} });
    expect(response.status()).toBe(202);
    const run = (await response.json()) as { id: string };
    await expect
      .poll(async () => ((await (await api.get(`runs/${run.id}`)).json()) as { status: string }).status, {
        timeout: 30_000,
      })
      .toBe('completed');
  };
  await runToEnd();
  // An edit at the source overwrites the destination's copy; a delete removes it there.
  writeFiles(
    folders.source,
    { 'todo.md': 'buy milk and eggs', 'docs/plan.md': 'plan two' },
    new Date(Date.now() + 5_000),
  );
  await import('node:fs/promises').then((fs) => fs.rm(join(folders.source, 'docs', 'old.md')));
  await runToEnd();

  await signIn(page);
  await page.goto(url(`/pairs/${pairId}`));
  await page.getByRole('link', { name: 'Versions' }).click();
  await expect(page.getByRole('heading', { name: 'Versions', exact: true })).toBeVisible();
  await expect(page.getByText('Versions are kept 30 days')).toBeVisible();
  const rows = page.getByTestId('version-row');
  await expect(rows).toHaveCount(3);
  const todoRow = rows.filter({ hasText: 'todo.md' });
  await expect(todoRow).toContainText('Destination');
  await expect(todoRow).toContainText('overwritten');
  await expect(rows.filter({ hasText: 'docs/old.md' })).toContainText('deleted');
  await screenshotEverywhere(page, 'versions');

  // Search by name, and by folder.
  await page.getByLabel('Search names').fill('PLAN');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('docs/plan.md');
  await page.getByLabel('Search names').fill('');
  await page.getByLabel('Folder').fill('docs');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(rows).toHaveCount(2);
  await page.getByLabel('Folder').fill('');
  await page.getByLabel('Search names').fill('no such file');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByText('No versions match')).toBeVisible();
  await page.getByLabel('Search names').fill('');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(rows).toHaveCount(3);

  // Download the kept copy.
  const downloading = page.waitForEvent('download');
  await todoRow.getByRole('link', { name: 'Download' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('todo.md');
  expect(readFileSync((await download.path())!, 'utf8')).toBe('buy milk');

  // Restore: the old copy is back on disk, and the file it replaced is kept in turn.
  await todoRow.getByRole('button', { name: 'Restore' }).click();
  await expect(
    page.getByRole('status').filter({ hasText: 'Restored todo.md on the destination' }),
  ).toBeVisible();
  expect(readFileSync(join(folders.destination, 'todo.md'), 'utf8')).toBe('buy milk');
  expect(Object.values(keptFiles(folders.destination))).toContain('buy milk and eggs');
  await expect(rows.filter({ hasText: 'replaced by a restore' })).toHaveCount(1);
  await screenshotEverywhere(page, 'versions-restored');

  // Delete one version for good (asked twice).
  const oldRow = rows.filter({ hasText: 'docs/old.md' });
  await oldRow.getByRole('button', { name: 'Delete' }).click();
  await oldRow.getByRole('button', { name: 'Delete for good?' }).click();
  await expect(rows.filter({ hasText: 'docs/old.md' })).toHaveCount(0);
  expect(Object.keys(keptFiles(folders.destination)).some((path) => path.endsWith('docs/old.md'))).toBe(
    false,
  );

  // Prune by hand: a versions folder from 2020 goes, this week's stay.
  const ancient = join(folders.source, '.syncengine', 'versions', '20200101T000000Z');
  mkdirSync(ancient, { recursive: true });
  writeFileSync(join(ancient, 'ancient.txt'), 'from 2020');
  await page.reload();
  await expect(rows.filter({ hasText: 'ancient.txt' })).toHaveCount(1);
  await page.getByLabel('Prune versions kept more than (days)').fill('365');
  await page.getByRole('button', { name: 'Prune now' }).click();
  await expect(page.getByText('Removed 1 versions folder.')).toBeVisible();
  expect(existsSync(ancient)).toBe(false);
  await expect(rows.filter({ hasText: 'ancient.txt' })).toHaveCount(0);
  await expect(rows.filter({ hasText: 'todo.md' })).toHaveCount(2);
});
