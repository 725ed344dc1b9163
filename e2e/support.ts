import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type APIRequestContext, expect, type Page, request } from '@playwright/test';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

/** What the global setup started (see global-setup.ts). */
export function stack() {
  const baseUrl = process.env.E2E_BASE_URL;
  const apiUrl = process.env.E2E_API_URL;
  const allowedRoot = process.env.E2E_ALLOWED_ROOT;
  const password = process.env.E2E_ADMIN_PASSWORD;
  if (!baseUrl || !apiUrl || !allowedRoot || !password) throw new Error('The e2e stack was not started');
  return { baseUrl, apiUrl, allowedRoot, password };
}

export const url = (path: string) => `${stack().baseUrl}${path}`;

/** Signs in through the sign-in page, which opens the overview, then opens the pairs list. */
export async function signIn(page: Page): Promise<void> {
  await page.goto(url('/login'));
  await page.getByLabel('User name').fill('admin');
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(stack().password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview', exact: true })).toBeVisible();
  await page.goto(url('/pairs'));
  await expect(page.getByRole('heading', { name: 'Sync pairs', exact: true })).toBeVisible();
}

/** An API client signed in as admin (for setting up what a test is not about). */
export async function adminApi(): Promise<APIRequestContext> {
  const context = await request.newContext({ baseURL: `${stack().apiUrl}/api/v1/` });
  const response = await context.post('auth/login', {
    data: { username: 'admin', password: stack().password },
  });
  expect(response.ok(), await response.text()).toBe(true);
  return context;
}

/** A pair created through the API; answers its id. */
export async function createPair(api: APIRequestContext, body: Record<string, unknown>): Promise<string> {
  const response = await api.post('pairs', { data: body });
  expect(response.status(), await response.text()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** Two empty folders (source, destination) under the server's allowed root. */
export function makeFolders(name: string): { source: string; destination: string } {
  const base = join(stack().allowedRoot, `${name}-${Date.now().toString(36)}`);
  const source = join(base, 'source');
  const destination = join(base, 'destination');
  mkdirSync(source, { recursive: true });
  mkdirSync(destination, { recursive: true });
  return { source, destination };
}

/** Writes files (relative path → content), optionally with a modified time. */
export function writeFiles(dir: string, files: Record<string, string | Buffer>, mtime?: Date): void {
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    if (mtime) utimesSync(file, mtime, mtime);
  }
}

/** Every file under a folder (relative path → content), leaving out the engine's own folders. */
export function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      const rel = relative(dir, path).split('\\').join('/');
      if (rel.startsWith('.syncengine') || rel.startsWith('.sync_state')) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files[rel] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return files;
}

/**
 * Names and sizes of the files directly in a folder. A file gone between the listing and
 * its stat (the temporary name of a write being put in place) is left out.
 */
export function listSizes(dir: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const stats = statSync(join(dir, entry.name), { throwIfNoEntry: false });
    if (stats) sizes.set(entry.name, stats.size);
  }
  return sizes;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Saves a full-page screenshot of a main screen to e2e/artifacts/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}
