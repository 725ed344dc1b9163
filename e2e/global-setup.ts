import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The admin password the stack is started with. */
export const ADMIN_PASSWORD = 'e2e-admin-password';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(
  url: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 90_000,
): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`The process exited with code ${child.exitCode} before ${url} answered:\n${log()}`);
    }
    try {
      const response = await fetch(url);
      if (response.status < 500) return response;
      lastError = `status ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${lastError}):\n${log()}`);
}

function stop(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function start(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string = root,
): { child: ChildProcess; log: () => string } {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
    if (process.env.E2E_SERVER_LOG) process.stderr.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log: () => output };
}

/**
 * Builds the dashboard, starts the server from source with embedded defaults (PGlite,
 * in-process runs) in a temporary folder, and exposes through the environment what the
 * tests need: `E2E_BASE_URL`, `E2E_ALLOWED_ROOT` (where tests create their folders) and
 * `E2E_ADMIN_PASSWORD`. Returns the teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!process.env.E2E_SKIP_WEB_BUILD) {
    const build = spawnSync('pnpm', ['--filter', '@syncengine/web', 'build'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (build.status !== 0) throw new Error('Building the dashboard failed');
  }

  const workDir = mkdtempSync(join(tmpdir(), 'syncengine-e2e-'));
  const allowedRoot = join(workDir, 'folders');
  const dataDir = join(workDir, 'data');
  mkdirSync(allowedRoot, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(join(root, 'e2e', 'artifacts'), { recursive: true });

  const port = await freePort();
  const serverEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    SYNCENGINE_DATA_DIR: dataDir,
    SYNCENGINE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    SYNCENGINE_ALLOWED_ROOTS: allowedRoot,
    SYNCENGINE_SECRET_KEY: 'e2e-secret-key-0123456789abcdef0123456789abcdef',
    SYNCENGINE_EMBEDDED_WORKER: 'true',
  };
  // The embedded defaults: no external Postgres or Redis.
  delete serverEnv.DATABASE_URL;
  delete serverEnv.REDIS_URL;

  const server = start(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'apps/server/src/main.ts'],
    serverEnv,
  );
  const apiUrl = `http://127.0.0.1:${port}`;
  let preview: ReturnType<typeof start> | null = null;
  try {
    await waitFor(`${apiUrl}/api/v1/health`, server.child, server.log);
    let baseUrl = apiUrl;
    const home = await fetch(`${apiUrl}/`).catch(() => null);
    const isDashboardServed = home?.ok && (home.headers.get('content-type') ?? '').includes('text/html');
    if (!isDashboardServed) {
      // The server does not serve the built dashboard: serve it with Vite's preview server,
      // which forwards /api (and the WebSocket) to the server.
      const previewPort = await freePort();
      preview = start(
        process.execPath,
        [
          join(root, 'apps/web/node_modules/vite/bin/vite.js'),
          'preview',
          '--port',
          String(previewPort),
          '--strictPort',
          '--host',
          '127.0.0.1',
        ],
        { ...process.env, SYNCENGINE_API_URL: apiUrl },
        join(root, 'apps/web'),
      );
      baseUrl = `http://127.0.0.1:${previewPort}`;
      await waitFor(`${baseUrl}/`, preview.child, preview.log);
    }
    process.stdout.write(
      `SyncEngine e2e stack: API ${apiUrl}, dashboard ${baseUrl} (${isDashboardServed ? 'served by the server' : 'Vite preview'})\n`,
    );
    process.env.E2E_BASE_URL = baseUrl;
    process.env.E2E_API_URL = apiUrl;
    process.env.E2E_ALLOWED_ROOT = allowedRoot;
    process.env.E2E_ADMIN_PASSWORD = ADMIN_PASSWORD;
    writeFileSync(join(workDir, 'stack.json'), JSON.stringify({ baseUrl, apiUrl, allowedRoot }, null, 2));
  } catch (error) {
    await stop(preview?.child ?? null);
    await stop(server.child);
    throw error;
  }

  return async () => {
    await stop(preview?.child ?? null);
    await stop(server.child);
    if (!process.env.E2E_KEEP_DATA) rmSync(workDir, { recursive: true, force: true });
  };
}
