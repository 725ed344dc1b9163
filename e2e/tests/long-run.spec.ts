import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { adminApi, createPair, listSizes, makeFolders, screenshot, sha256, signIn, url } from '../support.js';

/**
 * 8 MiB in small files at 128 KiB/s: the run lasts about a minute however fast the machine,
 * and under the limit a group of small files is a second's worth, so a pause lands soon.
 */
const FILE_COUNT = 2_000;
const FILE_SIZE = 4 * 1024;
const BANDWIDTH_LIMIT = 128 * 1024;

const name = (index: number) => `file-${String(index).padStart(5, '0')}.bin`;
/** The copied files among what a folder holds (not a transfer's temporary file). */
const copied = (sizes: Map<string, number>) =>
  [...sizes.keys()].filter((file) => /^file-\d{5}\.bin$/.test(file));

test('a long run can be paused, stays still while paused, resumes, and cancels with every copied file whole', async ({
  page,
}) => {
  const folders = makeFolders('long');
  for (let index = 0; index < FILE_COUNT; index += 1) {
    writeFileSync(join(folders.source, name(index)), randomBytes(FILE_SIZE));
  }
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Long run',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
    mode: 'SOURCE_TO_DESTINATION',
    concurrency: { transfers: 1, operations: 1 },
    bandwidthLimit: BANDWIDTH_LIMIT,
  });

  await signIn(page);
  await page.goto(url(`/pairs/${pairId}`));
  await page.getByRole('button', { name: 'Run now' }).click();
  await expect(page).toHaveURL(/\/runs\//);
  const status = page.getByTestId('run-status');
  await expect(status).toHaveText('running', { timeout: 30_000 });
  await expect(page.getByTestId('files-progress')).toBeVisible();
  await screenshot(page, 'run-live');

  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(status).toHaveText('paused');
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
  await screenshot(page, 'run-paused');

  // While paused nothing new arrives (the group of files being copied was allowed to finish).
  await page.waitForTimeout(2_000);
  const whilePaused = listSizes(folders.destination);
  await page.waitForTimeout(1_500);
  expect(listSizes(folders.destination)).toEqual(whilePaused);
  expect(whilePaused.size).toBeLessThan(FILE_COUNT);

  // Resumed, it copies again; cancelled then, it stops long before the end.
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(status).toHaveText('running');
  await expect
    .poll(() => copied(listSizes(folders.destination)).length, { timeout: 15_000 })
    .toBeGreaterThan(copied(whilePaused).length);
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await expect(status).toHaveText('cancelled', { timeout: 30_000 });
  await screenshot(page, 'run-cancelled');

  // The run was cancelled before the end, and every file that did arrive is complete and
  // identical.
  const arrived = copied(listSizes(folders.destination));
  expect(arrived.length).toBeGreaterThan(copied(whilePaused).length);
  expect(arrived.length).toBeLessThan(FILE_COUNT);
  for (const file of arrived) {
    expect(sha256(join(folders.destination, file)), file).toBe(sha256(join(folders.source, file)));
  }
  await api.dispose();
});
