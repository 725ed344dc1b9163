import { expect, test } from '@playwright/test';
import { signIn, stack, url } from '../support.js';

test('the dashboard and the API docs work under the content security policy, and refuse to be framed', async ({
  page,
}) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(
        `Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI} in ${event.sourceFile}`,
      );
    });
  });

  const home = await page.goto(url('/pairs'));
  const csp = home?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(home?.headers()['x-frame-options']).toBe('DENY');

  await signIn(page);
  // The live connection (WebSocket, same origin) is allowed by connect-src.
  await expect(page.getByTestId('connection-status')).toHaveText('Live');
  await page.getByRole('link', { name: 'API tokens' }).click();
  await expect(page.getByRole('heading', { name: 'API tokens', exact: true })).toBeVisible();

  await page.goto(url('/docs'));
  await expect(page.getByRole('heading', { name: /SyncEngine API/ })).toBeVisible();

  // A page of another origin that frames the dashboard gets nothing from it.
  await page.goto('about:blank');
  await page.setContent(
    `<iframe id="framed" src="${stack().baseUrl}/pairs" width="600" height="400"></iframe>`,
  );
  const framed = page.frameLocator('#framed');
  await expect(framed.getByRole('heading', { name: 'Sync pairs' })).toHaveCount(0);
  await expect(framed.getByRole('heading', { name: 'Sign in' })).toHaveCount(0);

  expect(violations.filter((text) => !text.includes('frame-ancestors'))).toEqual([]);
});
