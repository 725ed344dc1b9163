import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConflictHandler, SyncResult } from '../api.js';
import { MemoryStorage } from '../backends/memory.js';
import {
  CONFLICT_STRATEGIES,
  type ConflictStrategy,
  type Side,
  SYNC_MODES,
  type SyncMode,
} from '../model.js';
import { VERSIONS_DIR } from '../paths.js';
import { FileStateStore } from '../state/file-state-store.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import type { StateStore } from '../state-store.js';
import type { Storage } from '../storage.js';
import { sync } from './sync.js';

/**
 * The type-change cells of SPEC §3, §4 and §6, carried out on in-memory storages and on real
 * folders: a path `x` recorded as a file (or a folder holding `x/f`) is replaced by the other
 * type on one side, while the other side leaves it unchanged, modifies it, deletes it or makes
 * the same type change, in every sync mode under every conflict strategy.
 */

interface Pair {
  source: Storage;
  destination: Storage;
  state: StateStore;
}

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

const backends: { name: string; make(): Promise<Pair> }[] = [
  {
    name: 'memory',
    async make() {
      return {
        source: new MemoryStorage({ description: 'memory source' }),
        destination: new MemoryStorage({ description: 'memory destination' }),
        state: new MemoryStateStore(),
      };
    },
  },
  {
    name: 'local folders',
    async make() {
      const root = await mkdtemp(join(tmpdir(), 'syncengine-types-'));
      roots.push(root);
      await mkdir(join(root, 'src'));
      await mkdir(join(root, 'dst'));
      return {
        source: new LocalStorage(join(root, 'src')),
        destination: new LocalStorage(join(root, 'dst')),
        state: new FileStateStore(join(root, 'state'), { fsync: false }),
      };
    },
  },
];

/**
 * File mtimes an hour and more ahead of the clock, each later than the one before: newer
 * than any folder's (a local folder's mtime is the time its entries last changed), so
 * NEWEST_WINS sees the side that changed last as newest on every backend.
 */
let tick = 0;
async function put(storage: Storage, path: string, content: string): Promise<void> {
  tick += 1;
  await storage.write(path, Readable.from([Buffer.from(content)]), {
    size: Buffer.byteLength(content),
    mtime: Date.now() + 3_600_000 + tick * 60_000,
  });
}

async function remove(storage: Storage, path: string): Promise<void> {
  const below: string[] = [];
  for await (const entry of storage.list()) {
    if (entry.path === path || entry.path.startsWith(`${path}/`)) below.push(entry.path);
  }
  for (const item of below.sort().reverse()) await storage.delete(item);
}

async function readText(storage: Storage, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.read(path)) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Every path outside the engine's folder with its content; folders as `path/`. */
async function contents(storage: Storage): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of storage.list({ include: (path) => !path.startsWith('.syncengine') })) {
    if (entry.isDir) out[`${entry.path}/`] = '';
    else out[entry.path] = await readText(storage, entry.path);
  }
  return out;
}

/** The contents of every file in a side's versions area. */
async function versioned(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of storage.list()) {
    if (!entry.isDir && entry.path.startsWith(`${VERSIONS_DIR}/`))
      out.push(await readText(storage, entry.path));
  }
  return out.sort();
}

const fileContents = (tree: Record<string, string>) =>
  Object.entries(tree)
    .filter(([path]) => !path.endsWith('/'))
    .map(([, content]) => content)
    .sort();

type Base = 'file' | 'folder';
type OtherChange = 'unchanged' | 'modified' | 'deleted' | 'type-changed';
const other = (side: Side): Side => (side === 'source' ? 'destination' : 'source');

/** Replaces `x` by the other type on a side: a file by a folder holding `x/new`, a folder by a file. */
async function changeType(storage: Storage, base: Base): Promise<void> {
  await remove(storage, 'x');
  if (base === 'file') await put(storage, 'x/new', 'the new folder');
  else await put(storage, 'x', 'the new file');
}

async function changeOther(storage: Storage, base: Base, change: OtherChange): Promise<void> {
  switch (change) {
    case 'unchanged':
      return;
    case 'modified':
      return put(storage, base === 'file' ? 'x' : 'x/f', 'edited');
    case 'deleted':
      return remove(storage, 'x');
    case 'type-changed':
      return changeType(storage, base);
  }
}

/** What the SPEC promises for a row. */
type Outcome =
  | { kind: 'wins'; side: Side }
  | { kind: 'pending' }
  /** Both sides made the same change: nothing left to do. */
  | { kind: 'same' }
  /** A mirror follows the authority's delete: gone on both sides, kept in versions. */
  | { kind: 'gone' }
  /** A backup keeps what the authority deleted. */
  | { kind: 'kept' };

const authorityOf = (mode: SyncMode): Side =>
  mode === 'SOURCE_TO_DESTINATION' || mode === 'SOURCE_BACKUP' ? 'source' : 'destination';
const isMirror = (mode: SyncMode) => mode === 'SOURCE_TO_DESTINATION' || mode === 'DESTINATION_TO_SOURCE';

function expectedOutcome(
  mode: SyncMode,
  strategy: ConflictStrategy,
  changer: Side,
  change: OtherChange,
): Outcome {
  if (change === 'type-changed') return { kind: 'same' };
  if (mode === 'TWO_WAY') {
    // A change on one side only is propagated; an edit wins over a delete (SPEC §3).
    if (change !== 'modified') return { kind: 'wins', side: changer };
    // Both changed: the strategy decides (SPEC §6); the type change was made last.
    switch (strategy) {
      case 'MANUAL':
        return { kind: 'pending' };
      case 'SOURCE_WINS':
        return { kind: 'wins', side: 'source' };
      case 'DESTINATION_WINS':
        return { kind: 'wins', side: 'destination' };
      case 'NEWEST_WINS':
        return { kind: 'wins', side: changer };
    }
  }
  // One-way modes have no conflicts: the authoritative side wins (SPEC §4).
  const authority = authorityOf(mode);
  if (change === 'deleted' && changer !== authority)
    return isMirror(mode) ? { kind: 'gone' } : { kind: 'kept' };
  return { kind: 'wins', side: authority };
}

interface Row {
  base: Base;
  changer: Side;
  change: OtherChange;
  mode: SyncMode;
  strategy: ConflictStrategy;
}

const rows: Row[] = [];
for (const base of ['file', 'folder'] as const) {
  for (const changer of ['source', 'destination'] as const) {
    for (const change of ['unchanged', 'modified', 'deleted', 'type-changed'] as const) {
      for (const mode of SYNC_MODES) {
        for (const strategy of CONFLICT_STRATEGIES) rows.push({ base, changer, change, mode, strategy });
      }
    }
  }
}

const runAt = () => Date.now();
async function run(pair: Pair, mode: SyncMode, strategy: ConflictStrategy, onConflict?: ConflictHandler) {
  return sync({
    ...pair,
    config: { mode, conflictResolution: strategy, maxDeletePercent: 100 },
    clock: { now: runAt },
    ...(onConflict ? { onConflict } : {}),
  });
}

const actionable = (result: SyncResult) =>
  result.plan.actions.filter((action) => action.type !== 'NO_ACTION');

describe.each(backends)('type changes over $name', (backend) => {
  it.each(rows)(
    '$base → other type at $changer, other side $change, $mode, $strategy',
    async ({ base, changer, change, mode, strategy }) => {
      const pair = await backend.make();
      for (const side of ['source', 'destination'] as const) {
        await put(pair[side], base === 'file' ? 'x' : 'x/f', 'base');
      }
      const first = await run(pair, mode, strategy);
      expect(first.errors).toEqual([]);

      await changeOther(pair[other(changer)], base, change);
      await changeType(pair[changer], base);
      if (change === 'type-changed' && base === 'file') {
        // The same folder on both sides: the other side made the very change.
        await remove(pair[other(changer)], 'x');
        await put(pair[other(changer)], 'x/new', 'the new folder');
      }
      const before = { source: await contents(pair.source), destination: await contents(pair.destination) };

      const result = await run(pair, mode, strategy);
      expect(result.errors).toEqual([]);
      const after = { source: await contents(pair.source), destination: await contents(pair.destination) };
      const outcome = expectedOutcome(mode, strategy, changer, change);
      switch (outcome.kind) {
        case 'wins': {
          const loser = other(outcome.side);
          expect(after.source).toEqual(before[outcome.side]);
          expect(after.destination).toEqual(before[outcome.side]);
          // The loser's files (or its file) are kept in its versions area.
          const kept = await versioned(pair[loser]);
          for (const content of fileContents(before[loser])) expect(kept).toContain(content);
          expect(result.pendingConflicts).toEqual([]);
          break;
        }
        case 'pending':
          expect(after).toEqual(before);
          expect(result.pendingConflicts.map((conflict) => conflict.path)).toEqual(['x']);
          expect(result.stats.conflicts).toBe(1);
          break;
        case 'same':
          expect(after.source).toEqual(before[changer]);
          expect(after.destination).toEqual(before[changer]);
          break;
        case 'gone': {
          expect(after).toEqual({ source: {}, destination: {} });
          const follower = other(authorityOf(mode));
          const kept = await versioned(pair[follower]);
          for (const content of fileContents(before[follower])) expect(kept).toContain(content);
          break;
        }
        case 'kept':
          expect(after).toEqual(before);
          break;
      }

      // Settled: the next run has nothing to do (a pending conflict is reported again).
      const again = await run(pair, mode, strategy);
      expect(again.errors).toEqual([]);
      if (outcome.kind === 'pending') {
        expect(actionable(again).map((action) => action.type)).toEqual(['CONFLICT']);
      } else {
        expect(actionable(again)).toEqual([]);
      }
    },
  );

  it.each(['source', 'destination'] as const)(
    'keeps both a folder at %s and a file when MANUAL settles to keep-both, the file under its conflict name',
    async (folderSide) => {
      const pair = await backend.make();
      await put(pair[folderSide], 'x/inside', 'in the folder');
      await put(pair[other(folderSide)], 'x', 'a file named x');
      const result = await run(pair, 'TWO_WAY', 'MANUAL', async () => 'keep-both');
      expect(result.errors).toEqual([]);
      const after = await contents(pair.source);
      expect(await contents(pair.destination)).toEqual(after);
      const renamed = Object.keys(after).find((path) => path.startsWith('x.conflict-'));
      expect(renamed).toMatch(new RegExp(`^x\\.conflict-\\d{8}T\\d{6}Z-${other(folderSide)}$`));
      expect(after).toEqual({ 'x/': '', 'x/inside': 'in the folder', [renamed!]: 'a file named x' });
      expect(actionable(await run(pair, 'TWO_WAY', 'MANUAL'))).toEqual([]);
    },
  );

  it.each([
    ['SOURCE_WINS', 'source'],
    ['DESTINATION_WINS', 'destination'],
  ] as const)(
    'on a first sync, %s keeps the %s type at the name and the loser in versions',
    async (strategy, winner) => {
      const pair = await backend.make();
      await put(pair.source, 'x', 'a file at the source');
      await put(pair.destination, 'x/f', 'in a folder at the destination');
      const before = { source: await contents(pair.source), destination: await contents(pair.destination) };
      const result = await run(pair, 'TWO_WAY', strategy);
      expect(result.errors).toEqual([]);
      expect(await contents(pair.source)).toEqual(before[winner]);
      expect(await contents(pair.destination)).toEqual(before[winner]);
      const loser = other(winner);
      expect(await versioned(pair[loser])).toEqual(fileContents(before[loser]));
    },
  );

  it('leaves both sides untouched under MANUAL without a handler, with one pending conflict', async () => {
    const pair = await backend.make();
    await put(pair.source, 'x', 'a file');
    await put(pair.destination, 'x/f', 'a folder');
    await put(pair.destination, 'x/g/h', 'deeper');
    const before = { source: await contents(pair.source), destination: await contents(pair.destination) };
    const result = await run(pair, 'TWO_WAY', 'MANUAL');
    expect(result.errors).toEqual([]);
    expect(result.status).toBe('completed');
    expect(result.pendingConflicts.map((conflict) => conflict.path)).toEqual(['x']);
    expect(result.plan.actions.map((action) => `${action.type} ${action.path}`)).toEqual(['CONFLICT x']);
    expect({ source: await contents(pair.source), destination: await contents(pair.destination) }).toEqual(
      before,
    );
  });
});
