import { expect, test } from '@playwright/test';
import { adminApi, createPair, makeFolders, signIn, url, writeFiles } from '../support.js';

test('a folder a run creates reads as a folder in the action log and in the recent changes', async ({
  page,
}) => {
  const folders = makeFolders('folder-actions');
  writeFiles(folders.source, { 'album/owl.txt': 'hoot' });
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Folder actions',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
  });
  const run = await api.post(`pairs/${pairId}/runs?wait=true`, { data: {} });
  expect(run.status(), await run.text()).toBe(200);
  const runId = ((await run.json()) as { id: string }).id;

  await signIn(page);
  await page.goto(url(`/runs/${runId}`));
  const log = page.getByTestId('action-log');
  const folderRow = log.getByRole('row').filter({ hasText: 'album/' }).filter({ hasNotText: 'owl' });
  await expect(folderRow).toContainText('Create folder at destination');
  await expect(folderRow).not.toContainText('file');
  await expect(log.getByRole('row').filter({ hasText: 'album/owl.txt' })).toContainText(
    'Copy new file to destination',
  );

  await page.goto(url('/'));
  const changes = page.getByTestId('recent-changes');
  const folderChange = changes
    .getByRole('listitem')
    .filter({ hasText: 'album/' })
    .filter({ hasNotText: 'owl' });
  await expect(folderChange).toContainText('Create folder at destination');
  await api.dispose();
});
