import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run, Version, VersionList } from '@syncengine/contracts';
import { canReachPostgres, requireService, TEST_DATABASE_URL } from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

type Method = 'GET' | 'POST' | 'DELETE';
const idOf = (side: string, versionPath: string) =>
  Buffer.from(`${side}:${versionPath}`, 'utf8').toString('base64url');

describe.skipIf(!hasPostgres)('versions API on Postgres', () => {
  let server: TestServer;
  let pairId: string;
  let folders: { source: string; destination: string };
  const runs: Run[] = [];

  const request = async (method: Method, url: string, payload?: unknown, cookie = server.cookie) => {
    const response = await server.runtime.app.inject({
      method,
      url,
      headers: cookie ? { cookie } : {},
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    const isJson = String(response.headers['content-type'] ?? '').startsWith('application/json');
    return {
      status: response.statusCode,
      body: isJson ? response.json() : null,
      raw: response.body,
      headers: response.headers,
    };
  };
  async function runToEnd(): Promise<Run> {
    const started = await request('POST', `/api/v1/pairs/${pairId}/runs`, {});
    expect(started.status, started.raw).toBe(202);
    const id = (started.body as Run).id;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = (await request('GET', `/api/v1/runs/${id}`)).body as Run;
      if (['completed', 'failed', 'cancelled'].includes(run.status)) {
        runs.push(run);
        return run;
      }
      if (Date.now() > deadline) throw new Error('the run did not end');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const list = async (query = '') => {
    const response = await request('GET', `/api/v1/pairs/${pairId}/versions${query}`);
    expect(response.status, response.raw).toBe(200);
    return response.body as VersionList;
  };

  beforeAll(async () => {
    server = await startTestServer({ driver: 'postgres' });
    folders = await server.folders('versions');
    await writeFile(join(folders.source, 'notes.txt'), 'first draft');
    await mkdir(join(folders.source, 'docs'), { recursive: true });
    await writeFile(join(folders.source, 'docs', 'plan.md'), 'plan one');
    await writeFile(join(folders.source, 'docs', 'old.md'), 'to be deleted');
    pairId = (
      await server.createPair({
        name: 'versions',
        source: { type: 'local', path: folders.source },
        destination: { type: 'local', path: folders.destination },
      })
    ).id;
    expect((await runToEnd()).status).toBe('completed');
    // An edit at the source overwrites the destination's copy; a delete removes it there.
    const later = new Date(Date.now() + 5_000);
    await writeFile(join(folders.source, 'notes.txt'), 'second draft, longer');
    await utimes(join(folders.source, 'notes.txt'), later, later);
    await writeFile(join(folders.source, 'docs', 'plan.md'), 'plan two');
    await utimes(join(folders.source, 'docs', 'plan.md'), later, later);
    await import('node:fs/promises').then((fs) => fs.rm(join(folders.source, 'docs', 'old.md')));
    expect((await runToEnd()).status).toBe('completed');
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['GET', 'versions'],
    ['POST', `versions/${idOf('source', '.syncengine/versions/20260101T000000Z/a.txt')}/restore`],
    ['GET', `versions/${idOf('source', '.syncengine/versions/20260101T000000Z/a.txt')}/content`],
    ['DELETE', `versions/${idOf('source', '.syncengine/versions/20260101T000000Z/a.txt')}`],
    ['POST', 'versions/prune'],
  ] as Array<[Method, string]>)(
    'refuses %s /pairs/:id/%s without a session or token',
    async (method, path) => {
      const response = await request(
        method,
        `/api/v1/pairs/${pairId}/${path}`,
        method === 'POST' ? { olderThanDays: 1 } : undefined,
        '',
      );
      expect(response.status).toBe(401);
    },
  );

  it('lists what the runs kept, newest first, with the reason and the run', async () => {
    const { items, retentionDays, truncated } = await list();
    expect(retentionDays).toBe(30);
    expect(truncated).toBe(false);
    const secondRun = runs[1]!;
    const byPath = Object.fromEntries(items.map((item) => [item.path, item]));
    expect(Object.keys(byPath).sort()).toEqual(['docs/old.md', 'docs/plan.md', 'notes.txt']);
    expect(byPath['notes.txt']).toMatchObject({
      side: 'destination',
      size: 'first draft'.length,
      reason: 'overwritten',
      runId: secondRun.id,
    });
    expect(byPath['docs/old.md']).toMatchObject({
      side: 'destination',
      reason: 'deleted',
      runId: secondRun.id,
    });
    const keptAt = items.map((item) => item.keptAt);
    expect([...keptAt].sort().reverse()).toEqual(keptAt);
  });

  it('filters by side, folder and name', async () => {
    expect((await list('?side=source')).items).toEqual([]);
    expect((await list('?side=destination&path=docs')).items.map((item) => item.path).sort()).toEqual([
      'docs/old.md',
      'docs/plan.md',
    ]);
    expect((await list('?q=PLAN')).items.map((item) => item.path)).toEqual(['docs/plan.md']);
    expect((await list('?path=doc')).items).toEqual([]);
  });

  it('answers 400 naming the field for bad input, 404 for an unknown pair', async () => {
    const badSide = await request('GET', `/api/v1/pairs/${pairId}/versions?side=left`);
    expect(badSide.status).toBe(400);
    expect(badSide.body.message).toContain('side');
    const badPath = await request('GET', `/api/v1/pairs/${pairId}/versions?path=../etc`);
    expect(badPath.status).toBe(400);
    expect(badPath.body.message).toMatch(/^path: /);
    const badId = await request('POST', `/api/v1/pairs/${pairId}/versions/not*an*id/restore`);
    expect(badId.status).toBe(400);
    expect(badId.body.message).toContain('versionId');
    const badPrune = await request('POST', `/api/v1/pairs/${pairId}/versions/prune`, { olderThanDays: 0 });
    expect(badPrune.status).toBe(400);
    expect(badPrune.body.message).toContain('olderThanDays');
    const unknown = await request('GET', `/api/v1/pairs/${crypto.randomUUID()}/versions`);
    expect(unknown.status).toBe(404);
  });

  it('never reaches outside the versions area of the pair', async () => {
    // An id naming a file that is not a kept version, or a path escaping the root.
    for (const forged of [
      idOf('source', 'notes.txt'),
      idOf('source', '.syncengine/versions/20260101T000000Z/../../../notes.txt'),
      idOf('source', '../outside.txt'),
      idOf('elsewhere', '.syncengine/versions/20260101T000000Z/a.txt'),
    ]) {
      for (const [method, suffix] of [
        ['GET', '/content'],
        ['POST', '/restore'],
        ['DELETE', ''],
      ] as Array<[Method, string]>) {
        const response = await request(method, `/api/v1/pairs/${pairId}/versions/${forged}${suffix}`);
        expect(response.status, `${method} ${suffix}`).toBe(400);
        expect(response.body.message).toContain('versionId');
      }
    }
    // A symbolic link in the versions area pointing outside the root is never listed nor read.
    const outside = join(server.root, 'secret.txt');
    await writeFile(outside, 'secret');
    const linkFolder = join(folders.destination, '.syncengine', 'versions', '20260101T000000Z');
    await mkdir(linkFolder, { recursive: true });
    await symlink(outside, join(linkFolder, 'leak.txt'));
    expect((await list()).items.map((item) => item.path)).not.toContain('leak.txt');
    const leak = await request(
      'GET',
      `/api/v1/pairs/${pairId}/versions/${idOf('destination', '.syncengine/versions/20260101T000000Z/leak.txt')}/content`,
    );
    expect(leak.status).not.toBe(200);
    expect(leak.raw).not.toContain('secret');
  });

  it('downloads a version', async () => {
    const notes = (await list('?q=notes.txt')).items[0]!;
    const response = await request('GET', `/api/v1/pairs/${pairId}/versions/${notes.id}/content`);
    expect(response.status).toBe(200);
    expect(response.raw).toBe('first draft');
    expect(response.headers['content-disposition']).toContain('notes.txt');
  });

  it('restores a version, keeping the current file as a version first', async () => {
    const notes = (await list('?q=notes.txt')).items[0]!;
    const response = await request('POST', `/api/v1/pairs/${pairId}/versions/${notes.id}/restore`);
    expect(response.status, response.raw).toBe(200);
    expect(response.body).toMatchObject({
      status: 'restored',
      side: 'destination',
      path: 'notes.txt',
      jobId: null,
    });
    expect(await readFile(join(folders.destination, 'notes.txt'), 'utf8')).toBe('first draft');
    const keptAs = response.body.keptAs as Version;
    expect(keptAs).toMatchObject({ reason: 'restore', runId: null, size: 'second draft, longer'.length });
    const listed = (await list('?q=notes.txt')).items;
    expect(listed.map((item) => [item.reason, item.size])).toEqual(
      expect.arrayContaining([
        ['restore', 'second draft, longer'.length],
        ['overwritten', 'first draft'.length],
      ]),
    );
    const replaced = listed.find((item) => item.id === keptAs.id)!;
    const content = await request('GET', `/api/v1/pairs/${pairId}/versions/${replaced.id}/content`);
    expect(content.raw).toBe('second draft, longer');
  });

  it('deletes one version, and prunes the old ones by hand', async () => {
    const old = (await list('?q=old.md')).items[0]!;
    expect((await request('DELETE', `/api/v1/pairs/${pairId}/versions/${old.id}`)).status).toBe(204);
    expect((await list('?q=old.md')).items).toEqual([]);
    expect((await request('DELETE', `/api/v1/pairs/${pairId}/versions/${old.id}`)).status).toBe(404);

    const ancient = join(folders.source, '.syncengine', 'versions', '20200101T000000Z');
    await mkdir(ancient, { recursive: true });
    await writeFile(join(ancient, 'ancient.txt'), 'old');
    expect((await list('?q=ancient')).items).toHaveLength(1);
    const pruned = await request('POST', `/api/v1/pairs/${pairId}/versions/prune`, { olderThanDays: 365 });
    expect(pruned.status).toBe(200);
    expect(pruned.body.removedFolders).toBeGreaterThanOrEqual(1);
    expect(existsSync(ancient)).toBe(false);
    // Recent versions stay.
    expect((await list('?q=plan.md')).items).toHaveLength(1);
    expect(await readdir(join(folders.destination, '.syncengine', 'versions'))).not.toHaveLength(0);
  });
});
