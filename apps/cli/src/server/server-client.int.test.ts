import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Conflict, Pair, Run } from '@syncengine/contracts';
import { startTestServer, type TestServer } from '@syncengine/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessRun, runSyncengine } from '../../test/cli-process.js';

// The command as a client of a real server: the server runs in this process (embedded
// PGlite, runs executed in-process) and listens on a port; the command runs in child
// processes exactly as a user starts it.
let server: TestServer;
let url: string;
let token: string;
let tokenId: string;
let home: string;

function syncengine(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<ProcessRun> {
  const env: NodeJS.ProcessEnv = {
    XDG_CONFIG_HOME: join(home, 'config'),
    SYNCENGINE_URL: undefined,
    SYNCENGINE_TOKEN: undefined,
  };
  return runSyncengine(args, { env: { ...env, ...options.env }, input: options.input ?? '' });
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const read = (path: string) => readFile(path, 'utf8').catch(() => null);

async function createToken(name: string): Promise<{ id: string; token: string }> {
  const response = await server.runtime.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: { cookie: server.cookie },
    payload: { name },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

/** Creates a pair through the command; returns it. */
async function createPair(
  name: string,
  extra: string[] = [],
): Promise<{ pair: Pair; source: string; destination: string }> {
  const { source, destination } = await server.folders(name);
  const created = await syncengine([
    'pairs',
    'create',
    source,
    destination,
    '--name',
    name,
    '--json',
    ...extra,
  ]);
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  return { pair: JSON.parse(created.stdout) as Pair, source, destination };
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'syncengine-client-'));
  // A conflict nobody decides is left pending after a second, so runs end.
  server = await startTestServer({ driver: 'pglite' });
  url = await server.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  ({ id: tokenId, token } = await createToken('cli tests'));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await rm(home, { recursive: true, force: true });
});

describe('syncengine as a client of the server', { timeout: 120_000 }, () => {
  it('logs in with a token read from stdin and stores it readable by the user only', async () => {
    const login = await syncengine(['login', url], { input: `${token}\n` });

    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Signed in to ${url} as admin`);
    const file = join(home, 'config', 'syncengine', 'credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse((await read(file))!)).toEqual({ url, token });

    const wrong = await syncengine(['login', url, '--token', 'se_not-a-token']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/refused the token/);
    // A failed login leaves the working credentials in place.
    expect(JSON.parse((await read(file))!)).toEqual({ url, token });
  });

  it('creates a pair, lists and shows it, and runs it with --wait until the files are on disk', async () => {
    const { pair, source, destination } = await createPair('photos', [
      '--mode',
      'source-backup',
      '--transfers',
      '3',
    ]);
    expect(pair).toMatchObject({ name: 'photos', mode: 'SOURCE_BACKUP', concurrency: { transfers: 3 } });
    await writeFile(join(source, 'a.txt'), 'from the source');
    await mkdir(join(source, 'sub'));
    await writeFile(join(source, 'sub', 'b.txt'), 'in a folder');

    const list = await syncengine(['pairs', 'list', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { items: Pair[] }).items.map((p) => p.name)).toContain('photos');
    const table = await syncengine(['pairs', 'list']);
    expect(table.stdout).toMatch(/NAME +ID +MODE/);
    expect(table.stdout).toMatch(new RegExp(`photos +${pair.id} +source-backup`));
    const show = await syncengine(['pairs', 'show', 'photos']);
    expect(show.stdout).toContain(`id:           ${pair.id}`);

    const run = await syncengine(['pairs', 'run', 'photos', '--wait', '--progress']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Run .* of photos completed/);
    // The live display, drawn from the server's WebSocket events.
    expect(run.stderr).toMatch(/Transferred: +26 B \/ 26 B, 100%/);
    // Counted as the engine counts them: the folder apart from the files.
    expect(run.stderr).toContain('Files:        2 / 2, 100%');
    expect(run.stderr).toContain('Folders:      1 / 1');
    expect(await read(join(destination, 'a.txt'))).toBe('from the source');
  });

  it('exits 3 when a run leaves conflicts, and applies on disk a decision taken with conflicts resolve', async () => {
    const { pair, source, destination } = await createPair('manual', ['--conflict', 'manual']);
    await writeFile(join(source, 'doc.txt'), 'source version');
    await writeFile(join(destination, 'doc.txt'), 'destination version');

    const run = await syncengine(['pairs', 'run', pair.id, '--wait', '--json']);
    expect(run.code).toBe(3);
    expect((JSON.parse(run.stdout) as Run).stats?.conflictsPending).toBe(1);

    const list = await syncengine(['conflicts', 'list', '--pair', 'manual', '--json']);
    const conflicts = (JSON.parse(list.stdout) as { items: Conflict[] }).items;
    expect(conflicts.map((c) => [c.path, c.status])).toEqual([['doc.txt', 'pending']]);
    const table = await syncengine(['conflicts', 'list']);
    expect(table.stdout).toContain('1 conflict.');

    const bad = await syncengine(['conflicts', 'resolve', conflicts[0]!.id, 'theirs']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected one of source, destination, keep-both, skip');

    const resolve = await syncengine(['conflicts', 'resolve', conflicts[0]!.id, 'source']);
    expect(resolve.code).toBe(0);
    expect(resolve.stdout).toContain('Resolved doc.txt as source');
    await waitFor(
      async () => (await read(join(destination, 'doc.txt'))) === 'source version',
      'the decision on disk',
    );
    expect(await read(join(source, 'doc.txt'))).toBe('source version');
  });

  it('exits 4 when the delete guard stops a run, and 1 when a run fails', async () => {
    const { source, destination } = await createPair('guarded', ['--mode', 'source-to-destination']);
    for (const name of ['a', 'b', 'c', 'd']) await writeFile(join(source, `${name}.txt`), name);
    expect((await syncengine(['pairs', 'run', 'guarded', '--wait', '--quiet'])).code).toBe(0);
    for (const name of ['a', 'b', 'c']) await rm(join(source, `${name}.txt`));

    const guarded = await syncengine(['pairs', 'run', 'guarded', '--wait']);

    expect(guarded.code).toBe(4);
    expect(guarded.stdout).toMatch(/failed.*maxDeletePercent/);
    expect(await read(join(destination, 'a.txt'))).toBe('a');

    await rm(source, { recursive: true });
    const failed = await syncengine(['pairs', 'run', 'guarded', '--wait', '--force']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/Run .* of guarded failed/);
  });

  it('takes the server and token from SYNCENGINE_URL and SYNCENGINE_TOKEN, and names an unknown pair', async () => {
    const env = { XDG_CONFIG_HOME: join(home, 'elsewhere'), SYNCENGINE_URL: url, SYNCENGINE_TOKEN: token };
    const unknown = await syncengine(['pairs', 'show', 'no-such-pair'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no pair named "no-such-pair"');

    const notSignedIn = await syncengine(['pairs', 'list'], {
      env: { XDG_CONFIG_HOME: join(home, 'elsewhere') },
    });
    expect(notSignedIn.code).toBe(2);
    expect(notSignedIn.stderr).toContain('not signed in to a server: run syncengine login <url>');
  });

  it('lists and restores the versions a server pair kept', async () => {
    const { source, destination } = await createPair('kept', ['--mode', 'source-to-destination']);
    await writeFile(join(source, 'doc.txt'), 'first draft');
    expect((await syncengine(['pairs', 'run', 'kept', '--wait', '--quiet'])).code).toBe(0);
    await writeFile(join(source, 'doc.txt'), 'second draft, longer');
    expect((await syncengine(['pairs', 'run', 'kept', '--wait', '--quiet'])).code).toBe(0);
    expect(await read(join(destination, 'doc.txt'))).toBe('second draft, longer');

    const list = await syncengine(['versions', 'list', '--pair', 'kept', '--json']);
    expect(list.code).toBe(0);
    const { items } = JSON.parse(list.stdout) as {
      items: Array<{ path: string; side: string; size: number }>;
    };
    expect(items).toEqual([expect.objectContaining({ path: 'doc.txt', side: 'destination', size: 11 })]);
    const table = await syncengine(['versions', 'list', '--pair', 'kept', 'doc.txt']);
    expect(table.stdout).toMatch(/ID +SIDE +KEPT AT +SIZE +REASON +PATH/);
    expect(table.stdout).toMatch(/destination .* 11 B +overwritten +doc\.txt/);

    const restore = await syncengine(['versions', 'restore', '--pair', 'kept', 'doc.txt']);
    expect(restore.stderr).toMatch(/kept the current doc\.txt as a version/);
    expect(restore.code).toBe(0);
    expect(await read(join(destination, 'doc.txt'))).toBe('first draft');

    const missing = await syncengine(['versions', 'restore', '--pair', 'kept', 'nothing.txt']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no kept version of nothing.txt in kept');
  });

  it('gives a clear error and exit 2 once the token is revoked', async () => {
    const revoke = await server.runtime.app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${tokenId}`,
      headers: { cookie: server.cookie },
    });
    expect(revoke.statusCode).toBe(204);

    const list = await syncengine(['pairs', 'list']);

    expect(list.code).toBe(2);
    expect(list.stdout).toBe('');
    expect(list.stderr).toMatch(
      /^syncengine: the server at .* refused the token \(revoked, expired or mistyped\)/,
    );
    expect(list.stderr).toContain(`syncengine login ${url}`);
  });
});
