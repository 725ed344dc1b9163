import { appendFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import { SyncController } from '../controller.js';
import { FileStateStore } from '../state/file-state-store.js';
import { sync } from './sync.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/** A pair of real folders, the source holding `count` small files in a few folders. */
async function makePair(count: number) {
  const root = await mkdtemp(join(tmpdir(), 'syncengine-batch-sync-'));
  roots.push(root);
  const src = join(root, 'src');
  const dst = join(root, 'dst');
  await mkdir(dst, { recursive: true });
  for (let index = 0; index < count; index++) {
    const folder = join(src, `f${index % 4}`);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, `file${index}.txt`), `content of file ${index}\n`.repeat(1 + (index % 7)));
  }
  const state = new FileStateStore(join(root, 'state'), { fsync: false });
  const run = (options: Partial<Parameters<typeof sync>[0]> = {}) =>
    sync({ source: new LocalStorage(src), destination: new LocalStorage(dst), state, ...options });
  return { src, dst, run };
}

/** Every file below `root` with its content, temporary names included. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name).slice(root.length + 1);
    if (path.startsWith('.syncengine')) continue;
    out[path] = await readFile(join(root, path), 'utf8');
  }
  return out;
}

describe('small new files copied in groups (real folders)', () => {
  it('a cancel between groups leaves whole files only, and the next run copies the rest once', async () => {
    const pair = await makePair(600);
    const controller = new SyncController();
    let copied = 0;
    // One group at a time, so that the cancel stops the groups not yet started.
    const first = await pair.run({
      config: { transfers: 1 },
      controller,
      onEvent: (event) => {
        if (event.type === 'upload_complete' && ++copied === 200) controller.cancel();
      },
    });
    expect(first.status).toBe('cancelled');
    const partial = await tree(pair.dst);
    const source = await tree(pair.src);
    const count = Object.keys(partial).length;
    expect(count).toBeGreaterThanOrEqual(200);
    expect(count).toBeLessThan(600);
    // Nothing half written, no temporary names: each file there is its source's copy.
    for (const [path, text] of Object.entries(partial)) expect(text).toBe(source[path]);

    const second = await pair.run();
    expect(second.status).toBe('completed');
    expect(second.stats.actions.UPLOAD_NEW).toBe(600 - count);
    expect(first.stats.bytesUploaded + second.stats.bytesUploaded).toBe(
      Object.values(source).reduce((sum, text) => sum + Buffer.byteLength(text), 0),
    );
    expect(await tree(pair.dst)).toEqual(source);
  });

  it('refuses a file changed after it was planned and copies it on the next run', async () => {
    const pair = await makePair(300);
    const changed = join(pair.src, 'f1', 'file5.txt');
    const first = await pair.run({
      onEvent: (event) => {
        if (event.type === 'sync_start') appendFileSync(changed, 'changed while the run went on\n');
      },
    });
    // Left for the next run: a warning, not a failure.
    expect(first.status).toBe('completed');
    expect(first.errors).toEqual([]);
    expect(first.deferred.map((error) => `${error.code} ${error.path}`)).toEqual([
      'CHANGED_DURING_TRANSFER f1/file5.txt',
    ]);
    expect(first.stats.deferred).toBe(1);
    // 299 files and the 4 folders.
    expect(first.stats.actions.UPLOAD_NEW).toBe(303);
    const second = await pair.run();
    expect(second.status).toBe('completed');
    expect(second.stats.actions.UPLOAD_NEW).toBe(1);
    expect(await tree(pair.dst)).toEqual(await tree(pair.src));
  });
});
