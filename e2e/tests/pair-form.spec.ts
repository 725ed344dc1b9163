import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { makeFolders, screenshot, signIn, stack, url, writeFiles } from '../support.js';

async function fillLocation(page: Page, legend: 'Source' | 'Destination', path: string) {
  await page.getByRole('group', { name: legend }).getByLabel('Folder', { exact: false }).first().fill(path);
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
  await page.getByLabel('Bandwidth limit (KiB/s)').fill('512');
  await screenshot(page, 'pair-form');

  await page.getByRole('button', { name: 'Create pair' }).click();
  await expect(page.getByRole('heading', { name: 'Documents', exact: true })).toBeVisible();
  await expect(page.getByText('Backup source → destination')).toBeVisible();
  await expect(page.getByText('Every hour')).toBeVisible();
  await expect(page.getByText('at most 512 KiB/s')).toBeVisible();

  // Edit it: the form comes back filled in.
  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Name')).toHaveValue('Documents');
  await expect(page.getByLabel('Patterns (gitignore syntax, one per line)')).toHaveValue('*.tmp\n/build/');
  await expect(page.getByLabel('Bandwidth limit (KiB/s)')).toHaveValue('512');
  await page.getByLabel('Bandwidth limit (KiB/s)').fill('');
  await page.getByLabel('Name').fill('Documents backup');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('heading', { name: 'Documents backup', exact: true })).toBeVisible();
  await expect(page.getByText(/Bandwidth:/)).toHaveCount(0);

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

test('the folder picker browses only folders under the allowed roots, and a missing folder is refused by name or created on request', async ({
  page,
}) => {
  const folders = makeFolders('picker');
  writeFiles(folders.source, { 'photos/2024/a.jpg': 'jpeg', 'notes.txt': 'not a folder' });
  await signIn(page);
  await page.goto(url('/pairs/new'));
  await expect(page.getByText(`under an allowed root: ${stack().allowedRoot}`).first()).toBeVisible();

  await page.getByRole('button', { name: 'Browse for the source folder' }).click();
  const dialog = page.getByRole('dialog', { name: 'Choose the source folder' });
  await expect(dialog.getByRole('listitem')).toHaveText([`${stack().allowedRoot}/`]);
  await dialog.getByRole('button', { name: stack().allowedRoot, exact: true }).click();
  await dialog.getByRole('button', { name: /^picker-/ }).click();
  await dialog.getByRole('button', { name: 'source', exact: true }).click();
  // Folders only: the file beside them is not offered.
  await expect(dialog.getByRole('listitem')).toHaveText(['photos/']);
  await dialog.getByRole('button', { name: 'photos', exact: true }).click();
  await expect(dialog.getByTestId('picker-path')).toHaveText(`${folders.source}/photos`);
  await screenshot(page, 'folder-picker');
  await dialog.getByRole('button', { name: 'Up one folder' }).click();
  await dialog.getByRole('button', { name: 'Use this folder' }).click();
  await expect(
    page.getByRole('group', { name: 'Source' }).getByRole('textbox', { name: /^Folder/ }),
  ).toHaveValue(folders.source);

  const missing = join(folders.destination, 'new', 'backup');
  await page.getByLabel('Name').fill('Picked');
  await fillLocation(page, 'Destination', missing);
  await page.getByRole('button', { name: 'Create pair' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'The pair was not saved' });
  await expect(alert).toContainText('Some fields need attention: see the messages below each one.');
  await expect(page.getByText(`Destination folder ${missing} does not exist`)).toBeVisible();
  await expect(page.getByText('destination.path')).toHaveCount(0);
  expect(existsSync(missing)).toBe(false);
  await screenshot(page, 'pair-form-missing-folder');

  await alert.getByRole('button', { name: 'Create the missing folders and save' }).click();
  await expect(page.getByRole('heading', { name: 'Picked', exact: true })).toBeVisible();
  expect(existsSync(missing)).toBe(true);
});
