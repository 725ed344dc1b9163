/**
 * Compares a tree our engine left with rclone's golden listing of the same moment,
 * applying the documented mappings of differences.ts (conflict copies, versions area).
 */
import type { ListedFile, Listing, VersionedFile } from './listing.js';

export interface CompareContext {
  /** Days (`YYYY-MM-DD`) the scenario pins mtimes to; other golden mtimes are not compared. */
  pinnedDates: Set<string>;
  /** rclone conflict suffixes in use (`conflict` by default, plus every `conflict-suffix=` value). */
  conflictSuffixes: string[];
  /**
   * Files in the versions areas of both sides, plus versions a later scenario step overwrote
   * at their live name (rclone had renamed them aside, so the same step created a new file there).
   */
  versions: VersionedFile[];
  /** rclone ran with --fix-case / --ignore-case-sync: its listing merges names that differ in case only. */
  caseInsensitiveGolden?: boolean;
}

export interface ComparisonOutcome {
  problems: string[];
  /** Ids of the differences (differences.ts) this comparison relied on. */
  mappingsUsed: Set<string>;
}

const MTIME_TOLERANCE_MS = 2000;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `file5.txt.conflict1` → `file5.txt` for rclone's conflict copies (any suffix in use, numbered). */
export function rcloneConflictBase(name: string, suffixes: string[]): string | null {
  const alternatives = suffixes.map(escapeRegExp).join('|');
  const match = new RegExp(`^(.+?)\\.(?:${alternatives})\\d+$`, 'u').exec(name);
  return match ? (match[1] as string) : null;
}

/** `dir/file5.conflict-20260101T000000Z-source.txt` → `dir/file5.txt` for our conflict copies. */
export function ourConflictBase(name: string): string | null {
  const match = /^(.+?)\.conflict-\d{8}T\d{6}Z-(?:source|destination)(\.[^./]+)?$/u.exec(name);
  return match ? `${match[1]}${match[2] ?? ''}` : null;
}

function isPinned(golden: ListedFile, context: CompareContext): boolean {
  const iso = new Date(golden.mtime).toISOString();
  return iso.endsWith('T00:00:00.000Z') && context.pinnedDates.has(iso.slice(0, 10));
}

/** Same size, and same mtime (±2 s) where the golden mtime is one the scenario pinned. */
export function sameFile(golden: ListedFile, ours: ListedFile, context: CompareContext): boolean {
  if (golden.size !== ours.size) return false;
  return !isPinned(golden, context) || Math.abs(golden.mtime - ours.mtime) <= MTIME_TOLERANCE_MS;
}

const describe = (file: ListedFile | undefined) =>
  file ? `${file.size} B, ${new Date(file.mtime).toISOString()}` : 'missing';

/**
 * Rules: every plain golden file must be ours with the same size (and pinned mtime). A
 * golden conflict copy (`NAME.conflict1`, …) is matched by any of: our file at NAME, our
 * conflict copy of NAME, or NAME in a versions area, holding the same version (mapping
 * CONFLICT-COPIES). Our files beyond the golden ones are allowed only at a conflict copy's
 * NAME (CONFLICT-COPIES), or as our conflict copy of a NAME that golden has as a plain file
 * (EXTRA-CONFLICT-COPY: we kept both versions where rclone silently kept one; the one rclone
 * kept must be among ours).
 */
export function compareListing(
  label: string,
  golden: Listing,
  ours: Listing,
  context: CompareContext,
  /** Names written behind the engine's back during the last run: rclone's listing leaves them out. */
  volatile: Set<string> = new Set(),
): ComparisonOutcome {
  const problems: string[] = [];
  const mappingsUsed = new Set<string>();
  const goldenConflicts = new Map<string, Array<[string, ListedFile]>>();
  const goldenPlain = new Map<string, ListedFile>();
  for (const [name, file] of golden) {
    const base = rcloneConflictBase(name, context.conflictSuffixes);
    if (base !== null) {
      const group = goldenConflicts.get(base) ?? [];
      group.push([name, file]);
      goldenConflicts.set(base, group);
    } else goldenPlain.set(name, file);
  }
  const ourConflicts = new Map<string, Array<[string, ListedFile]>>();
  const ourPlain = new Map<string, ListedFile>();
  for (const [name, file] of ours) {
    const base = ourConflictBase(name);
    if (base !== null) {
      const group = ourConflicts.get(base) ?? [];
      group.push([name, file]);
      ourConflicts.set(base, group);
    } else ourPlain.set(name, file);
  }

  const claimed = new Set<string>();
  for (const [name, file] of goldenPlain) {
    const mine = ourPlain.get(name);
    if (mine && sameFile(file, mine, context)) continue;
    if (context.caseInsensitiveGolden) {
      const variant = [...ourPlain].find(
        ([ourName, kept]) => ourName.toLowerCase() === name.toLowerCase() && sameFile(file, kept, context),
      );
      if (variant) {
        mappingsUsed.add('CASE-DISTINCT');
        continue;
      }
    }
    // Both versions kept: rclone's pick is our conflict copy, the other version is at NAME.
    const copy = (ourConflicts.get(name) ?? []).find(([, kept]) => sameFile(file, kept, context));
    if (mine && copy) {
      claimed.add(copy[0]);
      mappingsUsed.add('EXTRA-CONFLICT-COPY');
      continue;
    }
    problems.push(`${label}: ${name}: expected ${describe(file)}, got ${describe(mine)}`);
  }

  for (const [base, group] of goldenConflicts) {
    mappingsUsed.add('CONFLICT-COPIES');
    for (const [name, file] of group) {
      const live = goldenPlain.has(base) ? undefined : ourPlain.get(base);
      const copy = (ourConflicts.get(base) ?? []).find(
        ([ourName, mine]) => !claimed.has(ourName) && sameFile(file, mine, context),
      );
      const versioned = context.versions.find(
        (version) => version.path === base && sameFile(file, version, context),
      );
      if (live && sameFile(file, live, context) && !claimed.has(base)) claimed.add(base);
      else if (copy) claimed.add(copy[0]);
      else if (!versioned) {
        problems.push(
          `${label}: rclone's conflict copy ${name} (${describe(file)}) is neither our ${base}, our conflict copy of it, nor in a versions area`,
        );
      }
    }
  }

  for (const [name, mine] of ourPlain) {
    if (goldenPlain.has(name) || volatile.has(name)) continue;
    if (
      context.caseInsensitiveGolden &&
      [...goldenPlain.keys()].some((g) => g.toLowerCase() === name.toLowerCase())
    ) {
      mappingsUsed.add('CASE-DISTINCT');
      continue;
    }
    const group = goldenConflicts.get(name);
    if (group?.some(([, file]) => sameFile(file, mine, context))) continue;
    problems.push(`${label}: unexpected ${name} (${describe(mine)})`);
  }
  for (const [base, group] of ourConflicts) {
    for (const [name, mine] of group) {
      if (claimed.has(name)) continue;
      if (goldenPlain.has(base) && ourPlain.has(base)) {
        mappingsUsed.add('EXTRA-CONFLICT-COPY');
        continue;
      }
      if (goldenConflicts.get(base)?.some(([, file]) => sameFile(file, mine, context))) continue;
      problems.push(`${label}: unexpected conflict copy ${name} (${describe(mine)})`);
    }
  }
  return { problems, mappingsUsed };
}

/** Compares two listings exactly (names, sizes, mtimes): "nothing changed". */
export function diffListings(before: Listing, after: Listing): string[] {
  const changes: string[] = [];
  for (const [name, file] of before) {
    const now = after.get(name);
    if (!now) changes.push(`${name} deleted`);
    else if (now.size !== file.size || Math.abs(now.mtime - file.mtime) > 1) changes.push(`${name} changed`);
  }
  for (const name of after.keys()) if (!before.has(name)) changes.push(`${name} created`);
  return changes;
}
