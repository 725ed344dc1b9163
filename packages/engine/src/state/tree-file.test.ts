import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSyncError } from '../errors.js';
import type { Entry, Tree } from '../model.js';
import { fromRecord, parseTree, readTreeLines, serializeTree } from './tree-file.js';

const FILE = '/state/source_tree.json';

const textOf = (tree: Tree) => [...serializeTree(tree)].join('');
const treeOf = (...entries: Entry[]): Tree => new Map(entries.map((entry) => [entry.path, entry]));
const file = (path: string, extra: Partial<Entry> = {}): Entry => ({
  path,
  size: 12,
  mtime: 1_700_000_000_123,
  isDir: false,
  hash: '0123456789abcdef0123456789abcdef',
  hashAlgorithm: 'xxh3-128',
  id: '4711',
  ...extra,
});

/** What the whole text means to JSON.parse: the tree, or 'corrupt'. */
function viaJsonParse(text: string): Tree | 'corrupt' {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'corrupt';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'corrupt';
  const tree: Tree = new Map();
  try {
    for (const [path, value] of Object.entries(parsed)) tree.set(path, fromRecord(path, value, FILE));
  } catch {
    return 'corrupt';
  }
  return tree;
}

function errorOf(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('tree files', () => {
  it('reads back what it writes, in place, one entry a line', () => {
    const tree = treeOf(
      file('a.txt'),
      { path: 'dir', size: 0, mtime: 5, isDir: true, id: '7' },
      file('dir/b', { hash: undefined, hashAlgorithm: undefined }),
      file('neg', { mtime: -1_000, id: undefined }),
    );
    const text = textOf(tree);
    expect(text.split('\n')).toHaveLength(tree.size + 3);
    expect(readTreeLines(text, FILE)).toEqual(tree);
    expect(parseTree(text, FILE)).toEqual(tree);
    expect(parseTree(textOf(new Map()), FILE)).toEqual(new Map());
  });

  it('reads escaped keys and values as JSON.parse does', () => {
    const tree = treeOf(
      file('quote"d'),
      file('back\\slash'),
      file('line\nbreak'),
      file('a":{b'),
      file('q\\":{"size":1}'),
      file('end,'),
      file('tab\there', { hash: 'x\ty', id: '"quoted"' }),
      file('etag', { hash: '"abc-2"\\', hashAlgorithm: 'etag', mtime: 1.5 }),
    );
    const text = textOf(tree);
    expect(parseTree(text, FILE)).toEqual(tree);
    expect(viaJsonParse(text)).toEqual(tree);
    // A key holding `":{` is left to the full parse; every other line is read in place.
    expect(readTreeLines(text, FILE)).toBeNull();
    tree.delete('a":{b');
    tree.delete('q\\":{"size":1}');
    expect(readTreeLines(textOf(tree), FILE)).toEqual(tree);
  });

  it('reads unicode paths, line separators and lone surrogates exactly', () => {
    const tree = treeOf(
      file('ünï/😀.txt'),
      file('e\u0301'),
      file('sep\u2028par\u2029'),
      file('lone \ud800 high'),
      file('lone \udc00 low', { id: '\udbff' }),
      file('\u0000nul'),
    );
    const text = textOf(tree);
    const read = readTreeLines(text, FILE);
    expect(read).toEqual(tree);
    expect([...read!.keys()]).toEqual([...tree.keys()]);
  });

  it('leaves records beyond the plain form to JSON.parse of their line', () => {
    // Written by hand: this literal would be rounded in the source already.
    const text =
      '{\n"big":{"size":12345678901234567,"mtime":1,"is_dir":false},\n' +
      '"exp":{"size":1e3,"mtime":2,"is_dir":false},\n' +
      '"ordered":{"mtime":3,"size":4,"is_dir":true,"extra":1}\n}\n';
    expect(readTreeLines(text, FILE)).toEqual(
      treeOf(
        { path: 'big', size: 12345678901234568, mtime: 1, isDir: false },
        { path: 'exp', size: 1000, mtime: 2, isDir: false },
        { path: 'ordered', size: 4, mtime: 3, isDir: true },
      ),
    );
  });

  it('gives any other layout of a valid object to the full parse', () => {
    const record = { size: 3, mtime: 9, is_dir: false, id: 'i' };
    const expected = treeOf({ path: 'k', size: 3, mtime: 9, isDir: false, id: 'i' });
    for (const text of [
      JSON.stringify({ k: record }),
      `${JSON.stringify({ k: record }, null, 2)}\n`,
      `{\n"k":${JSON.stringify(record)}\n}`,
    ]) {
      expect(readTreeLines(text, FILE)).toBeNull();
      expect(parseTree(text, FILE)).toEqual(expected);
    }
    // A key given twice: the last one wins, as in JSON.parse.
    const twice = `{\n"k":{"size":1,"mtime":1,"is_dir":false},\n"k":${JSON.stringify(record)}\n}\n`;
    expect(parseTree(twice, FILE)).toEqual(expected);
  });

  it('reports malformed trees as STATE_CORRUPT naming the file', () => {
    for (const text of [
      '',
      'null\n',
      '[]\n',
      '{\n"k":{"size":01,"mtime":1,"is_dir":false}\n}\n',
      '{\n"k":{"size":1,"mtime":1,"is_dir":false}\n"m":{"size":1,"mtime":1,"is_dir":false}\n}\n',
      '{\n"k":{"size":1,"mtime":1,"is_dir":false},\n}\n',
      '{\nk:{"size":1,"mtime":1,"is_dir":false}\n}\n',
      '{\n"k":{"size":1,"mtime":1}\n}\n',
      '{\n"k":{"size":"1","mtime":1,"is_dir":false}\n}\n',
      '{\n"k":{"size":1,"mtime":1,"is_dir":0}\n}\n',
      '{\n"k":{"size":1,"mtime":1,"is_dir":false,"hash":"\\x"}\n}\n',
      '{\n"k":{"size":1,"mtime":1,"is_dir":false,"hash":"a\tb"}\n}\n',
      '{\n"k":3\n}\n',
    ]) {
      expect(readTreeLines(text, FILE), text).toBeNull();
      const error = errorOf(() => parseTree(text, FILE));
      expect(isSyncError(error, 'STATE_CORRUPT'), text).toBe(true);
      expect((error as Error).message).toContain(FILE);
    }
  });

  it('reports a tree file cut short anywhere as STATE_CORRUPT', () => {
    const text = textOf(treeOf(file('a'), file('b"q'), file('ü/😀'), file('d', { isDir: true, size: 0 })));
    for (let length = 0; length < text.length - 1; length++) {
      const cut = text.slice(0, length);
      expect(readTreeLines(cut, FILE), JSON.stringify(cut)).toBeNull();
      expect(
        isSyncError(
          errorOf(() => parseTree(cut, FILE)),
          'STATE_CORRUPT',
        ),
        JSON.stringify(cut),
      ).toBe(true);
    }
    // Only the final newline missing: still the whole object.
    expect(parseTree(text.slice(0, -1), FILE).size).toBe(4);
  });

  it('reads every written tree, and every damaged one, exactly as JSON.parse does', () => {
    const unit = fc.constantFrom('a', 'é', '"', '\\', '\n', ':', '{', '}', ',', '\u0001', '\ud800', '😀');
    const text = fc.string({ unit, maxLength: 6 });
    const entry = fc.record(
      {
        size: fc.oneof(fc.nat(), fc.constant(2 ** 53 - 1)),
        mtime: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
        isDir: fc.boolean(),
        hash: text,
        hashAlgorithm: text,
        id: text,
      },
      { requiredKeys: ['size', 'mtime', 'isDir'] },
    );
    const tree = fc
      .uniqueArray(fc.tuple(text, entry), { selector: ([path]) => path, minLength: 1, maxLength: 6 })
      .map((rows) => new Map(rows.map(([path, value]) => [path, { path, ...value } as Entry])));
    fc.assert(
      fc.property(
        tree,
        fc.nat(),
        fc.constantFrom('', '"', ',', '\n', '}', '0', '\\', ' '),
        (tree, at, put) => {
          const written = textOf(tree);
          // Null from the reader in place leaves it to the full parse.
          const inPlace = readTreeLines(written, FILE);
          if (inPlace !== null) expect(inPlace).toEqual(viaJsonParse(written));
          expect(parseTree(written, FILE)).toEqual(viaJsonParse(written));
          const index = at % written.length;
          // A file holds bytes: a damage that splits a surrogate pair reads back as U+FFFD.
          const damaged = Buffer.from(written.slice(0, index) + put + written.slice(index + 1));
          const expected = viaJsonParse(damaged.toString('utf8'));
          const read = readTreeLines(damaged, FILE);
          if (expected === 'corrupt') expect(read).toBeNull();
          else if (read !== null) expect(read).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
