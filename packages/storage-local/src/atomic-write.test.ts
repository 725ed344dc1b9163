import { closeSync, fstatSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLinkClash, writeFileAtomicSync } from './atomic-write.js';

describe('writeFileAtomicSync', () => {
  let dir: string;
  const bytes = (text: string) => [Buffer.from(text)];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'syncengine-atomic-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the bytes with the mtime given, leaving no temporary name', async () => {
    const target = join(dir, 'a.txt');
    const { stats, fd } = writeFileAtomicSync(target, [Buffer.from('he'), Buffer.from('llo')], {
      exclusive: false,
      mtime: Date.UTC(2026, 0, 2),
      keepOpen: false,
    });
    expect(fd).toBeNull();
    expect(await readFile(target, 'utf8')).toBe('hello');
    expect(stats.size).toBe(5);
    expect(Math.round((await stat(target)).mtimeMs)).toBe(Date.UTC(2026, 0, 2));
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('never writes over a file that is there when exclusive, and leaves it as it was', async () => {
    const target = join(dir, 'a.txt');
    await writeFile(target, 'theirs');
    let error: unknown;
    try {
      writeFileAtomicSync(target, bytes('mine'), { exclusive: true, keepOpen: false });
    } catch (caught) {
      error = caught;
    }
    expect(isLinkClash(error)).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('theirs');
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('asks before replacing, and writes nothing when refused', async () => {
    const target = join(dir, 'a.txt');
    await writeFile(target, 'old');
    const seen: (number | undefined)[] = [];
    writeFileAtomicSync(target, bytes('new'), {
      exclusive: false,
      keepOpen: false,
      checkTarget: (existing) => seen.push(existing?.size),
    });
    expect(seen).toEqual([3]);
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(() =>
      writeFileAtomicSync(target, bytes('refused'), {
        exclusive: false,
        keepOpen: false,
        checkTarget: () => {
          throw new Error('refused');
        },
      }),
    ).toThrow('refused');
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('hands back the open descriptor of the written file when asked to keep it', async () => {
    const target = join(dir, 'kept.txt');
    const { stats, fd } = writeFileAtomicSync(target, bytes('kept'), { exclusive: true, keepOpen: true });
    expect(fd).not.toBeNull();
    try {
      expect(fstatSync(fd!).ino).toBe(stats.ino);
      expect((await stat(target)).ino).toBe(stats.ino);
    } finally {
      closeSync(fd!);
    }
  });

  it('fails in a folder that is gone, leaving nothing', async () => {
    const target = join(dir, 'missing', 'a.txt');
    expect(() => writeFileAtomicSync(target, bytes('x'), { exclusive: true, keepOpen: false })).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
    expect(await readdir(dir)).toEqual([]);
  });
});
