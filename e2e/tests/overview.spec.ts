import { expect, test } from '@playwright/test';
import {
  adminApi,
  createPair,
  makeFolders,
  readTree,
  screenshot,
  signIn,
  stack,
  url,
  writeFiles,
} from '../support.js';

test('the overview is the home: every pair at a glance, recent runs and changes, and the server', async ({
  page,
}) => {
  const synced = makeFolders('overview-synced');
  const waiting = makeFolders('overview-waiting');
  writeFiles(synced.source, { 'report.pdf': 'pdf bytes' });
  writeFiles(waiting.source, { 'later.txt': 'later' });
  const api = await adminApi();
  const syncedId = await createPair(api, {
    name: 'Overview synced',
    source: { type: 'local', path: synced.source },
    destination: { type: 'local', path: synced.destination },
  });
  await createPair(api, {
    name: 'Overview waiting',
    source: { type: 'local', path: waiting.source },
    destination: { type: 'local', path: waiting.destination },
  });
  const run = await api.post(`pairs/${syncedId}/runs?wait=true`, { data: {} });
  expect(run.status(), await run.text()).toBe(200);
  expect(readTree(synced.destination)).toEqual({ 'report.pdf': 'pdf bytes' });

  await signIn(page);
  await page.goto(url('/'));
  const glance = page.getByRole('list', { name: 'Pairs at a glance' });
  await expect(
    glance.getByRole('listitem', { name: 'Pair Overview synced' }).getByTestId('pair-status'),
  ).toHaveText('In sync');
  await expect(
    glance.getByRole('listitem', { name: 'Pair Overview waiting' }).getByTestId('pair-status'),
  ).toHaveText('1 item out of sync');

  const runs = page.getByTestId('recent-runs');
  await expect(runs.getByRole('row').nth(1)).toContainText('Overview synced');
  await expect(runs.getByRole('row').nth(1)).toContainText('completed');
  const changes = page.getByTestId('recent-changes');
  await expect(changes.getByRole('listitem').first()).toContainText('Copy new file to destination');
  await expect(changes.getByRole('listitem').first()).toContainText('report.pdf');
  await expect(changes.getByRole('listitem').first()).toContainText('Overview synced');
  // Relative times carry the exact time on hover.
  await expect(changes.locator('time').first()).toHaveAttribute('title', /\d/);

  const server = page.getByTestId('server-panel');
  await expect(server).toContainText('Embedded (runs execute in the server)');
  await expect(server).toContainText('0 queued, 0 running, 0 paused');
  await expect(server.getByTestId('allowed-root')).toContainText(stack().allowedRoot);
  await expect(server.getByTestId('allowed-root')).toContainText(/iB free of .*iB/);
  await screenshot(page, 'overview');

  // A change made after the page loaded shows once a run has made it.
  writeFiles(synced.source, { 'second.txt': 'two' });
  await api.post(`pairs/${syncedId}/runs`, { data: {} });
  await expect(changes.getByRole('listitem').first()).toContainText('second.txt', { timeout: 30_000 });
});

test('on a phone every page is one tap away, the colour scheme can be chosen, and tables scroll', async ({
  page,
}) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'light' });
  await signIn(page);
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  for (const name of ['Overview', 'Sync pairs', 'Conflicts', 'API tokens']) {
    await expect(nav.getByRole('link', { name, exact: true })).toBeVisible();
  }
  await expect(page.getByRole('button', { name: 'Toggle navigation' })).toHaveCount(0);
  await nav.getByRole('link', { name: 'API tokens', exact: true }).click();
  await expect(page).toHaveURL(url('/tokens'));

  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-mantine-color-scheme', 'light');
  await page.getByText('Dark', { exact: true }).click({ force: true });
  await expect(html).toHaveAttribute('data-mantine-color-scheme', 'dark');
  // The choice is remembered across visits.
  await page.reload();
  await expect(html).toHaveAttribute('data-mantine-color-scheme', 'dark');
  await page.getByText('System', { exact: true }).click({ force: true });
  await expect(html).toHaveAttribute('data-mantine-color-scheme', 'light');

  // Nothing is wider than the phone's screen: wide tables scroll inside their own box.
  await page.goto(url('/'));
  await expect(page.getByRole('heading', { name: 'Overview', exact: true })).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
