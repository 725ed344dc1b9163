import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { BusEvent, Pair, PairSyncStatus, Run, WsEventOf } from '@syncengine/contracts';
import type { Storage } from '@syncengine/engine';
import { openStorage } from '@syncengine/locations';
import { parcelWatcher } from '@syncengine/watch';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../test/testing/test-server.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const DEBOUNCE_MS = 200;
const WAIT = { timeout: 30_000, interval: 50 };

/**
 * While `held` is set, writes into the pairs' storages (one by one or in batches) wait for
 * it: a run stays active for as long as a test needs.
 */
let held: Promise<void> | null = null;
function holdingWrites(storage: Storage): Storage {
  const methods = storage as unknown as Record<string, unknown>;
  for (const name of ['write', 'copyInBatch']) {
    const method = methods[name];
    if (typeof method !== 'function') continue;
    const original = method.bind(storage) as (...args: unknown[]) => Promise<unknown>;
    methods[name] = async (...args: unknown[]) => {
      if (held) await held;
      return original(...args);
    };
  }
  return storage;
}

/** Every file under a folder with its content, the engine's own folders left out. */
async function tree(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name === '.syncengine' || entry.name.includes('.syncengine-tmp-')) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files[relative(root, path)] = await readFile(path, 'utf8');
    }
  };
  await walk(root);
  return files;
}

const readOrNull = (path: string) => readFile(path, 'utf8').catch(() => null);

/** The server watches watched pairs itself in the embedded mode (PGlite, runs in-process). */
describe('watched pairs on the embedded server', () => {
  let server: TestServer;
  const events: BusEvent[] = [];
  const logLines: string[] = [];
  const request = async (method: Method, url: string, payload?: unknown) => {
    const response = await server.runtime.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { cookie: server.cookie },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return { status: response.statusCode, body: response.body ? response.json() : null };
  };
  const runsOf = async (pairId: string): Promise<Run[]> =>
    ((await request('GET', `/pairs/${pairId}/runs`)).body.items as Run[]).sort((a, b) =>
      a.queuedAt.localeCompare(b.queuedAt),
    );
  const isIdle = async (pairId: string) =>
    (await runsOf(pairId)).every((run) => ['completed', 'failed', 'cancelled'].includes(run.status));

  /** A watched pair whose first (full) run has ended. */
  async function watchedPair(
    name: string,
    debounceMs = DEBOUNCE_MS,
  ): Promise<{ pair: Pair; source: string; destination: string }> {
    const folders = await server.folders(name);
    const pair = await server.createPair({
      name,
      source: { type: 'local', path: folders.source },
      destination: { type: 'local', path: folders.destination },
      watch: { enabled: true, debounceMs },
    });
    await vi.waitFor(async () => {
      const runs = await runsOf(pair.id);
      expect(runs.map((run) => [run.trigger, run.status])).toEqual([['watch', 'completed']]);
    }, WAIT);
    return { pair, ...folders };
  }

  /**
   * Once the pair's runs have ended, no other starts within a few debounce periods (what
   * the engine wrote starts none). Returns the runs.
   */
  async function expectNoNewRun(pairId: string, debounceMs = DEBOUNCE_MS): Promise<Run[]> {
    await vi.waitFor(async () => expect(await isIdle(pairId)).toBe(true), WAIT);
    const runs = await runsOf(pairId);
    await new Promise((resolve) => setTimeout(resolve, debounceMs * 6));
    expect(await runsOf(pairId)).toHaveLength(runs.length);
    return runs;
  }

  beforeAll(async () => {
    server = await startTestServer({
      driver: 'pglite',
      watchLeaseMs: 3_000,
      openStorage: async (location) => holdingWrites(await openStorage(location)),
      // Folders named `no-watches` behave as if the inotify watch limit were reached.
      localWatcher: async (root, sink) => {
        if (root.includes('no-watches')) throw new Error('inotify_add_watch failed: No space left on device');
        return parcelWatcher(root, sink);
      },
      log: { write: (line) => logLines.push(line) },
    });
    server.runtime.bus.subscribe((event) => events.push(event));
  });
  afterAll(async () => {
    held = null;
    await server?.close();
  });

  it('carries creates, edits, renames and deletes of either side to the other, and its own writes start no run', async () => {
    const { pair, source, destination } = await watchedPair('both-ways');
    const status = (await request('GET', `/pairs/${pair.id}/status`)).body as PairSyncStatus;
    expect(status.watch).toMatchObject({
      isWatching: true,
      watchedBy: 'server',
      modes: { source: 'notify', destination: 'notify' },
      fallbackReason: null,
    });

    await writeFile(join(source, 'a.txt'), 'alpha');
    await vi.waitFor(async () => expect(await readOrNull(join(destination, 'a.txt'))).toBe('alpha'), WAIT);
    expect(await expectNoNewRun(pair.id)).toHaveLength(2);

    await mkdir(join(destination, 'docs'));
    await writeFile(join(destination, 'docs', 'b.txt'), 'bravo');
    await vi.waitFor(async () => expect(await readOrNull(join(source, 'docs', 'b.txt'))).toBe('bravo'), WAIT);

    await writeFile(join(source, 'a.txt'), 'alpha, edited');
    await vi.waitFor(
      async () => expect(await readOrNull(join(destination, 'a.txt'))).toBe('alpha, edited'),
      WAIT,
    );

    await rename(join(destination, 'docs', 'b.txt'), join(destination, 'docs', 'c.txt'));
    await vi.waitFor(async () => {
      expect(await readOrNull(join(source, 'docs', 'c.txt'))).toBe('bravo');
      expect(await readOrNull(join(source, 'docs', 'b.txt'))).toBeNull();
    }, WAIT);

    await rm(join(source, 'a.txt'));
    await vi.waitFor(async () => expect(await readOrNull(join(destination, 'a.txt'))).toBeNull(), WAIT);
    const runs = await expectNoNewRun(pair.id);
    expect(runs.every((run) => run.trigger === 'watch' && run.status === 'completed')).toBe(true);
    expect(await tree(destination)).toEqual(await tree(source));

    // The dashboard heard of the changes and of the runs that caught up with them.
    const ofPair = events.filter((event) => 'pairId' in event && event.pairId === pair.id);
    const changes = ofPair.filter(
      (event): event is WsEventOf<'watch.changes'> => event.type === 'watch.changes',
    );
    expect(changes.some((event) => event.side === 'source' && event.paths.includes('a.txt'))).toBe(true);
    expect(changes.some((event) => event.side === 'destination' && event.paths.includes('docs/c.txt'))).toBe(
      true,
    );
    const started = ofPair.filter(
      (event): event is WsEventOf<'watch.run_started'> => event.type === 'watch.run_started',
    );
    expect(started[0]).toMatchObject({ kind: 'full', reason: 'start' });
    expect(started.filter((event) => event.kind === 'incremental').length).toBeGreaterThanOrEqual(5);
    expect(new Set(started.map((event) => event.runId))).toEqual(new Set(runs.map((run) => run.id)));
    // The last word on how far behind the pair is: nothing waits (its own writes let go).
    const lastWatch = ofPair.filter((event) => event.type.startsWith('watch.')).at(-1) as
      | WsEventOf<'watch.state'>
      | undefined;
    expect(lastWatch?.watch.pendingChanges).toBe(0);
    const after = (await request('GET', `/pairs/${pair.id}/status`)).body as PairSyncStatus;
    expect(after.watch?.lastChangeAt).not.toBeNull();
    expect(after.watch?.lastRunAt).not.toBeNull();
    expect(after.watch?.pendingChanges).toBe(0);
  });

  it('syncs a burst of 2 000 files in at most 3 runs, the trees equal', async () => {
    // The default debounce (1 s), as a pair gets it.
    const { pair, source, destination } = await watchedPair('burst', 1_000);
    for (let folder = 0; folder < 20; folder++) {
      await mkdir(join(source, `d${folder}`));
      await Promise.all(
        Array.from({ length: 100 }, (_, index) =>
          writeFile(join(source, `d${folder}`, `f${index}.txt`), `file ${folder}/${index}`),
        ),
      );
    }
    await vi.waitFor(async () => expect(Object.keys(await tree(destination)).length).toBe(2_000), {
      timeout: 90_000,
      interval: 200,
    });
    const runs = await expectNoNewRun(pair.id, 1_000);
    // The first run is the watch's start; the burst took at most 3.
    expect(runs.length - 1).toBeGreaterThanOrEqual(1);
    expect(runs.length - 1).toBeLessThanOrEqual(3);
    expect(await tree(destination)).toEqual(await tree(source));
  }, 120_000);

  it('picks up a change made during a run in the next run, never two at once', async () => {
    const { pair, source, destination } = await watchedPair('during');
    let release = () => {};
    held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started = server.nextEvent(
      (event) => event.type === 'watch.run_started' && event.pairId === pair.id,
      20_000,
    ) as Promise<WsEventOf<'watch.run_started'>>;
    await writeFile(join(source, 'first.txt'), 'first');
    const first = await started;
    expect(first).toMatchObject({ kind: 'incremental' });
    // The run is active, its copy held: a change now is not part of it.
    const seen = server.nextEvent(
      (event) =>
        event.type === 'watch.changes' && event.pairId === pair.id && event.paths.includes('late.txt'),
      20_000,
    );
    await writeFile(join(source, 'late.txt'), 'late');
    await seen;
    expect((await runsOf(pair.id)).filter((run) => run.status !== 'completed').map((run) => run.id)).toEqual([
      first.runId,
    ]);
    held = null;
    release();
    await vi.waitFor(async () => expect(await readOrNull(join(destination, 'late.txt'))).toBe('late'), WAIT);
    expect(await readOrNull(join(destination, 'first.txt'))).toBe('first');
    const runs = await expectNoNewRun(pair.id);
    // The start, the held run, and the follow-up that brought late.txt.
    expect(runs).toHaveLength(3);
    const firstActions = (await request('GET', `/runs/${first.runId}/actions`)).body.items as {
      path: string;
    }[];
    expect(firstActions.map((action) => action.path)).toEqual(['first.txt']);
    const followUp = (await request('GET', `/runs/${runs[2]!.id}/actions`)).body.items as { path: string }[];
    expect(followUp.map((action) => action.path)).toEqual(['late.txt']);
    // One run at a time: each started after the one before ended.
    for (let index = 1; index < runs.length; index++) {
      expect(runs[index]!.startedAt! >= runs[index - 1]!.finishedAt!).toBe(true);
    }
  });

  it('stops watching a pair whose watch is turned off', async () => {
    const { pair, source, destination } = await watchedPair('turned-off');
    const stopped = server.nextEvent(
      (event) => event.type === 'watch.state' && event.pairId === pair.id && !event.watch.isWatching,
    );
    const patched = await request('PATCH', `/pairs/${pair.id}`, { watch: { enabled: false } });
    expect(patched.status).toBe(200);
    await stopped;
    expect(server.runtime.watchService?.watching()).not.toContain(pair.id);
    expect(((await request('GET', `/pairs/${pair.id}/status`)).body as PairSyncStatus).watch).toBeNull();
    await writeFile(join(source, 'unwatched.txt'), 'nobody looks');
    expect(await expectNoNewRun(pair.id)).toHaveLength(1);
    expect(await readOrNull(join(destination, 'unwatched.txt'))).toBeNull();

    // Turned on again, it starts with a full run, which brings what changed meanwhile.
    await request('PATCH', `/pairs/${pair.id}`, { watch: { enabled: true } });
    await vi.waitFor(
      async () => expect(await readOrNull(join(destination, 'unwatched.txt'))).toBe('nobody looks'),
      WAIT,
    );
  });

  it('falls back to a full run and polling when the watch limit is reached, and says so', async () => {
    const folders = await server.folders('fallback');
    const destination = join(server.root, 'fallback', 'no-watches');
    await mkdir(destination);
    await writeFile(join(destination, 'there.txt'), 'there');
    const pair = await server.createPair({
      name: 'fallback',
      source: { type: 'local', path: folders.source },
      destination: { type: 'local', path: destination },
      watch: { enabled: true, debounceMs: DEBOUNCE_MS, pollSeconds: 5 },
    });
    await vi.waitFor(
      async () => expect(await readOrNull(join(folders.source, 'there.txt'))).toBe('there'),
      WAIT,
    );
    const status = (await request('GET', `/pairs/${pair.id}/status`)).body as PairSyncStatus;
    expect(status.watch?.modes).toEqual({ source: 'notify', destination: 'fallback-poll' });
    expect(status.watch?.fallbackReason).toMatch(
      /No space left on device.*max_user_watches.*polled every 5 s/,
    );
    // One full run, for the fallback (it is the start's run too).
    const started = events.filter((event) => event.type === 'watch.run_started' && event.pairId === pair.id);
    expect(started).toEqual([expect.objectContaining({ kind: 'full', reason: 'fallback' })]);
    expect(logLines.some((line) => line.includes(pair.id) && line.includes('max_user_watches'))).toBe(true);
    // The polled side's changes still arrive, with the next listing.
    await vi.waitFor(async () => expect(await isIdle(pair.id)).toBe(true), WAIT);
    await writeFile(join(destination, 'polled.txt'), 'polled');
    await vi.waitFor(
      async () => expect(await readOrNull(join(folders.source, 'polled.txt'))).toBe('polled'),
      WAIT,
    );
  });
});
