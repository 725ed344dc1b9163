import { appendFile, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { withoutFingerprint } from '../../test/testing/state-stores.js';
import type { SyncOptions, SyncResult } from '../api.js';
import type { SyncConfig } from '../config.js';
import type { SyncEvent } from '../events.js';
import type { ConflictResolution, Entry } from '../model.js';
import { FileStateStore } from '../state/file-state-store.js';
import type { StateStore } from '../state-store.js';
import type { ListingDigest, Storage } from '../storage.js';
import { addItemDigest, formatDigest } from '../tree-digest.js';
import { previewSync, sync } from './sync.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/** A file state store that counts how often the (large) trees are read. */
class CountingStore implements StateStore {
  loads = 0;
  constructor(readonly inner: FileStateStore) {}
  load() {
    this.loads++;
    return this.inner.load();
  }
  save(...args: Parameters<StateStore['save']>) {
    return this.inner.save(...args);
  }
  update(...args: Parameters<StateStore['update']>) {
    return this.inner.update(...args);
  }
  keepsUpdates() {
    return this.inner.keepsUpdates();
  }
  loadMetadata() {
    return this.inner.loadMetadata();
  }
  saveMetadata(...args: Parameters<StateStore['saveMetadata']>) {
    return this.inner.saveMetadata(...args);
  }
}

interface Pair {
  root: string;
  src: string;
  dst: string;
  source: LocalStorage;
  destination: LocalStorage;
  state: CountingStore;
  run(
    config?: Partial<SyncConfig>,
    extra?: Partial<SyncOptions>,
  ): Promise<SyncResult & { events: SyncEvent[] }>;
}

async function makePair(): Promise<Pair> {
  const root = await mkdtemp(join(tmpdir(), 'syncengine-fingerprint-'));
  roots.push(root);
  const src = join(root, 'src');
  const dst = join(root, 'dst');
  await mkdir(src);
  await mkdir(dst);
  const source = new LocalStorage(src);
  const destination = new LocalStorage(dst);
  const state = new CountingStore(new FileStateStore(join(root, 'state'), { fsync: false }));
  return {
    root,
    src,
    dst,
    source,
    destination,
    state,
    async run(config = {}, extra = {}) {
      const events: SyncEvent[] = [];
      const result = await sync({
        source,
        destination,
        state,
        config,
        ...extra,
        onEvent: (event) => {
          events.push(event);
          extra.onEvent?.(event);
        },
      });
      return { ...result, events };
    },
  };
}

let tick = Date.UTC(2026, 0, 1);
/** Writes a file with an mtime later than any written before. */
async function put(root: string, path: string, content: string): Promise<void> {
  const file = join(root, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  tick += 10_000;
  await utimes(file, tick / 1000, tick / 1000);
}

/** Every file below `root` (outside the engine's folder) with its content. */
async function files(storage: Storage, root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of storage.list({ include: (path) => !path.startsWith('.syncengine') })) {
    if (!entry.isDir) out[entry.path] = await readFile(join(root, entry.path), 'utf8');
  }
  return out;
}

describe('a run over trees left in sync', () => {
  it('reads no state and lists nothing when neither tree changed since', async () => {
    const pair = await makePair();
    await put(pair.src, 'a.txt', 'alpha');
    await put(pair.src, 'docs/b.txt', 'beta');
    await put(pair.dst, 'docs/c.txt', 'gamma');
    const first = await pair.run();
    expect(first.status).toBe('completed');
    expect(pair.state.loads).toBe(1);
    expect((await pair.state.loadMetadata())?.treeFingerprint).toBeDefined();

    const second = await pair.run();
    expect(second.status).toBe('completed');
    expect(second.plan.actions).toEqual([]);
    expect(pair.state.loads).toBe(1);
    // The events still tell the trees' sizes: three files and one folder on each side.
    const scanned = second.events.filter((event) => event.type === 'scan_complete');
    expect(scanned).toEqual([
      { type: 'scan_complete', side: 'source', files: 4 },
      { type: 'scan_complete', side: 'destination', files: 4 },
    ]);
    expect(await files(pair.destination, pair.dst)).toEqual(await files(pair.source, pair.src));
  });

  it('holds folders named like object properties', async () => {
    const pair = await makePair();
    await put(pair.src, '__proto__/a.txt', 'a');
    await put(pair.src, 'constructor/b.txt', 'b');
    await put(pair.src, 'toString/hasOwnProperty/c.txt', 'c');
    await pair.run();
    expect((await pair.run()).plan.actions).toEqual([]);
    expect(pair.state.loads).toBe(1);
    await put(pair.src, '__proto__/a.txt', 'a2');
    const changed = await pair.run();
    expect(changed.plan.actions.map((action) => `${action.type} ${action.path}`)).toEqual([
      'UPLOAD_UPDATE __proto__/a.txt',
    ]);
    expect(await readFile(join(pair.dst, '__proto__', 'a.txt'), 'utf8')).toBe('a2');
  });

  it('finds an edit, a new file and a deletion, and syncs them', async () => {
    const pair = await makePair();
    await put(pair.src, 'keep.txt', 'keep');
    await put(pair.src, 'edit.txt', 'one');
    await put(pair.src, 'gone.txt', 'gone');
    await put(pair.src, 'deep/more.txt', 'more');
    await pair.run();
    await pair.run();
    expect(pair.state.loads).toBe(1);

    // Same size, later mtime; a new file; a deletion.
    await put(pair.src, 'edit.txt', 'two');
    await put(pair.dst, 'new.txt', 'new');
    await rm(join(pair.src, 'gone.txt'));

    const result = await pair.run();
    expect(pair.state.loads).toBe(2);
    expect(result.status).toBe('completed');
    const expected = { 'keep.txt': 'keep', 'edit.txt': 'two', 'new.txt': 'new', 'deep/more.txt': 'more' };
    expect(await files(pair.source, pair.src)).toEqual(expected);
    expect(await files(pair.destination, pair.dst)).toEqual(expected);

    // Left in sync again: the next run skips the listings once more.
    expect((await pair.run()).plan.actions).toEqual([]);
    expect(pair.state.loads).toBe(2);
  });

  it('catches a file changed while a run was going, after its listing', async () => {
    const pair = await makePair();
    await put(pair.src, 'a.txt', 'alpha');
    await put(pair.src, 'b.txt', 'beta');
    await pair.run();
    await put(pair.src, 'a.txt', 'alpha 2');
    // Once the plan is made (a.txt to copy), b.txt changes: this run does not see it.
    const during = await pair.run(
      {},
      {
        onEvent: (event) => {
          if (event.type === 'sync_start') {
            appendNow(join(pair.src, 'b.txt'), ' and more');
          }
        },
      },
    );
    expect(during.plan.actions.map((action) => action.path)).toEqual(['a.txt']);
    expect(await readFile(join(pair.dst, 'b.txt'), 'utf8')).toBe('beta');

    const next = await pair.run();
    expect(next.plan.actions.map((action) => `${action.type} ${action.path}`)).toEqual([
      'UPLOAD_UPDATE b.txt',
    ]);
    expect(await readFile(join(pair.dst, 'b.txt'), 'utf8')).toBe('beta and more');
  });

  it('walks past ignored folders, and lists again for a new file in a folder it reads', async () => {
    const pair = await makePair();
    const config = { ignorePatterns: ['build/', '*.log'] };
    await put(pair.src, 'a.txt', 'alpha');
    await put(pair.src, 'build/out.bin', 'binary');
    await pair.run(config);
    await pair.run(config);
    expect(pair.state.loads).toBe(1);

    await put(pair.src, 'build/more/deeper.bin', 'not read');
    expect((await pair.run(config)).plan.actions).toEqual([]);
    expect(pair.state.loads).toBe(1);

    // An ignored file in a folder the listing reads: a full run, which has nothing to do.
    await put(pair.src, 'debug.log', 'noise');
    expect((await pair.run(config)).plan.actions).toEqual([]);
    expect(pair.state.loads).toBe(2);
    expect((await pair.run(config)).plan.actions).toEqual([]);
    expect(pair.state.loads).toBe(2);

    // Other settings: the trees are listed under them.
    const widened = await pair.run({ ignorePatterns: ['build/'] });
    expect(pair.state.loads).toBe(3);
    expect(widened.plan.actions.map((action) => `${action.type} ${action.path}`)).toEqual([
      'UPLOAD_NEW debug.log',
    ]);
  });

  it('keeps the fast path through folders made and removed', async () => {
    const pair = await makePair();
    await put(pair.src, 'old/one/a.txt', 'a');
    await put(pair.src, 'old/b.txt', 'b');
    await pair.run();
    await rm(join(pair.src, 'old'), { recursive: true });
    await put(pair.dst, 'new/deep/c.txt', 'c');
    await mkdir(join(pair.dst, 'empty'));
    // Every file of the source goes: the max-delete guard must let it.
    const result = await pair.run({ maxDeletePercent: 100 });
    expect(result.status).toBe('completed');
    expect(pair.state.loads).toBe(2);
    expect(await files(pair.source, pair.src)).toEqual({ 'new/deep/c.txt': 'c' });
    expect(await files(pair.destination, pair.dst)).toEqual({ 'new/deep/c.txt': 'c' });

    expect((await pair.run({ maxDeletePercent: 100 })).plan.actions).toEqual([]);
    expect(pair.state.loads).toBe(2);
  });

  it('tells the warnings of the listings again', async () => {
    const pair = await makePair();
    await put(pair.src, 'a.txt', 'alpha');
    await symlink(join(pair.src, 'a.txt'), join(pair.src, 'link.txt'));
    const first = await pair.run();
    const warned = first.warnings.filter((warning) => warning.includes('link.txt'));
    expect(warned).toHaveLength(1);
    const second = await pair.run();
    expect(pair.state.loads).toBe(1);
    expect(second.warnings).toEqual(warned);
    expect(second.events.filter((event) => event.type === 'warning')).toHaveLength(1);
  });

  it('records no fingerprint while conflicts are pending, nor after a failed action', async () => {
    const pair = await makePair();
    await put(pair.src, 'a.txt', 'alpha');
    await pair.run();
    await put(pair.src, 'a.txt', 'source side');
    await put(pair.dst, 'a.txt', 'destination side');
    const manual = await pair.run({ conflictResolution: 'MANUAL' });
    expect(manual.pendingConflicts).toHaveLength(1);
    expect((await pair.state.loadMetadata())?.treeFingerprint).toBeUndefined();
    await pair.run({ conflictResolution: 'MANUAL' });
    expect(pair.state.loads).toBe(3);

    // A copy that fails (a folder appears where the file goes): the run fails, and leaves
    // no fingerprint behind.
    const settled = await pair.run({ conflictResolution: 'SOURCE_WINS' });
    expect(settled.status).toBe('completed');
    expect((await pair.state.loadMetadata())?.treeFingerprint).toBeDefined();
    await put(pair.src, 'b.txt', 'beta');
    const failed = await pair.run(
      {},
      {
        onEvent: (event) => {
          if (event.type === 'sync_start') mkdirNow(join(pair.dst, 'b.txt'));
        },
      },
    );
    // Left for the next run (a warning): no fingerprint vouches for the trees either.
    expect(failed.status).toBe('completed');
    expect(failed.deferred.map((error) => error.path)).toEqual(['b.txt']);
    expect((await pair.state.loadMetadata())?.treeFingerprint).toBeUndefined();
    await rm(join(pair.dst, 'b.txt'), { recursive: true });
    await pair.run();
    expect(await readFile(join(pair.dst, 'b.txt'), 'utf8')).toBe('beta');
  });

  it('drops a recorded fingerprint before a run changes anything', async () => {
    const pair = await makePair();
    await put(pair.src, 'a.txt', 'alpha');
    await pair.run();
    expect((await pair.state.loadMetadata())?.treeFingerprint).toBeDefined();
    await put(pair.src, 'a.txt', 'alpha 2');
    let atStart: unknown = 'not seen';
    await pair.run(
      {},
      {
        onEvent: (event) => {
          if (event.type === 'plan_ready') {
            atStart = pair.state.inner.loadMetadata().then((metadata) => metadata?.treeFingerprint);
          }
        },
      },
    );
    expect(await atStart).toBeUndefined();
    // A dry run changes nothing, so it leaves the fingerprint where it finds one.
    const recorded = (await pair.state.loadMetadata())?.treeFingerprint;
    expect(recorded).toBeDefined();
    await put(pair.src, 'a.txt', 'alpha 3');
    const dry = await pair.run({ dryRun: true });
    expect(dry.plan.actions.map((action) => action.path)).toEqual(['a.txt']);
    expect((await pair.state.loadMetadata())?.treeFingerprint).toEqual(recorded);
  });
});

describe('folder digests', () => {
  it('are what the entries of each folder sum to, on the worker and on this thread alike', async () => {
    const pair = await makePair();
    await put(pair.src, 'a.txt', 'alpha');
    await put(pair.src, 'x/b.txt', 'beta');
    await put(pair.src, 'x/y/c.txt', 'gamma');
    await mkdir(join(pair.src, 'x', 'empty'));
    let digest: ListingDigest | undefined;
    const entries: Entry[] = [];
    for await (const chunk of pair.source.listChunks({ onDigest: (listed) => (digest = listed) })) {
      entries.push(...chunk);
    }
    const sums = new Map<string, number[]>();
    for (const folder of ['', 'x', 'x/y', 'x/empty']) sums.set(folder, [0, 0, 0]);
    for (const entry of entries) {
      const slash = entry.path.lastIndexOf('/');
      const folder = slash === -1 ? '' : entry.path.slice(0, slash);
      addItemDigest(
        sums.get(folder)!,
        entry.path,
        entry.isDir ? 2 : 1,
        entry.size,
        entry.mtime,
        entry.ctime ?? 0,
        entry.id!,
        1,
      );
    }
    expect(digest?.folders).toEqual(
      Object.fromEntries([...sums].map(([folder, sum]) => [folder, formatDigest(sum)])),
    );
    expect(await pair.source.isUnchangedSince(digest!)).toBe(true);
    await appendFile(join(pair.src, 'x', 'y', 'c.txt'), '!');
    expect(await pair.source.isUnchangedSince(digest!)).toBe(false);
  });

  it('leave out skipped folders, and stop when asked', async () => {
    const pair = await makePair();
    await put(pair.src, 'a.txt', 'alpha');
    await put(pair.src, 'skip/b.txt', 'beta');
    let digest: ListingDigest | undefined;
    for await (const _ of pair.source.listChunks({
      include: (path) => path !== 'skip',
      onDigest: (listed) => (digest = listed),
    })) {
      // listed
    }
    expect(digest?.skipped).toEqual(['skip']);
    await put(pair.src, 'skip/c.txt', 'not looked at');
    expect(await pair.source.isUnchangedSince(digest!)).toBe(true);
    const stopped = new AbortController();
    stopped.abort();
    expect(await pair.source.isUnchangedSince(digest!, { signal: stopped.signal }).catch(() => false)).toBe(
      false,
    );
  });
});

describe('runs that skip the listings under random edits (real folders)', () => {
  const names = ['a.txt', 'b.txt', 'd/c.txt', 'd/e/f.txt', 'g/h.txt'];
  type Op =
    | { kind: 'write'; side: 'src' | 'dst'; name: string; content: string }
    | { kind: 'append'; side: 'src' | 'dst'; name: string }
    | { kind: 'remove'; side: 'src' | 'dst'; name: string }
    | { kind: 'removeFolder'; side: 'src' | 'dst'; folder: string }
    | { kind: 'sync' }
    | { kind: 'syncWithEdit'; name: string };
  const side = fc.constantFrom<'src' | 'dst'>('src', 'dst');
  const name = fc.constantFrom(...names);
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('write' as const), side, name, content: fc.constantFrom('x', 'yy', 'zz') }),
    fc.record({ kind: fc.constant('append' as const), side, name }),
    fc.record({ kind: fc.constant('remove' as const), side, name }),
    fc.record({ kind: fc.constant('removeFolder' as const), side, folder: fc.constantFrom('d', 'd/e', 'g') }),
    fc.constant({ kind: 'sync' as const }),
    fc.constant({ kind: 'sync' as const }),
    fc.record({ kind: fc.constant('syncWithEdit' as const), name }),
  );

  const mode = fc.constantFrom<SyncConfig['mode']>('TWO_WAY', 'SOURCE_TO_DESTINATION', 'SOURCE_BACKUP');
  const comparison = fc.constantFrom<SyncConfig['comparisonMode']>(
    'HASH_THEN_MTIME',
    'SIZE_ONLY',
    'MTIME_ONLY',
  );

  const settle = fc.oneof(
    fc.constant<ConflictResolution[]>([]),
    fc.array(fc.constantFrom<ConflictResolution>('source', 'destination', 'keep-both', 'skip'), {
      minLength: 1,
      maxLength: 4,
    }),
  );

  it('skip only where a full listing would plan nothing', async () => {
    // Random deletions may take a side's every file (maxDeletePercent 100).
    let skipped = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 4, maxLength: 14 }),
        mode,
        comparison,
        settle,
        async (ops, mode, comparison, resolutions) => {
          const manual = resolutions.length > 0;
          const config: Partial<SyncConfig> = {
            maxDeletePercent: 100,
            mode,
            comparisonMode: comparison,
            conflictResolution: manual ? 'MANUAL' : 'NEWEST_WINS',
          };
          // Conflicts settled as the arbitrary says, in turn (keep both, skip, one side).
          let asked = 0;
          const onConflict = async () => resolutions[asked++ % resolutions.length]!;
          const pair = await makePair();
          const exists = async (path: string) =>
            readFile(path).then(
              () => true,
              () => false,
            );
          for (const step of [...ops, { kind: 'sync' as const }, { kind: 'sync' as const }]) {
            if (step.kind === 'write') await put(pair[step.side], step.name, step.content);
            else if (step.kind === 'append') {
              const file = join(pair[step.side], step.name);
              if (await exists(file)) await appendFile(file, '+');
            } else if (step.kind === 'remove') await rm(join(pair[step.side], step.name), { force: true });
            else if (step.kind === 'removeFolder')
              await rm(join(pair[step.side], step.folder), { recursive: true, force: true });
            else {
              const loads = pair.state.loads;
              const target = step.kind === 'syncWithEdit' ? join(pair.src, step.name) : null;
              await pair.run(config, {
                onConflict: manual ? onConflict : undefined,
                onEvent: (event) => {
                  if (event.type === 'sync_start' && target) appendNow(target, '~');
                },
              });
              // A run that skipped the listings: one that lists both trees must agree (unless
              // this run's own edit came after it looked, which the next run must catch).
              if (pair.state.loads === loads && !target) {
                skipped++;
                const full = await previewSync({
                  source: pair.source,
                  destination: pair.destination,
                  state: withoutFingerprint(pair.state.inner),
                  config,
                });
                expect(full.actions).toEqual([]);
              }
            }
          }
          // Two syncs in a row at the end: the trees agree (where the mode makes them).
          if (mode === 'TWO_WAY' && comparison === 'HASH_THEN_MTIME' && !resolutions.includes('skip')) {
            expect(await files(pair.destination, pair.dst)).toEqual(await files(pair.source, pair.src));
          }
          await rm(pair.root, { recursive: true, force: true });
        },
      ),
      { numRuns: 60 },
    );
    expect(skipped).toBeGreaterThan(20);
  }, 120_000);
});

/** Makes a folder synchronously (from an event sink, which cannot wait). */
function mkdirNow(path: string): void {
  process.getBuiltinModule('node:fs').mkdirSync(path);
}

/** Appends to a file, if it exists, synchronously (from an event sink, which cannot wait). */
function appendNow(file: string, text: string): void {
  const fs = process.getBuiltinModule('node:fs');
  if (fs.existsSync(file)) fs.appendFileSync(file, text);
}
