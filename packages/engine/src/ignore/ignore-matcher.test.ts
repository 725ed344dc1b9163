import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import { describe, expect, it } from 'vitest';
import { listAll } from '../../test/testing/storage-contract.js';
import { MemoryStorage } from '../backends/memory.js';
import { createIgnoreMatcher, testIgnorePatterns } from './ignore-matcher.js';

describe('testIgnorePatterns (gitignore cases of SPEC §7)', () => {
  it.each([
    [['*.tmp'], 'a.tmp', true],
    [['*.tmp'], 'deep/dir/a.tmp', true],
    [['*.tmp'], 'a.tmp.txt', false],
    [['/build/'], 'build/', true],
    [['/build/'], 'build/out.js', true],
    [['/build/'], 'src/build/', false],
    [['/build/'], 'build', false],
    [['build/'], 'src/build/', true],
    [['build/'], 'src/build/x.o', true],
    [['build/'], 'build', false],
    [['**/node_modules/'], 'node_modules/', true],
    [['**/node_modules/'], 'a/b/node_modules/pkg/index.js', true],
    [['*.log', '!keep.log'], 'debug.log', true],
    [['*.log', '!keep.log'], 'keep.log', false],
    [['*.log', '!keep.log'], 'sub/keep.log', false],
    [['*.py[cod]'], 'x.pyc', true],
    [['*.py[cod]'], 'x.pyd', true],
    [['*.py[cod]'], 'x.py', false],
    [['#comment'], '#comment', false],
    [['\\#literal'], '#literal', true],
    [[], 'anything.txt', false],
    [['*.TMP'], 'a.tmp', false],
  ])('%j on %j → ignored %s', (patterns, path, ignored) => {
    expect(testIgnorePatterns(patterns, path).ignored).toBe(ignored);
  });

  it('always ignores the engine folder, the state folder and temp files', () => {
    expect(testIgnorePatterns([], '.syncengine/versions/x/a.txt')).toEqual({
      ignored: true,
      source: 'internal',
    });
    expect(testIgnorePatterns(['!.sync_state'], '.sync_state/', true).ignored).toBe(true);
    expect(testIgnorePatterns([], 'a/.file.txt.syncengine-tmp-0a1b2c').ignored).toBe(true);
  });

  it('names the deciding pattern', () => {
    expect(testIgnorePatterns(['*.log', '!keep.log'], 'debug.log')).toEqual({
      ignored: true,
      pattern: '*.log',
      source: 'patterns',
    });
    expect(testIgnorePatterns(['*.log', '!keep.log'], 'keep.log')).toEqual({
      ignored: false,
      pattern: '!keep.log',
      source: 'patterns',
    });
    expect(testIgnorePatterns(['build/'], 'build/deep/x.txt').pattern).toBe('build/');
  });

  it('rejects invalid paths', () => {
    expect(() => testIgnorePatterns([], '../x')).toThrow(expect.objectContaining({ code: 'INVALID_PATH' }));
  });
});

describe('createIgnoreMatcher', () => {
  function sourceTree(): MemoryStorage {
    const storage = new MemoryStorage();
    storage.put('.syncignore', '# root rules\n*.tmp\n/build/\n');
    storage.put('a.tmp', 'x');
    storage.put('build/out.js', 'x');
    storage.put('src/build/keep.js', 'x');
    storage.put('web/.syncignore', 'dist/\n*.map\n!important.tmp\n/local.txt\n');
    storage.put('web/dist/app.js', 'x');
    storage.put('web/app.js.map', 'x');
    storage.put('web/important.tmp', 'x');
    storage.put('web/local.txt', 'x');
    storage.put('web/sub/local.txt', 'x');
    storage.put('other/app.js.map', 'x');
    storage.put('other/dist/app.js', 'x');
    return storage;
  }

  it('combines pair patterns, the root .syncignore and nested ones applying below their folder', async () => {
    const storage = sourceTree();
    const matcher = await createIgnoreMatcher({ patterns: ['other/dist/'], storage });
    expect(matcher.ignoreFiles).toEqual(['.syncignore', 'web/.syncignore']);
    const kept = (await listAll(storage, matcher.include)).filter((e) => !e.isDir).map((e) => e.path);
    expect(kept.sort()).toEqual(
      [
        '.syncignore',
        'other/app.js.map',
        'src/build/keep.js',
        'web/.syncignore',
        'web/important.tmp',
        'web/sub/local.txt',
      ].sort(),
    );
    expect(matcher.isIgnored('web/dist', true)).toBe(true);
    expect(matcher.isIgnored('other/dist/app.js', false)).toBe(true);
    expect(matcher.explain('web/app.js.map', false)).toEqual({
      ignored: true,
      pattern: '*.map',
      source: 'web/.syncignore',
    });
  });

  it('does not read .syncignore files inside ignored folders', async () => {
    const storage = new MemoryStorage();
    storage.put('.syncignore', 'vendor/\n');
    storage.put('vendor/.syncignore', '!*\n');
    storage.put('vendor/lib.js', 'x');
    const matcher = await createIgnoreMatcher({ storage });
    expect(matcher.ignoreFiles).toEqual(['.syncignore']);
    expect(matcher.isIgnored('vendor/lib.js', false)).toBe(true);
  });

  it('loads nested files lazily when asked, folder by folder', async () => {
    const storage = sourceTree();
    const matcher = await createIgnoreMatcher({ storage, nested: 'lazy' });
    expect(matcher.ignoreFiles).toEqual(['.syncignore']);
    expect(matcher.isIgnored('web/app.js.map', false)).toBe(false);
    await matcher.loadDirectory('web');
    expect(matcher.isIgnored('web/app.js.map', false)).toBe(true);
    matcher.addIgnoreFile('other', '*.map');
    expect(matcher.isIgnored('other/app.js.map', false)).toBe(true);
  });

  it('works without a storage, and with a missing source root', async () => {
    const matcher = await createIgnoreMatcher({ patterns: ['*.bak'] });
    expect(matcher.isIgnored('x.bak', false)).toBe(true);
    expect(matcher.include('x.txt', false)).toBe(true);
    const missing = new LocalStorage(join(tmpdir(), 'syncengine-does-not-exist-4711'));
    const matcherOnMissing = await createIgnoreMatcher({ patterns: ['*.bak'], storage: missing });
    expect(matcherOnMissing.isIgnored('x.bak', false)).toBe(true);
  });

  it('reads .syncignore files from a local folder and prunes ignored folders while listing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'syncengine-ignore-'));
    try {
      await mkdir(join(root, 'node_modules/pkg'), { recursive: true });
      await mkdir(join(root, 'app/node_modules/x'), { recursive: true });
      await mkdir(join(root, '.syncengine/versions'), { recursive: true });
      await writeFile(join(root, '.syncignore'), '**/node_modules/\n');
      await writeFile(join(root, 'node_modules/pkg/index.js'), 'x');
      await writeFile(join(root, 'app/node_modules/x/y.js'), 'x');
      await writeFile(join(root, 'app/main.js'), 'x');
      await writeFile(join(root, '.syncengine/versions/old.txt'), 'x');
      const storage = new LocalStorage(root);
      const matcher = await createIgnoreMatcher({ storage });
      const seen: string[] = [];
      const include = (path: string, isDir: boolean) => {
        seen.push(path);
        return matcher.include(path, isDir);
      };
      const listed = (await listAll(storage, include)).map((entry) => entry.path);
      expect(listed).toEqual(['.syncignore', 'app', 'app/main.js']);
      expect(seen.filter((path) => path.includes('node_modules/'))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
