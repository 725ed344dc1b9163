import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Entry, MemoryStorage, type StateChange } from '@syncengine/engine';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PairWatcher, type WatchEvent, type WatchRunRequest, type WatchRunResult } from './pair-watcher.js';
import type { ChangeSink, LocalWatcherFactory } from './sources.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function folders(): Promise<{ src: string; dst: string }> {
  const root = await mkdtemp(join(tmpdir(), 'syncengine-watch-'));
  roots.push(root);
  const src = join(root, 'src');
  const dst = join(root, 'dst');
  await mkdir(src);
  await mkdir(dst);
  return { src, dst };
}

/** A local watcher whose notifications the test sends itself, per root. */
function fakeNotifications() {
  const sinks = new Map<string, ChangeSink>();
  const factory: LocalWatcherFactory = async (root, sink) => {
    sinks.set(root, sink);
    return { stop: async () => void sinks.delete(root) };
  };
  return { factory, sinks };
}

/** A runner that records its requests and how many ran at once; `hold` keeps a run going. */
function recordingRunner() {
  const requests: WatchRunRequest[] = [];
  let active = 0;
  let maxActive = 0;
  let release: (() => void) | null = null;
  let hold = false;
  let result: WatchRunResult | undefined;
  const run = async (request: WatchRunRequest): Promise<WatchRunResult | undefined> => {
    active++;
    maxActive = Math.max(maxActive, active);
    requests.push(request);
    if (hold) await new Promise<void>((resolve) => (release = resolve));
    active--;
    const out = result;
    result = undefined;
    return out;
  };
  return {
    run,
    requests,
    get maxActive() {
      return maxActive;
    },
    holdNext() {
      hold = true;
    },
    release() {
      hold = false;
      release?.();
    },
    returnNext(next: WatchRunResult) {
      result = next;
    },
  };
}

const incremental = (requests: WatchRunRequest[]) =>
  requests.filter((request) => request.kind === 'incremental').map((request) => request.paths);

describe('PairWatcher', () => {
  it('starts with a full run, then coalesces a burst into one incremental run of the covered paths', async () => {
    const { src, dst } = await folders();
    const { factory, sinks } = fakeNotifications();
    const runner = recordingRunner();
    const events: WatchEvent[] = [];
    const watcher = new PairWatcher({
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      settings: { debounceMs: 50 },
      run: runner.run,
      localWatcher: factory,
      onEvent: (event) => events.push(event),
    });
    await watcher.start();
    expect(watcher.status.modes).toEqual({ source: 'notify', destination: 'notify' });
    await vi.waitFor(() => expect(runner.requests).toEqual([{ kind: 'full', reason: 'start' }]));

    sinks.get(src)!.changes(['pkg', 'pkg/a']);
    sinks.get(src)!.changes(['pkg/b/c', 'old.txt', 'new.txt']);
    sinks.get(dst)!.changes(['notes.txt']);
    expect(watcher.status.pending).toBe(6);
    await vi.waitFor(() => expect(runner.requests).toHaveLength(2));
    expect(runner.requests[1]).toEqual({
      kind: 'incremental',
      paths: ['new.txt', 'notes.txt', 'old.txt', 'pkg'],
      changes: 6,
    });
    expect(events.filter((event) => event.type === 'changes')).toHaveLength(3);
    expect(events.filter((event) => event.type === 'run_end')).toHaveLength(2);
    await watcher.stop();
  });

  it('counts and runs nothing for ignored paths (patterns and .syncignore), but a .syncignore change runs', async () => {
    const { src, dst } = await folders();
    await writeFile(join(src, '.syncignore'), '*.log\n');
    await mkdir(join(src, 'app'));
    await writeFile(join(src, 'app', '.syncignore'), 'cache/\n');
    const { factory, sinks } = fakeNotifications();
    const runner = recordingRunner();
    const events: WatchEvent[] = [];
    const watcher = new PairWatcher({
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      settings: { debounceMs: 50 },
      ignorePatterns: ['node_modules/', '.git'],
      run: runner.run,
      localWatcher: factory,
      initialRun: false,
      onEvent: (event) => events.push(event),
    });
    await watcher.start();
    sinks.get(src)!.changes(['node_modules/left-pad/index.js', '.git/index', '.git', 'debug.log']);
    sinks.get(dst)!.changes(['app/cache/x.bin', 'node_modules/a/b.js', 'app/sub/trace.log']);
    expect(watcher.status.pending).toBe(0);
    expect(watcher.status.lastChangeAt).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runner.requests).toEqual([]);
    expect(events.filter((event) => event.type === 'changes')).toEqual([]);

    // What is synced still runs, and a .syncignore change counts (the engine makes it a full run).
    sinks.get(src)!.changes(['node_modules/x.js', 'app/main.ts']);
    sinks.get(dst)!.changes(['app/.syncignore']);
    expect(watcher.status.pending).toBe(2);
    await vi.waitFor(() =>
      expect(incremental(runner.requests)).toEqual([['app/.syncignore', 'app/main.ts']]),
    );
    // The new rules apply from then on: cache/ is synced again, *.tmp is not.
    await writeFile(join(src, 'app', '.syncignore'), '*.tmp\n');
    sinks.get(src)!.changes(['app/.syncignore']);
    await vi.waitFor(() => expect(runner.requests).toHaveLength(2));
    sinks.get(src)!.changes(['app/cache/y.bin', 'app/z.tmp']);
    await vi.waitFor(() => expect(incremental(runner.requests)).toHaveLength(3));
    expect(incremental(runner.requests)[2]).toEqual(['app/cache/y.bin']);
    await watcher.stop();
  });

  it('runs what arrives during a run in a follow-up run, never two at once', async () => {
    const { src, dst } = await folders();
    const { factory, sinks } = fakeNotifications();
    const runner = recordingRunner();
    const watcher = new PairWatcher({
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      settings: { debounceMs: 50 },
      run: runner.run,
      localWatcher: factory,
      initialRun: false,
    });
    await watcher.start();
    runner.holdNext();
    sinks.get(src)!.changes(['a']);
    await vi.waitFor(() => expect(watcher.status.running).not.toBeNull());
    sinks.get(src)!.changes(['b']);
    sinks.get(dst)!.changes(['c']);
    // Due long before the run ends: still waits for it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(runner.requests).toHaveLength(1);
    watcher.requestFullRun('rescan');
    runner.release();
    await vi.waitFor(() => expect(runner.requests).toHaveLength(2));
    // The full run asked for meanwhile covers the changes that waited.
    expect(runner.requests[1]).toEqual({ kind: 'full', reason: 'rescan' });
    expect(watcher.status.pending).toBe(0);
    sinks.get(src)!.changes(['d']);
    await vi.waitFor(() => expect(incremental(runner.requests)).toEqual([['a'], ['d']]));
    expect(runner.maxActive).toBe(1);
    await watcher.stop();
  });

  it("starts no run for notifications of a run's own writes, and one for a change made after them", async () => {
    const { src, dst } = await folders();
    const { factory, sinks } = fakeNotifications();
    const runner = recordingRunner();
    const source = new LocalStorage(src);
    const destination = new LocalStorage(dst);
    const watcher = new PairWatcher({
      source,
      destination,
      settings: { debounceMs: 50 },
      run: runner.run,
      localWatcher: factory,
      initialRun: false,
    });
    await watcher.start();
    // A run copies a.txt to the destination and deletes gone.txt there, recording both.
    await writeFile(join(src, 'a.txt'), 'one');
    await writeFile(join(dst, 'a.txt'), 'one');
    const sourceEntry = (await source.stat('a.txt'))!;
    const written = (await destination.stat('a.txt'))!;
    const recorded: StateChange[] = [
      { path: 'a.txt', source: sourceEntry, destination: written },
      { path: 'gone.txt', source: null, destination: null },
    ];
    runner.returnNext({ recorded });
    sinks.get(src)!.changes(['a.txt']);
    await vi.waitFor(() => expect(runner.requests).toHaveLength(1));
    // What the run did comes back as notifications of the destination: nothing to run.
    sinks.get(dst)!.changes(['a.txt', 'gone.txt', '.a.txt.syncengine-tmp-1']);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(runner.requests).toHaveLength(1);
    expect(watcher.status.pending).toBe(0);

    // Someone edits the file the run wrote: that is a change.
    await writeFile(join(dst, 'a.txt'), 'two, longer');
    sinks.get(dst)!.changes(['a.txt']);
    await vi.waitFor(() => expect(incremental(runner.requests)).toEqual([['a.txt'], ['a.txt']]));
    await watcher.stop();
  });

  it('starts no run and tells no change for changed paths whose side holds what the last-known state records', async () => {
    const { src, dst } = await folders();
    const { factory, sinks } = fakeNotifications();
    const runner = recordingRunner();
    const destination = new LocalStorage(dst);
    const events: WatchEvent[] = [];
    // The last-known state, as a run in another process left it.
    const known = new Map<string, Entry>();
    const watcher = new PairWatcher({
      source: new LocalStorage(src),
      destination,
      settings: { debounceMs: 50 },
      run: runner.run,
      localWatcher: factory,
      initialRun: false,
      onEvent: (event) => events.push(event),
      lastKnown: async (side, paths) =>
        new Map(
          side === 'destination'
            ? paths.flatMap((path) => (known.has(path) ? [[path, known.get(path)!]] : []))
            : [],
        ),
    });
    await watcher.start();
    await writeFile(join(dst, 'synced.txt'), 'synced');
    known.set('synced.txt', (await destination.stat('synced.txt'))!);
    await writeFile(join(dst, 'edited.txt'), 'old');
    known.set('edited.txt', (await destination.stat('edited.txt'))!);
    await writeFile(join(dst, 'edited.txt'), 'edited, longer');
    await writeFile(join(dst, 'new.txt'), 'new');
    // synced.txt and gone.txt (deleted, no record) are as recorded; the others changed.
    sinks.get(dst)!.changes(['synced.txt', 'gone.txt', 'edited.txt', 'new.txt']);
    await vi.waitFor(() => expect(incremental(runner.requests)).toEqual([['edited.txt', 'new.txt']]));
    // Only the real changes are told, before their run starts.
    const told = () => events.filter((event) => event.type === 'changes');
    expect(told()).toEqual([
      expect.objectContaining({ side: 'destination', paths: ['edited.txt', 'new.txt'] }),
    ]);
    expect(events.findIndex((event) => event.type === 'changes')).toBeLessThan(
      events.findIndex((event) => event.type === 'run_start'),
    );
    sinks.get(dst)!.changes(['synced.txt']);
    await vi.waitFor(() =>
      expect(events).toContainEqual(expect.objectContaining({ type: 'dropped', changes: 1, pending: 0 })),
    );
    expect(told()).toHaveLength(1);
    expect(runner.requests).toHaveLength(1);
    expect(watcher.status.pending).toBe(0);
    await watcher.stop();
  });

  it('falls back to a full run and polling when notifications cannot be set up, and says so', async () => {
    const { src, dst } = await folders();
    const runner = recordingRunner();
    const events: WatchEvent[] = [];
    const failing: LocalWatcherFactory = async (root) => {
      if (root === dst) throw new Error('inotify_add_watch failed: No space left on device');
      return { stop: async () => undefined };
    };
    const watcher = new PairWatcher({
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      settings: { debounceMs: 50, pollSeconds: 5 },
      run: runner.run,
      localWatcher: failing,
      onEvent: (event) => events.push(event),
    });
    await watcher.start();
    expect(watcher.status.modes).toEqual({ source: 'notify', destination: 'fallback-poll' });
    const fallback = events.find((event) => event.type === 'fallback');
    expect(fallback).toMatchObject({ side: 'destination' });
    expect(fallback?.type === 'fallback' && fallback.reason).toMatch(/max_user_watches.*polled every 5 s/);
    expect(watcher.status.fallbacks.destination).toMatch(/No space left on device/);
    await vi.waitFor(() => expect(runner.requests[0]).toEqual({ kind: 'full', reason: 'fallback' }));
    // The poll's first listing is its baseline; a file made after it is found by a later one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writeFile(join(dst, 'late.txt'), 'x');
    await vi.waitFor(() => expect(incremental(runner.requests)).toContainEqual(['late.txt']), {
      timeout: 20_000,
    });
    await watcher.stop();
  }, 30_000);

  it('falls back when notifications fail while watching (events overflowed)', async () => {
    const { src, dst } = await folders();
    const { factory, sinks } = fakeNotifications();
    const runner = recordingRunner();
    const watcher = new PairWatcher({
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      settings: { debounceMs: 50, pollSeconds: 60 },
      run: runner.run,
      localWatcher: factory,
      initialRun: false,
    });
    await watcher.start();
    sinks.get(src)!.failed('change notifications failed (Events were dropped by the kernel)');
    await vi.waitFor(() => expect(runner.requests).toEqual([{ kind: 'full', reason: 'fallback' }]));
    expect(watcher.status.modes.source).toBe('fallback-poll');
    expect(sinks.has(src)).toBe(false);
    await watcher.stop();
  });

  it('polls a remote side: a listing compared with the last one, nothing read', async () => {
    const { src } = await folders();
    const { factory } = fakeNotifications();
    const runner = recordingRunner();
    const remote = new MemoryStorage();
    await remote.write('kept.txt', Readable.from([Buffer.from('k')]));
    await remote.write('dir/old.txt', Readable.from([Buffer.from('o')]));
    const read = vi.spyOn(remote, 'read');
    const watcher = new PairWatcher({
      source: new LocalStorage(src),
      destination: remote,
      settings: { debounceMs: 50, pollSeconds: 5 },
      run: runner.run,
      localWatcher: factory,
      initialRun: false,
    });
    await watcher.start();
    expect(watcher.status.modes.destination).toBe('poll');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await remote.rename('dir/old.txt', 'dir/new.txt');
    await remote.write('kept.txt', Readable.from([Buffer.from('changed')]));
    await vi.waitFor(
      () => expect(incremental(runner.requests)).toEqual([['dir/new.txt', 'dir/old.txt', 'kept.txt']]),
      {
        timeout: 20_000,
      },
    );
    expect(read).not.toHaveBeenCalled();
    await watcher.stop();
  }, 30_000);

  it('stop() tells the run under way to stop, awaits it and starts no other', async () => {
    const { src, dst } = await folders();
    const { factory, sinks } = fakeNotifications();
    let signalSeen: AbortSignal | null = null;
    let runs = 0;
    const watcher = new PairWatcher({
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      settings: { debounceMs: 50 },
      localWatcher: factory,
      run: async (_request, signal) => {
        runs++;
        signalSeen = signal;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        await new Promise((resolve) => setTimeout(resolve, 50));
        return undefined;
      },
    });
    await watcher.start();
    await vi.waitFor(() => expect(runs).toBe(1));
    sinks.get(src)?.changes(['x']);
    await watcher.stop();
    expect(signalSeen!.aborted).toBe(true);
    expect(watcher.status.running).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toBe(1);
  });
});

describe('PairWatcher with the operating system notifications', () => {
  it("turns creates, edits, renames and deletes into runs, and ignores the engine's folders", async () => {
    const { src, dst } = await folders();
    const runner = recordingRunner();
    const watcher = new PairWatcher({
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      settings: { debounceMs: 100 },
      run: runner.run,
      initialRun: false,
    });
    await watcher.start();
    expect(watcher.status.modes).toEqual({ source: 'notify', destination: 'notify' });
    const seen = () => incremental(runner.requests).flat();

    await writeFile(join(src, 'a.txt'), 'a');
    await vi.waitFor(() => expect(seen()).toContain('a.txt'), { timeout: 20_000 });
    await mkdir(join(dst, 'dir/sub'), { recursive: true });
    await writeFile(join(dst, 'dir/sub/b.txt'), 'b');
    await vi.waitFor(() => expect(seen()).toContain('dir'), { timeout: 20_000 });
    await rename(join(src, 'a.txt'), join(src, 'c.txt'));
    await vi.waitFor(() => expect(seen()).toContain('c.txt'), { timeout: 20_000 });
    expect(incremental(runner.requests).at(-1)).toEqual(['a.txt', 'c.txt']);
    await rm(join(dst, 'dir'), { recursive: true });
    await vi.waitFor(() => expect(incremental(runner.requests).at(-1)).toEqual(['dir']), { timeout: 20_000 });

    const before = runner.requests.length;
    await mkdir(join(src, '.syncengine/versions/x'), { recursive: true });
    await writeFile(join(src, '.syncengine/versions/x/a.txt'), 'old');
    await writeFile(join(src, '.c.txt.syncengine-tmp-abc'), 'partial');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(runner.requests).toHaveLength(before);
    expect((await stat(join(src, '.syncengine'))).isDirectory()).toBe(true);
    await watcher.stop();
  });
});
