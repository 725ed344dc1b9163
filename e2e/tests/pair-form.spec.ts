import { existsSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import { makeFolders, screenshot, signIn, url } from '../support.js';

async function fillLocation(page: Page, legend: 'Source' | 'Destination', path: string) {
  await page.getByRole('group', { name: legend }).getByLabel('Path', { exact: false }).first().fill(path);
}

test('a bad form shows a message beside each wrong field and creates nothing', async ({ page }) => {
  await signIn(page);
  await page.getByRole('link', { name: 'New pair' }).first().click();
  await expect(page.getByRole('heading', { name: 'New sync pair', exact: true })).toBeVisible();

  await fillLocation(page, 'Source', 'relative/folder');
  await page.getByLabel('Transfers at once').fill('0');
  await page.getByLabel('Max. deletions (%)').fill('150');
  await page.getByLabel('Schedule (cron)').fill('every day');
  await page.getByRole('button', { name: 'Create pair' }).click();

  await expect(page.getByRole('alert').filter({ hasText: 'The pair was not saved' })).toBeVisible();
  await expect(page.getByText('name must not be empty')).toBeVisible();
  await expect(page.getByText('must be an absolute path')).toBeVisible();
  await expect(page.getByText('Must be at least 1')).toBeVisible();
  await expect(page.getByText('Must be at most 100')).toBeVisible();
  await expect(page.getByLabel('Name')).toBeFocused();
  await screenshot(page, 'pair-form-errors');
  await expect(page).toHaveURL(/\/pairs\/new$/);

  // A folder outside the server's allowed roots is refused by the server, and said so.
  await page.getByLabel('Name').fill('Outside');
  await fillLocation(page, 'Source', '/etc');
  await fillLocation(page, 'Destination', '/var');
  await page.getByLabel('Transfers at once').fill('5');
  await page.getByLabel('Max. deletions (%)').fill('50');
  await page.getByLabel('Schedule (cron)').fill('');
  await page.getByRole('button', { name: 'Create pair' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'The pair was not saved' })).toBeVisible();
  await expect(page).toHaveURL(/\/pairs\/new$/);

  await page.goto(url('/pairs'));
  await expect(page.getByText('Outside')).toHaveCount(0);
});

test('a pair created through the form is listed with its settings', async ({ page }) => {
  const folders = makeFolders('form');
  await signIn(page);
  await page.goto(url('/pairs/new'));

  await page.getByLabel('Name').fill('Documents');
  await fillLocation(page, 'Source', folders.source);
  await fillLocation(page, 'Destination', folders.destination);
  await page.getByRole('radio', { name: 'Backup source → destination' }).check();
  await page.getByLabel('Patterns (gitignore syntax, one per line)').fill('*.tmp\n/build/');
  await page.getByLabel('Test a path').fill('notes/draft.tmp');
  await expect(page.locator('#ignore-verdict')).toContainText('Ignored');
  await page.getByLabel('Test a path').fill('notes/draft.txt');
  await expect(page.locator('#ignore-verdict')).toContainText('Synced');
  await page.getByLabel('Schedule (cron)').fill('0 * * * *');
  await expect(page.getByTestId('schedule-preview')).toContainText('Every hour');
  await screenshot(page, 'pair-form');

  await page.getByRole('button', { name: 'Create pair' }).click();
  await expect(page.getByRole('heading', { name: 'Documents', exact: true })).toBeVisible();
  await expect(page.getByText('Backup source → destination')).toBeVisible();
  await expect(page.getByText('Every hour')).toBeVisible();

  // Edit it: the form comes back filled in.
  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Name')).toHaveValue('Documents');
  await expect(page.getByLabel('Patterns (gitignore syntax, one per line)')).toHaveValue('*.tmp\n/build/');
  await page.getByLabel('Name').fill('Documents backup');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('heading', { name: 'Documents backup', exact: true })).toBeVisible();

  await page.goto(url('/pairs'));
  await expect(page.getByRole('listitem', { name: 'Pair Documents backup' })).toBeVisible();

  // Deleting asks first, and leaves the folders alone.
  await page
    .getByRole('listitem', { name: 'Pair Documents backup' })
    .getByRole('link', { name: 'History' })
    .click();
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByRole('button', { name: 'Delete pair' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete “Documents backup”?' });
  await dialog.getByRole('button', { name: 'Keep it' }).click();
  await expect(dialog).toHaveCount(0);
  await page.getByRole('button', { name: 'Delete pair' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Sync pairs', exact: true })).toBeVisible();
  await expect(page.getByRole('listitem', { name: 'Pair Documents backup' })).toHaveCount(0);
  expect(existsSync(folders.source) && existsSync(folders.destination)).toBe(true);
});
