import { expect, test } from '@playwright/test';
import { screenshotEverywhere } from '../screens.js';
import { adminApi, createPair, makeFolders, readTree, signIn, url, writeFiles } from '../support.js';

test('a watched pair shows it is live, and a file written in its source folder appears in its activity and arrives, without a reload', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const folders = makeFolders('watch');
  writeFiles(folders.source, { 'first.txt': 'there before the watch' });
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Watched pair',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
    watch: { enabled: true, debounceMs: 200 },
  });

  await signIn(page);
  const card = page.getByRole('listitem', { name: 'Pair Watched pair' });
  await expect(card.getByTestId('watch-badge')).toHaveText('Live sync', { timeout: 30_000 });
  // The watch starts with a full run.
  await expect
    .poll(() => readTree(folders.destination), { timeout: 30_000 })
    .toEqual({
      'first.txt': 'there before the watch',
    });

  await card.getByRole('link', { name: 'Watched pair' }).click();
  await expect(page).toHaveURL(url(`/pairs/${pairId}`));
  const panel = page.getByRole('region', { name: 'Live sync' });
  await expect(panel.getByTestId('watch-badge')).toHaveText('On');
  await expect(panel.getByTestId('watch-mode-source')).toHaveText('Source: change notifications');
  await expect(panel.getByTestId('watch-mode-destination')).toHaveText('Destination: change notifications');
  await expect(panel.getByTestId('watch-pending')).toHaveText('Nothing waiting');
  // A reload would drop this mark.
  await page.evaluate(() => document.body.setAttribute('data-not-reloaded', 'yes'));

  writeFiles(folders.source, { 'notes/today.txt': 'written on disk while the page is open' });

  const activity = panel.getByRole('log', { name: 'Activity' });
  await expect(activity).toContainText(/changes? on source: .*notes/);
  await expect(activity.getByRole('link', { name: /^Run started for \d+ changes?$/ })).toBeVisible();
  await expect
    .poll(() => readTree(folders.destination)['notes/today.txt'], { timeout: 30_000 })
    .toBe('written on disk while the page is open');
  await expect(panel.getByTestId('watch-last-change')).toHaveText(/^Last change: (now|\d+ seconds? ago)$/);
  await expect(panel.getByText(/^Last live run: (now|\d+ seconds? ago)$/)).toBeVisible();
  // The history lists the watch's run as live sync, and it completed.
  const newest = page.getByTestId('run-row').first();
  await expect(newest.getByTestId('run-trigger')).toHaveText('live sync');
  await expect(newest).toContainText('completed');
  // Nothing is left behind: what the run wrote is not counted as waiting (by the status
  // check, refreshed every 30 s, if no event says so sooner).
  await expect(panel.getByTestId('watch-pending')).toHaveText('Nothing waiting', { timeout: 45_000 });
  await expect(page.locator('body')).toHaveAttribute('data-not-reloaded', 'yes');

  await screenshotEverywhere(page, 'watched-pair');
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'the pair page is wider than a phone').toBeLessThanOrEqual(0);
  await page.goto(url('/pairs'));
  await expect(card.getByTestId('watch-badge')).toHaveText('Live sync');
  await screenshotEverywhere(page, 'watched-pairs');

  await api.dispose();
});
