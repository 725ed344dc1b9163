import { describe, expect, it } from 'vitest';
import { file, tree } from '../../test/planner-fixtures.js';
import { conflictFileName, findCaseCollisions } from './names.js';

const AT = Date.UTC(2026, 10, 26, 4, 28, 0, 123);

describe('conflictFileName', () => {
  it.each([
    ['report.pdf', 'source', 'report.conflict-20261126T042800Z-source.pdf'],
    ['docs/report.final.pdf', 'destination', 'docs/report.final.conflict-20261126T042800Z-destination.pdf'],
    ['Makefile', 'source', 'Makefile.conflict-20261126T042800Z-source'],
    ['home/.bashrc', 'source', 'home/.bashrc.conflict-20261126T042800Z-source'],
    ['.env.local', 'destination', '.env.conflict-20261126T042800Z-destination.local'],
    ['dir.v2/notes', 'source', 'dir.v2/notes.conflict-20261126T042800Z-source'],
    ['trailing.', 'source', 'trailing..conflict-20261126T042800Z-source'],
  ] as const)('names the losing version of %s at the %s', (path, side, expected) => {
    expect(conflictFileName(path, AT, side)).toBe(expected);
  });
});

describe('findCaseCollisions', () => {
  it('groups paths that differ only in case', () => {
    const collisions = findCaseCollisions(
      tree(
        file('README.md', 'a'),
        file('docs/x', 'b'),
        file('Readme.md', 'c'),
        file('Docs/x', 'd'),
        file('unique', 'e'),
      ),
    );
    expect(collisions).toEqual([
      ['Docs/x', 'docs/x'],
      ['README.md', 'Readme.md'],
    ]);
  });

  it('finds nothing in a tree without such paths', () => {
    expect(findCaseCollisions(tree(file('a', ''), file('b', '')))).toEqual([]);
  });
});
