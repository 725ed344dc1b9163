import { expect, test } from '@playwright/test';
import { screenshotEverywhere } from '../screens.js';
import { adminApi, createPair, makeFolders, readTree, signIn, url, writeFiles } from '../support.js';

test('a MANUAL run never waits: it ends needing a decision, and each decision is applied at once with its outcome told', async ({
  page,
}) => {
  const folders = makeFolders('decisions');
  // Both sides hold a different todo.md (a first sync: a conflict), and each a file of its own.
  writeFiles(
    folders.source,
    { 'todo.md': 'source list', 'only-source.txt': 'from the source' },
    new Date(Date.now() - 60_000),
  );
  writeFiles(folders.destination, {
    'todo.md': 'destination list, newer',
    'only-destination.txt': 'from the destination',
  });
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Ask me',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
    conflictResolution: 'MANUAL',
  });

  await signIn(page);
  await page.goto(url(`/pairs/${pairId}`));
  await page.getByRole('button', { name: 'Run now' }).click();
  await expect(page).toHaveURL(/\/runs\//);
  // The run ends at once with everything else done, and says what waits.
  await expect(page.getByTestId('run-status')).toHaveText('needs decision', { timeout: 30_000 });
  await expect(page.getByTestId('conflicts-waiting')).toContainText('1 conflict waits for you');
  expect(readTree(folders.destination)['only-source.txt']).toBe('from the source');
  expect(readTree(folders.source)['only-destination.txt']).toBe('from the destination');
  expect(readTree(folders.source)['todo.md']).toBe('source list');
  expect(readTree(folders.destination)['todo.md']).toBe('destination list, newer');
  // The action log shows the conflict as pending, not done.
  const conflictRow = page.getByRole('row').filter({ hasText: 'todo.md' });
  await expect(conflictRow).toContainText('pending');
  await screenshotEverywhere(page, 'run-needs-decision');

  // The pairs list says it too, with a link to the inbox.
  await page.goto(url('/pairs'));
  const waiting = page
    .getByTestId('pair-card')
    .filter({ hasText: 'Ask me' })
    .getByTestId('conflicts-waiting');
  await expect(waiting).toHaveText('1 conflict waits for you');
  await waiting.click();
  await expect(page).toHaveURL(/\/conflicts\?pairId=/);

  const card = page.getByRole('listitem', { name: 'Conflict on todo.md' });
  await expect(card).toBeVisible();
  // The same facts for both sides, and which is newer and larger.
  await expect(card.getByLabel('Destination version')).toContainText('newer');
  await expect(card.getByLabel('Destination version')).toContainText('larger');
  await expect(card.getByLabel('Source version')).not.toContainText('larger');
  await screenshotEverywhere(page, 'conflicts-pending');
  await card.getByRole('button', { name: 'Keep both' }).click();

  // The outcome names what happened, once it is on disk.
  const outcome = page.getByTestId('resolve-outcome');
  await expect(outcome).toContainText(
    /todo\.md: kept both; the source's copy is now todo\.conflict-\d{8}T\d{6}Z-source\.md on both sides/,
    { timeout: 30_000 },
  );
  const renamed = /todo\.conflict-\d{8}T\d{6}Z-source\.md/.exec((await outcome.textContent()) ?? '')![0];
  for (const side of [folders.source, folders.destination]) {
    const files = readTree(side);
    expect(files['todo.md']).toBe('destination list, newer');
    expect(files[renamed]).toBe('source list');
  }
  await expect(page.getByText('No conflicts waiting')).toBeVisible();
  const history = page.getByTestId('resolved-conflict').filter({ hasText: 'todo.md' });
  await expect(history).toContainText('kept both');
  await expect(history).toContainText('by admin');
  await expect(history).toContainText('both copies stay');
  await screenshotEverywhere(page, 'conflicts-resolved');

  // The run that applied it is a small one, listed with the pair's runs.
  const runs = (await (await api.get(`pairs/${pairId}/runs`)).json()) as {
    items: Array<{ trigger: string; status: string }>;
  };
  expect(runs.items.map((run) => [run.trigger, run.status])).toEqual([
    ['conflict-resolution', 'completed'],
    ['manual', 'needs_decision'],
  ]);

  await api.dispose();
});
