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

test('the preview lists the plan by action, and the run started from it copies the files', async ({
  page,
}) => {
  const folders = makeFolders('sync');
  writeFiles(folders.source, {
    'a.txt': 'alpha',
    'docs/b.txt': 'bravo bravo',
    'docs/deep/c.txt': 'charlie',
    'skip.tmp': 'ignored',
  });
  writeFiles(folders.destination, { 'from-destination.txt': 'delta' });
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Sync flow',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
    ignorePatterns: ['*.tmp'],
  });

  await signIn(page);
  await expect(page.getByRole('listitem', { name: 'Pair Sync flow' })).toBeVisible();
  await screenshot(page, 'pairs-list');

  await page.getByRole('listitem', { name: 'Pair Sync flow' }).getByRole('link', { name: 'Preview' }).click();
  await expect(page.getByRole('heading', { name: 'Preview', exact: true })).toBeVisible();
  const uploads = page.getByTestId('plan-group-UPLOAD_NEW');
  await expect(uploads).toContainText('Copy new file to destination');
  await expect(uploads.locator('.mantine-Badge-root')).toHaveText('3');
  await expect(page.getByTestId('plan-group-DOWNLOAD_NEW').locator('.mantine-Badge-root')).toHaveText('1');
  // Folders apart from files, and the summary adds up to the groups: 3 + 1 files, 2 folders.
  const folderGroup = page.getByTestId('plan-group-UPLOAD_NEW-folders');
  await expect(folderGroup).toContainText('Create folder at destination');
  await expect(folderGroup.locator('.mantine-Badge-root')).toHaveText('2');
  await expect(page.getByTestId('plan-totals')).toContainText('4 files to transfer');
  await expect(page.getByTestId('plan-totals')).toContainText('28 B to copy');
  await expect(page.getByTestId('plan-totals')).toContainText('2 folders');
  await expect(page.getByTestId('plan-totals')).toContainText('0 deletions');
  await uploads.getByRole('button').first().click();
  await expect(uploads.getByRole('cell', { name: 'docs/deep/c.txt' })).toBeVisible();
  await expect(page.getByText('skip.tmp')).toHaveCount(0);
  await screenshot(page, 'preview');
  // The preview changed nothing.
  expect(readTree(folders.destination)).toEqual({ 'from-destination.txt': 'delta' });

  await page.getByRole('button', { name: 'Run now' }).click();
  await expect(page).toHaveURL(/\/runs\//);
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 60_000 });
  // 5 + 11 + 7 bytes up, 5 down.
  await expect(page.getByTestId('run-summary')).toContainText('28 B');
  await expect(page.getByTestId('action-log')).toContainText('docs/deep/c.txt');
  await screenshot(page, 'run-completed');

  const expected = {
    'a.txt': 'alpha',
    'docs/b.txt': 'bravo bravo',
    'docs/deep/c.txt': 'charlie',
    'from-destination.txt': 'delta',
  };
  expect(readTree(folders.destination)).toEqual(expected);
  expect(readTree(folders.source)).toEqual({ ...expected, 'skip.tmp': 'ignored' });

  // The action log filters by action.
  await page.getByRole('combobox', { name: 'Action', exact: true }).click();
  await page.getByRole('option', { name: 'Copy new file to source' }).click();
  await expect(page.getByTestId('action-log')).toContainText('from-destination.txt');
  await expect(page.getByTestId('action-log')).not.toContainText('a.txt');

  // A second run finds nothing to do; history lists both runs with a chart.
  await page.goto(url(`/pairs/${pairId}`));
  await page.getByRole('button', { name: 'Run now' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 60_000 });
  await expect(page.getByText('This run had nothing to do')).toBeVisible();
  await page.getByRole('link', { name: 'Back to the pair' }).click();
  await expect(page.getByTestId('run-row')).toHaveCount(2);
  await expect(page.getByTestId('pair-status')).toHaveText('In sync');
  await expect(page.getByTestId('run-row').first()).toContainText('completed');
  await expect(
    page.getByRole('figure', { name: 'Duration and data moved over the last runs' }),
  ).toBeVisible();
  await screenshot(page, 'history');

  // Phone width: the navigation is a row under the header, nothing behind a menu button.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(url('/pairs'));
  await expect(page.getByRole('listitem', { name: 'Pair Sync flow' })).toBeVisible();
  await screenshot(page, 'pairs-phone');
  await page
    .getByRole('navigation', { name: 'Main navigation' })
    .getByRole('link', { name: /^Conflicts/ })
    .click();
  await expect(page.getByRole('heading', { name: 'Conflicts', exact: true })).toBeVisible();
  await api.dispose();
});
