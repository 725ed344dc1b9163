import { expect, request as playwrightRequest, test } from '@playwright/test';
import { adminApi, createPair, makeFolders, screenshot, signIn, url, writeFiles } from '../support.js';

/** Two small PNG pictures, 24×16: a red one and a blue one. */
const RED_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAABgAAAAQCAIAAACDRijCAAAAGklEQVR4nGO4Y2NDFcQwatCoQaMGjRpEGQIAqMT+EGZjpE4AAAAASUVORK5CYII=',
  'base64',
);
const BLUE_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAABgAAAAQCAIAAACDRijCAAAAGklEQVR4nGOwibpDFcQwatCoQaMGjRpEGQIAdq8rHyWSdtUAAAAASUVORK5CYII=',
  'base64',
);

test('a conflict card shows a line diff of a text file and thumbnails of both versions of an image', async ({
  page,
}) => {
  const folders = makeFolders('conflict-cards');
  writeFiles(folders.source, { 'shopping.md': '# Shopping\nmilk\neggs\nbread\n', 'cover.png': RED_PNG });
  const api = await adminApi();
  const pairId = await createPair(api, {
    name: 'Conflict cards',
    source: { type: 'local', path: folders.source },
    destination: { type: 'local', path: folders.destination },
    conflictResolution: 'MANUAL',
  });
  const first = await api.post(`pairs/${pairId}/runs?wait=true`, { data: {} });
  expect(first.status(), await first.text()).toBe(200);

  // Both sides change both files.
  writeFiles(folders.source, { 'shopping.md': '# Shopping\nmilk\neggs\nbread\nbutter\n' });
  writeFiles(folders.destination, {
    'shopping.md': '# Shopping\nmilk\noat milk\nbread\n',
    'cover.png': BLUE_PNG,
  });
  writeFiles(folders.source, { 'cover.png': Buffer.concat([RED_PNG, Buffer.from('edited')]) });
  const second = await api.post(`pairs/${pairId}/runs?wait=true`, { data: {} });
  expect(((await second.json()) as { status: string }).status).toBe('needs_decision');

  await signIn(page);
  await page.goto(url(`/conflicts?pairId=${pairId}`));
  const text = page.getByRole('listitem', { name: 'Conflict on shopping.md' });
  const diff = text.getByTestId('conflict-diff');
  await expect(diff).toBeVisible();
  await expect(diff.locator('[data-kind="source"]')).toHaveText(['− eggs', '− butter']);
  await expect(diff.locator('[data-kind="destination"]')).toHaveText(['+ oat milk']);
  await expect(text.getByText(/3 lines differ/)).toBeVisible();

  // The pictures come through the signed-in image route and are decoded by the browser.
  const image = page.getByRole('listitem', { name: 'Conflict on cover.png' });
  for (const side of ['Source', 'Destination']) {
    const thumbnail = image.getByAltText(`${side} version of cover.png`);
    await expect(thumbnail).toBeVisible();
    await expect
      .poll(() => thumbnail.evaluate((element) => (element as HTMLImageElement).naturalWidth))
      .toBe(24);
  }
  await expect(image.getByTestId('conflict-diff')).toHaveCount(0);
  await screenshot(page, 'conflict-cards');

  // Signed out, the same image is refused.
  const anonymous = await playwrightRequest.newContext();
  const refused = await anonymous.get(
    url(`/api/v1/conflicts/${await conflictId(api, pairId, 'cover.png')}/image?side=source`),
  );
  expect(refused.status()).toBe(401);
  await anonymous.dispose();
  // Other tests count every pending conflict: these go with their pair.
  expect((await api.delete(`pairs/${pairId}`)).status()).toBe(204);
  await api.dispose();
});

async function conflictId(api: Awaited<ReturnType<typeof adminApi>>, pairId: string, path: string) {
  const list = (await (await api.get(`conflicts?pairId=${pairId}&status=pending`)).json()) as {
    items: { id: string; path: string }[];
  };
  return list.items.find((item) => item.path === path)!.id;
}
