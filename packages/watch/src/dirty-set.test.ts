import { describe, expect, it } from 'vitest';
import { ChangeCollector, coverPaths, dirtyPaths, relativeChangePath } from './dirty-set.js';
import { diffListings } from './sources.js';

describe('relativeChangePath', () => {
  it('gives the path below the root, normalised', () => {
    expect(relativeChangePath('/data/pair', '/data/pair/a/b.txt')).toBe('a/b.txt');
    expect(relativeChangePath('/data/pair/', '/data/pair/a')).toBe('a');
    expect(relativeChangePath('C:\\pair', 'C:\\pair\\a\\b', '\\')).toBe('a/b');
  });

  it('leaves out the root, paths outside it and a sibling sharing its prefix', () => {
    expect(relativeChangePath('/data/pair', '/data/pair')).toBeNull();
    expect(relativeChangePath('/data/pair', '/data/other/a')).toBeNull();
    expect(relativeChangePath('/data/pair', '/data/pair2/a')).toBeNull();
  });

  it("leaves out the engine's own paths: versions area, state folder, temporary files of writes", () => {
    expect(relativeChangePath('/p', '/p/.syncengine/versions/2026-01-01T00-00-00Z/a.txt')).toBeNull();
    expect(relativeChangePath('/p', '/p/.syncengine')).toBeNull();
    expect(relativeChangePath('/p', '/p/sub/.sync_state/state.json')).toBeNull();
    expect(relativeChangePath('/p', '/p/docs/.report.pdf.syncengine-tmp-1a2b3c')).toBeNull();
    // An editor's own temporary name is a change like any other (its rename onto the file is too).
    expect(relativeChangePath('/p', '/p/docs/.report.pdf.swp')).toBe('docs/.report.pdf.swp');
  });
});

describe('coverPaths', () => {
  it('keeps a folder and drops what lies below it (a folder deleted with its files)', () => {
    expect(coverPaths(['dir/sub/b', 'dir', 'dir/a', 'dir/sub', 'other'])).toEqual(['dir', 'other']);
  });

  it('keeps both halves of a rename, and siblings sharing a name prefix', () => {
    expect(coverPaths(['new.txt', 'old.txt', 'old.txt'])).toEqual(['new.txt', 'old.txt']);
    expect(coverPaths(['a', 'a b', 'a-b/c', 'a/b'])).toEqual(['a', 'a b', 'a-b/c']);
  });
});

describe('ChangeCollector', () => {
  it('is due once debounceMs passed with no new change', () => {
    const collector = new ChangeCollector(300);
    expect(collector.dueAt()).toBeNull();
    collector.add('source', ['a'], 1000);
    expect(collector.isDue(1299)).toBe(false);
    collector.add('source', ['b'], 1200);
    expect(collector.isDue(1300)).toBe(false);
    expect(collector.dueAt()).toBe(1500);
    expect(collector.isDue(1500)).toBe(true);
  });

  it('is due at most 10 × debounceMs after the first change of a burst that never pauses', () => {
    const collector = new ChangeCollector(100);
    for (let now = 0; now <= 2000; now += 50) collector.add('destination', [`f${now}`], now);
    expect(collector.dueAt()).toBe(1000);
    expect(collector.isDue(1000)).toBe(true);
  });

  it('coalesces a burst into one batch per side, counting every notification', () => {
    const collector = new ChangeCollector(300);
    // An unpacked archive: a folder and its files, some seen twice.
    collector.add('source', ['pkg', 'pkg/a', 'pkg/b'], 0);
    collector.add('source', ['pkg/a', 'pkg/c/d'], 10);
    collector.add('destination', ['notes.txt'], 20);
    expect(collector.pending).toBe(5);
    const batch = collector.take()!;
    expect(batch.count).toBe(6);
    expect([...batch.paths.source].sort()).toEqual(['pkg', 'pkg/a', 'pkg/b', 'pkg/c/d']);
    expect(dirtyPaths(batch)).toEqual(['notes.txt', 'pkg']);
    expect(collector.take()).toBeNull();
    expect(collector.pending).toBe(0);
  });

  it("an editor's write-temp-then-rename save is the temporary name and the file: one batch", () => {
    const collector = new ChangeCollector(300);
    collector.add('source', ['doc.txt~', '.doc.txt.swp'], 0);
    collector.add('source', ['doc.txt~', 'doc.txt'], 5);
    expect(dirtyPaths(collector.take()!)).toEqual(['.doc.txt.swp', 'doc.txt', 'doc.txt~']);
  });

  it('ignores empty additions', () => {
    const collector = new ChangeCollector(300);
    collector.add('source', [], 0);
    expect(collector.dueAt()).toBeNull();
  });
});

describe('diffListings', () => {
  it('tells added, removed and changed paths, not unchanged ones', () => {
    const before = new Map([
      ['a', '1:10::'],
      ['b', '1:10::'],
      ['d', 'd'],
    ]);
    const after = new Map([
      ['a', '1:10::'],
      ['b', '2:11::'],
      ['c', '3:12::'],
    ]);
    expect(diffListings(before, after).sort()).toEqual(['b', 'c', 'd']);
  });
});
