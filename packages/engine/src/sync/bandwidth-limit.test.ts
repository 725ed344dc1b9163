import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import { filesBelow } from '../../test/testing/local-folders.js';
import { SyncController } from '../controller.js';
import type { SyncEvent } from '../events.js';
import { isTempName } from '../paths.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import { sync } from './sync.js';

const KiB = 1024;
const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/** A local pair whose source holds `files` (name → size) of random bytes. */
async function localPair(files: Record<string, number>) {
  const root = await mkdtemp(join(tmpdir(), 'syncengine-bwlimit-'));
  roots.push(root);
  const src = join(root, 'src');
  const dst = join(root, 'dst');
  await mkdir(src);
  await mkdir(dst);
  for (const [name, size] of Object.entries(files)) await writeFile(join(src, name), randomBytes(size));
  return {
    src,
    dst,
    pair: {
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      state: new MemoryStateStore(),
    },
  };
}

const files = (dir: string) => filesBelow(dir, 'base64');

const small = (count: number, size: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, index) => [`small-${index}.bin`, size]));

describe('a bandwidth limit', () => {
  it('holds the run to its rate, over small files copied in groups and a large file streamed', async () => {
    const rate = 256 * KiB;
    // 128 KiB in small files (copied in groups) and 320 KiB in one file read as a stream.
    const { src, dst, pair } = await localPair({ ...small(32, 4 * KiB), 'large.bin': 320 * KiB });
    const started = performance.now();
    const result = await sync({ ...pair, config: { mode: 'SOURCE_TO_DESTINATION', bandwidthLimit: rate } });
    const elapsed = performance.now() - started;

    expect(result.status).toBe('completed');
    expect(result.stats.bytesUploaded).toBe(448 * KiB);
    // Only a quarter of a second's worth may go ahead of the rate: 448 KiB take at least
    // (448 - 64) / 256 s. (A lower bound only: a busy machine makes it slower, never faster.)
    expect(elapsed).toBeGreaterThanOrEqual(((448 - 64) / 256) * 1000 - 20);
    expect(await files(dst)).toEqual(await files(src));
  });

  it('lets the copies under way finish at its rate when the run is cancelled, starts no more, and the next run copies the rest', async () => {
    const { src, dst, pair } = await localPair(small(16, 4 * KiB));
    const controller = new SyncController();
    const events: SyncEvent[] = [];
    const result = await sync({
      ...pair,
      controller,
      // Two transfers at once, each a group of two 4 KiB files (a second's worth at 8 KiB/s).
      config: { mode: 'SOURCE_TO_DESTINATION', bandwidthLimit: 8 * KiB, transfers: 2 },
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'upload_complete') controller.cancel();
      },
    });

    expect(result.status).toBe('cancelled');
    expect(result.errors).toEqual([]);
    const arrived = await files(dst);
    const source = await files(src);
    // The first group ended, then the cancel came: the second group, waiting for the limit
    // meanwhile, still arrived whole (SPEC §9: running operations finish), and no third began.
    const count = Object.keys(arrived).length;
    expect(count).toBe(4);
    for (const [path, bytes] of Object.entries(arrived)) expect(bytes, path).toBe(source[path]);
    const leftovers = (await readdir(dst, { recursive: true })).filter((path) =>
      isTempName(path.split('/').pop()!),
    );
    expect(leftovers).toEqual([]);
    expect(events.filter((event) => event.type === 'error')).toEqual([]);

    const next = await sync({ ...pair, config: { mode: 'SOURCE_TO_DESTINATION' } });
    expect(next.status).toBe('completed');
    expect(next.stats.bytesUploaded).toBe((16 - count) * 4 * KiB);
    expect(await files(dst)).toEqual(source);
  });

  it('is refused below 1 KiB/s or when not a whole number, naming the setting, before anything is copied', async () => {
    const { dst, pair } = await localPair(small(2, KiB));
    for (const bandwidthLimit of [0, 1023, 2048.5, -1]) {
      await expect(sync({ ...pair, config: { bandwidthLimit } }), String(bandwidthLimit)).rejects.toThrow(
        /bandwidthLimit must be a whole number of bytes per second of at least 1024/,
      );
    }
    expect(await files(dst)).toEqual({});
  });
});
