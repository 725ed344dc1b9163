import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import { isTempName } from '../paths.js';
import { FileStateStore } from '../state/file-state-store.js';
import type { Storage } from '../storage.js';
import { sync } from './sync.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/** `storage`, with `before(path)` run as each read of a file starts. */
function onRead(storage: Storage, before: (path: string) => Promise<void>): Storage {
  return new Proxy(storage, {
    get(target, property, receiver) {
      if (property === 'read' || property === 'readSmall') {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => Promise<unknown>;
        return async (path: string, ...rest: unknown[]) => {
          await before(path);
          return method.call(target, path, ...rest);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function files(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of await readdir(dir)) {
    if (name.startsWith('.sync')) continue;
    out[name] = (await readFile(join(dir, name))).length;
  }
  return out;
}

describe('files that change or vanish while a run reads them (local folders)', () => {
  it('defers each to the next run with a warning, copies the rest, leaves no temporary file, and the next run settles them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'syncengine-changing-'));
    roots.push(root);
    const src = join(root, 'src');
    const dst = join(root, 'dst');
    await mkdir(src);
    await mkdir(dst);
    // Larger than the small files copied in groups: each goes through a read of its own.
    const size = 300_000;
    await writeFile(join(src, 'grows.bin'), Buffer.alloc(size, 1));
    await writeFile(join(src, 'vanishes.bin'), Buffer.alloc(size, 2));
    await writeFile(join(src, 'steady.bin'), Buffer.alloc(size, 3));
    const state = new FileStateStore(join(root, 'state'), { fsync: false });
    let isFirst = true;
    const source = onRead(new LocalStorage(src), async (path) => {
      if (!isFirst) return;
      if (path === 'grows.bin') await appendFile(join(src, path), 'more');
      if (path === 'vanishes.bin') await rm(join(src, path));
    });

    const result = await sync({ source, destination: new LocalStorage(dst), state });

    // Left for the next run as warnings: the run itself completes, and records neither as synced.
    expect(result.status).toBe('completed');
    expect(result.errors).toEqual([]);
    expect(result.deferred.map((error) => error.path).sort()).toEqual(['grows.bin', 'vanishes.bin']);
    expect(result.warnings).toEqual(expect.arrayContaining(result.deferred.map((error) => error.message)));
    const recorded = (await state.load())!;
    expect(recorded.source.has('grows.bin')).toBe(false);
    expect(recorded.destination.has('grows.bin')).toBe(false);
    expect(await files(dst)).toEqual({ 'steady.bin': size });
    expect(
      (await readdir(dst, { recursive: true })).filter((path) => isTempName(path.split('/').pop()!)),
    ).toEqual([]);

    isFirst = false;
    const next = await sync({ source, destination: new LocalStorage(dst), state });
    expect(next.errors).toEqual([]);
    expect(next.status).toBe('completed');
    expect(await files(dst)).toEqual({ 'grows.bin': size + 4, 'steady.bin': size });
    expect(await files(src)).toEqual(await files(dst));
  });
});
