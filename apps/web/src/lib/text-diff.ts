import { structuredPatch } from 'diff';

/** One line of a diff: in both versions, only in the source's, only in the destination's. */
export interface DiffLine {
  kind: 'same' | 'source' | 'destination';
  text: string;
}

/** A run of diff lines, with where it starts in each version (1-based). */
export interface DiffHunk {
  sourceStart: number;
  destinationStart: number;
  lines: DiffLine[];
}

/**
 * Two texts compared line by line: `same` when they are equal; `changes` with the changed
 * lines and a few around them (cut after `maxLines`: `isCut`); `too-different` when more
 * than `maxEdits` lines differ, which would take long to work out and says nothing a
 * reader could follow.
 */
export type TextDiff =
  | { kind: 'same' }
  | { kind: 'too-different' }
  | { kind: 'changes'; hunks: DiffHunk[]; isCut: boolean; changed: number };

export const DIFF_CONTEXT_LINES = 3;
export const DIFF_MAX_LINES = 400;
export const DIFF_MAX_EDITS = 2_000;

/** The source's text against the destination's, as the conflict card shows it. */
export function diffTexts(
  source: string,
  destination: string,
  limits: { maxLines?: number; maxEdits?: number } = {},
): TextDiff {
  const maxLines = limits.maxLines ?? DIFF_MAX_LINES;
  const patch = structuredPatch('source', 'destination', source, destination, undefined, undefined, {
    context: DIFF_CONTEXT_LINES,
    maxEditLength: limits.maxEdits ?? DIFF_MAX_EDITS,
    // A bound on time as well, whatever the texts: the card must stay responsive.
    timeout: 500,
  });
  if (!patch) return { kind: 'too-different' };
  if (patch.hunks.length === 0) return { kind: 'same' };
  const hunks: DiffHunk[] = [];
  let shown = 0;
  let changed = 0;
  let isCut = false;
  for (const hunk of patch.hunks) {
    const lines: DiffLine[] = [];
    for (const line of hunk.lines) {
      // "\ No newline at end of file" is about the line before it, not a line of its own.
      if (line.startsWith('\\')) continue;
      const kind = line[0] === '-' ? 'source' : line[0] === '+' ? 'destination' : 'same';
      if (kind !== 'same') changed += 1;
      if (shown >= maxLines) {
        isCut = true;
        continue;
      }
      lines.push({ kind, text: line.slice(1) });
      shown += 1;
    }
    if (lines.length > 0) {
      hunks.push({ sourceStart: hunk.oldStart, destinationStart: hunk.newStart, lines });
    }
  }
  return { kind: 'changes', hunks, isCut, changed };
}
