import { mkdir, mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LastKnownState } from '../model.js';
import { FileStateStore } from '../state/file-state-store.js';
import type { PartialState, StateChange, StatePart } from '../state-store.js';
import { sync } from './sync.js';

/** A file store that counts what a run asks of it, and can fail one `update()`. */
class CountingStore extends FileStateStore {
  loads = 0;
  saves = 0;
  parts = 0;
  updates = 0;
  compacts = 0;
  failNextUpdate = false;

  override async load(): Promise<LastKnownState | null> {
    this.loads++;
    return super.load();
  }

  override async save(state: LastKnownState): Promise<void> {
    this.saves++;
    return super.save(state);
  }

  override async loadPart(part: StatePart): Promise<PartialState | null> {
    this.parts++;
    return super.loadPart(part);
  }

  override async update(changes: StateChange[]): Promise<void> {
    this.updates++;
    if (this.failNextUpdate) {
      this.failNextUpdate = false;
      throw new Error('disk full');
    }
    return super.update(changes);
  }

  override async compact(): Promise<void> {
    this.compacts++;
    return super.compact();
  }

  reset(): void {
    this.loads = this.saves = this.parts = this.updates = this.compacts = 0;
  }
}

const FOLDERS = 6;
const FILES_PER_FOLDER = 40;

describe('scoped runs with a file state store', () => {
  let root: string;
  let src: string;
  let dst: string;
  let state: CountingStore;
  const at = (base: string, path: string) => join(base, path);
  const put = async (base: string, path: string, text: string, seconds = 1_767_225_600) => {
    await mkdir(dirname(at(base, path)), { recursive: true });
    await writeFile(at(base, path), text);
    await utimes(at(base, path), seconds, seconds);
  };
  const run = (changedPaths?: string[]) =>
    sync({
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      state,
      changedPaths,
      config: { maxDeletePercent: 100 },
    });
  const actions = (result: Awaited<ReturnType<typeof run>>) =>
    result.plan.actions.map((action) => [action.type, action.path, action.to].filter(Boolean)).sort();

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'syncengine-partial-'));
    src = join(root, 'src');
    dst = join(root, 'dst');
    await mkdir(dst, { recursive: true });
    for (let folder = 0; folder < FOLDERS; folder++) {
      for (let file = 0; file < FILES_PER_FOLDER; file++) {
        await put(src, `d${folder}/f${file}.txt`, `file ${folder}/${file}`);
      }
    }
    await put(src, 'd2/unique.txt', 'a file of its own size');
    state = new CountingStore(join(root, 'state'), { fsync: false });
    expect((await run()).status).toBe('completed');
    // The run after the first records the folder digests the next runs start from.
    expect((await run()).plan.actions).toEqual([]);
    expect((await state.loadMetadata())?.treeFingerprint).toBeDefined();
    state.reset();
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('read only the records of the folders that changed, and record the changes without a save', async () => {
    await put(src, 'd1/f3.txt', 'edited, longer than before', 1_767_225_700);
    await put(src, 'd2/new.txt', 'new');
    const result = await run();
    expect(result.status).toBe('completed');
    expect(actions(result)).toEqual([
      ['UPLOAD_NEW', 'd2/new.txt'],
      ['UPLOAD_UPDATE', 'd1/f3.txt'],
    ]);
    expect(await readFile(at(dst, 'd1/f3.txt'), 'utf8')).toBe('edited, longer than before');
    expect(state.loads).toBe(0);
    expect(state.saves).toBe(0);
    expect(state.parts).toBeGreaterThan(0);
    expect(state.updates).toBeGreaterThan(0);
    expect(await readdir(join(root, 'state'))).toContain('journal.jsonl');

    const saved = await state.load();
    expect(saved!.source.get('d1/f3.txt')?.size).toBe('edited, longer than before'.length);
    expect(saved!.destination.get('d2/new.txt')?.size).toBe(3);
    expect(saved!.source.size).toBe(FOLDERS * (FILES_PER_FOLDER + 1) + 2);
    // The fingerprint counts the whole trees, and the next run finds nothing to do.
    const fingerprint = (await state.loadMetadata())?.treeFingerprint;
    expect(fingerprint?.source.entries).toBe(saved!.source.size);
    expect(fingerprint?.destination.entries).toBe(saved!.destination.size);
    state.reset();
    expect((await run()).plan.actions).toEqual([]);
    expect(state.parts + state.loads).toBe(0);
  });

  it('find a file moved across folders as a rename', async () => {
    await mkdir(at(src, 'd5/sub'), { recursive: true });
    await rename(at(src, 'd3/f7.txt'), at(src, 'd5/sub/moved.txt'));
    const result = await run();
    expect(actions(result)).toEqual([
      ['RENAME_DESTINATION', 'd3/f7.txt', 'd5/sub/moved.txt'],
      ['UPLOAD_NEW', 'd5/sub'],
    ]);
    expect(await readFile(at(dst, 'd5/sub/moved.txt'), 'utf8')).toBe('file 3/7');
    expect(state.loads).toBe(0);
    expect(state.saves).toBe(0);
    const saved = await state.load();
    expect(saved!.destination.has('d3/f7.txt')).toBe(false);
    expect(saved!.destination.has('d5/sub/moved.txt')).toBe(true);
  });

  it('read only the records of the paths a watcher told', async () => {
    await put(src, 'd4/f1.txt', 'changed!', 1_767_225_700);
    await put(dst, 'd0/from-dst.txt', 'other side');
    // Told only where a file went: where it came from is found by its size.
    await rename(at(src, 'd2/unique.txt'), at(src, 'd4/moved.txt'));
    const result = await run(['d4/f1.txt', 'd0/from-dst.txt', 'd4/moved.txt']);
    expect(actions(result)).toEqual([
      ['DOWNLOAD_NEW', 'd0/from-dst.txt'],
      ['RENAME_DESTINATION', 'd2/unique.txt', 'd4/moved.txt'],
      ['UPLOAD_UPDATE', 'd4/f1.txt'],
    ]);
    expect(state.loads).toBe(0);
    expect(state.saves).toBe(0);
    const saved = await state.load();
    expect(saved!.source.get('d0/from-dst.txt')?.size).toBe('other side'.length);
  });

  it('save the whole state, as a full run does, where recording a change failed', async () => {
    await put(src, 'd1/a.txt', 'a');
    await put(src, 'd1/b.txt', 'b');
    state.failNextUpdate = true;
    const result = await run();
    expect(actions(result)).toEqual([
      ['UPLOAD_NEW', 'd1/a.txt'],
      ['UPLOAD_NEW', 'd1/b.txt'],
    ]);
    expect(state.loads).toBe(1);
    expect(state.saves).toBe(1);
    const saved = await new FileStateStore(join(root, 'state')).load();
    expect(saved!.source.has('d1/a.txt')).toBe(true);
    expect(saved!.destination.has('d1/b.txt')).toBe(true);
    expect(saved!.source.size).toBe(FOLDERS * (FILES_PER_FOLDER + 1) + 3);
  });

  it('compact the journal once it has grown', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 30; round++) {
      await put(
        src,
        `d${round % FOLDERS}/f0.txt`,
        `round ${round}`.padEnd(20, '.'),
        1_767_225_700 + round * 10,
      );
      expect(actions(await run())).toEqual([['UPLOAD_UPDATE', `d${round % FOLDERS}/f0.txt`]]);
    }
    expect(state.loads).toBe(state.compacts);
    expect(state.compacts).toBeGreaterThan(0);
    expect(state.saves).toBe(state.compacts);
    const saved = await state.load();
    expect(saved!.destination.get('d5/f0.txt')?.size).toBe(20);
    expect(saved!.source.size).toBe(FOLDERS * (FILES_PER_FOLDER + 1) + 1);
  });

  it('keep the changes of a full run in every folder in the journal, with the counts beside it, and read only one folder next', async () => {
    // Enough records that the journal of one change a folder stays small beside the trees.
    const many = 70;
    const perFolder = 30;
    for (let folder = FOLDERS; folder < many; folder++) {
      for (let file = 0; file < perFolder; file++)
        await put(src, `d${folder}/f${file}.txt`, `${folder}/${file}`);
    }
    await run();
    await run();
    // One file changed in every folder: a full run, whose journal then spans every folder.
    for (let folder = 0; folder < many; folder++) {
      await put(src, `d${folder}/f0.txt`, `changed ${folder}`.padEnd(30, '.'), 1_767_225_700);
    }
    state.reset();
    expect((await run()).plan.actions).toHaveLength(many);
    expect(state.loads).toBe(1);
    expect(state.saves).toBe(0);
    expect(await readdir(join(root, 'state'))).toContain('journal.counts.json');

    await put(src, 'd3/f5.txt', 'edited once more', 1_767_225_800);
    state.reset();
    expect(actions(await run())).toEqual([['UPLOAD_UPDATE', 'd3/f5.txt']]);
    expect(state.loads + state.saves + state.compacts).toBe(0);
    const saved = await state.load();
    const fingerprint = (await state.loadMetadata())?.treeFingerprint;
    expect(saved!.source.size).toBe(many + (many - FOLDERS) * perFolder + FOLDERS * FILES_PER_FOLDER + 1);
    expect(fingerprint?.source.entries).toBe(saved!.source.size);
    expect(fingerprint?.destination.entries).toBe(saved!.destination.size);
  });
});
