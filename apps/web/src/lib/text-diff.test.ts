import { describe, expect, it } from 'vitest';
import { diffTexts } from './text-diff.js';

describe('diffTexts', () => {
  it('marks the lines only in the source and only in the destination, with the lines around them', () => {
    const diff = diffTexts('title\nmilk\neggs\nbread\n', 'title\nmilk\noat milk\nbread\n');
    expect(diff).toEqual({
      kind: 'changes',
      isCut: false,
      changed: 2,
      hunks: [
        {
          sourceStart: 1,
          destinationStart: 1,
          lines: [
            { kind: 'same', text: 'title' },
            { kind: 'same', text: 'milk' },
            { kind: 'source', text: 'eggs' },
            { kind: 'destination', text: 'oat milk' },
            { kind: 'same', text: 'bread' },
          ],
        },
      ],
    });
  });

  it('keeps only a few lines around each change, in separate runs', () => {
    const lines = Array.from({ length: 40 }, (_, index) => `line ${index + 1}`);
    const edited = [...lines];
    edited[1] = 'line two';
    edited[35] = 'line thirty-six';
    const diff = diffTexts(`${lines.join('\n')}\n`, `${edited.join('\n')}\n`);
    expect(diff.kind).toBe('changes');
    if (diff.kind !== 'changes') return;
    expect(diff.hunks.map((hunk) => [hunk.sourceStart, hunk.lines.length])).toEqual([
      [1, 6],
      [33, 8],
    ]);
    expect(diff.hunks[1]?.lines.filter((line) => line.kind === 'destination')).toEqual([
      { kind: 'destination', text: 'line thirty-six' },
    ]);
  });

  it('says when the texts are the same, and ignores a missing last newline as a line of its own', () => {
    expect(diffTexts('a\nb\n', 'a\nb\n')).toEqual({ kind: 'same' });
    const diff = diffTexts('a\nb', 'a\nc');
    expect(diff.kind === 'changes' && diff.hunks[0]?.lines.map((line) => line.text)).toEqual(['a', 'b', 'c']);
  });

  it('stops showing lines after the limit but still counts every change', () => {
    const source = Array.from({ length: 50 }, (_, index) => `s${index}`).join('\n');
    const destination = Array.from({ length: 50 }, (_, index) => `d${index}`).join('\n');
    const diff = diffTexts(source, destination, { maxLines: 10 });
    expect(diff.kind).toBe('changes');
    if (diff.kind !== 'changes') return;
    expect(diff.isCut).toBe(true);
    expect(diff.changed).toBe(100);
    expect(diff.hunks.flatMap((hunk) => hunk.lines)).toHaveLength(10);
  });

  it('gives up on texts that differ in more lines than it compares', () => {
    const source = Array.from({ length: 300 }, (_, index) => `s${index}`).join('\n');
    const destination = Array.from({ length: 300 }, (_, index) => `d${index}`).join('\n');
    expect(diffTexts(source, destination, { maxEdits: 100 })).toEqual({ kind: 'too-different' });
  });
});
