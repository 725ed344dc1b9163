import { expect, test } from '@playwright/test';
import { screenshot, signIn, stack, url } from '../support.js';

test('a wrong password is refused with a message, the right one signs in, and sign-out ends the session', async ({
  page,
}) => {
  await page.goto(url('/pairs'));
  // Without a session the dashboard asks to sign in.
  await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
  await screenshot(page, 'sign-in');

  await page.getByLabel('User name').fill('admin');
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Wrong user name or password');

  // Enter in the password field submits the form.
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(stack().password);
  await page.getByRole('textbox', { name: 'Password', exact: true }).press('Enter');
  await expect(page.getByRole('heading', { name: 'Sync pairs', exact: true })).toBeVisible();
  await expect(page.getByTestId('connection-status')).toHaveText('Live');
  await expect(page.getByText('No sync pairs yet')).toBeVisible();
  await screenshot(page, 'pairs-empty');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
  await page.goto(url('/pairs'));
  await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
});

test('an API token is shown once on creation, works as a bearer token, and can be revoked', async ({
  page,
  request,
}) => {
  await signIn(page);
  await page.getByRole('link', { name: 'API tokens' }).click();
  await expect(page.getByRole('heading', { name: 'API tokens', exact: true })).toBeVisible();

  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByText('Give the token a name')).toBeVisible();

  await page.getByLabel('New token name').fill('backup-script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('new-token').textContent())?.trim() ?? '';
  expect(token.length).toBeGreaterThan(10);
  await expect(page.getByRole('cell', { name: 'backup-script', exact: true })).toBeVisible();
  await screenshot(page, 'tokens');

  const withToken = await request.get(`${stack().apiUrl}/api/v1/pairs`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(withToken.status()).toBe(200);

  await page.getByRole('button', { name: 'Revoke token backup-script' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByRole('cell', { name: 'backup-script', exact: true })).toHaveCount(0);
  const revoked = await request.get(`${stack().apiUrl}/api/v1/pairs`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(revoked.status()).toBe(401);
});
