import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BusEvent, Run, Version, VersionList } from '@syncengine/contracts';
import { canReachPostgres, requireService, TEST_DATABASE_URL } from '@syncengine/db/testing';
import { openStorage } from '@syncengine/locations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

/**
 * A restore on a remote side goes through the job catalog: 202 with the job, then the
 * `version-restore` job puts the version back. The "remote" destination is a WebDAV
 * location that this server opens as a local folder, so the outcome can be read on disk.
 */
describe.skipIf(!hasPostgres)('restoring a version on a remote side, on Postgres', () => {
  let server: TestServer;
  let pairId: string;
  let folders: { source: string; destination: string };

  const request = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) => {
    const response = await server.runtime.app.inject({
      method,
      url,
      headers: { cookie: server.cookie },
      ...(payload ? { payload } : {}),
    });
    return { status: response.statusCode, body: response.json(), raw: response.body };
  };
  async function runToEnd(): Promise<Run> {
    const started = await request('POST', `/api/v1/pairs/${pairId}/runs?wait=true&timeout=60`, {});
    expect(started.status, started.raw).toBe(200);
    return started.body as Run;
  }

  beforeAll(async () => {
    let remoteFolder = '';
    server = await startTestServer({
      driver: 'postgres',
      secretKey: 'a test secret key that is long enough',
      openStorage: async (location) =>
        location.type === 'webdav'
          ? openStorage({ type: 'local', path: remoteFolder })
          : openStorage(location),
    });
    folders = await server.folders('remote-restore');
    remoteFolder = folders.destination;
    await writeFile(join(folders.source, 'notes.txt'), 'first draft');
    pairId = (
      await server.createPair({
        name: 'remote restore',
        source: { type: 'local', path: folders.source },
        destination: {
          type: 'webdav',
          url: 'https://dav.example/files',
          username: 'alice',
          password: 'secret',
        },
      })
    ).id;
    expect((await runToEnd()).status).toBe('completed');
    const later = new Date(Date.now() + 5_000);
    await writeFile(join(folders.source, 'notes.txt'), 'second draft, longer');
    await utimes(join(folders.source, 'notes.txt'), later, later);
    expect((await runToEnd()).status).toBe('completed');
    expect(await readFile(join(folders.destination, 'notes.txt'), 'utf8')).toBe('second draft, longer');
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('answers 202 with the job, and the job restores the version and keeps the current file as a version', async () => {
    const listed = await request('GET', `/api/v1/pairs/${pairId}/versions?side=destination`);
    expect(listed.status, listed.raw).toBe(200);
    const kept = (listed.body as VersionList).items.find((item) => item.path === 'notes.txt')!;
    expect(kept).toMatchObject({ side: 'destination', reason: 'overwritten', size: 'first draft'.length });

    const restored = server.nextEvent(
      (event: BusEvent) => event.type === 'version.restored' && event.pairId === pairId,
      30_000,
    );
    const response = await request('POST', `/api/v1/pairs/${pairId}/versions/${kept.id}/restore`);
    expect(response.status, response.raw).toBe(202);
    expect(response.body).toMatchObject({
      status: 'queued',
      side: 'destination',
      path: 'notes.txt',
      keptAs: null,
    });
    expect(response.body.jobId).toEqual(expect.stringContaining('version-restore:'));

    expect(await restored).toMatchObject({
      type: 'version.restored',
      side: 'destination',
      path: 'notes.txt',
    });
    expect(await readFile(join(folders.destination, 'notes.txt'), 'utf8')).toBe('first draft');
    const after = (await request('GET', `/api/v1/pairs/${pairId}/versions?side=destination&q=notes`))
      .body as VersionList;
    expect(after.items.map((item: Version) => [item.reason, item.size])).toEqual(
      expect.arrayContaining([['restore', 'second draft, longer'.length]]),
    );
  });
});
