/**
 * THE table of deliberate differences between rclone bisync and our engine, and of the
 * cases that test rclone internals only. The runner maps an expectation only through an
 * entry here, and reports which entries each case relied on.
 */

export interface Difference {
  id: string;
  /** Where it shows up in the suite. */
  cases: string;
  rclone: string;
  ours: string;
  /** Why ours is at least as safe. */
  whySafe: string;
}

export const DIFFERENCES: Difference[] = [
  {
    id: 'CONFLICT-COPIES',
    cases:
      'test_changes, test_backupdir, test_compare_all, test_dry_run, test_equal, test_extended_filenames, test_nomodtime, test_resolve, test_volatile',
    rclone:
      'renames both versions to NAME.conflict1 / NAME.conflict2 (or its conflict-suffix / pathname form) on both sides, leaving no NAME; conflict-loser=delete deletes the loser',
    ours: 'keep-both leaves one version at NAME and the other as name.conflict-<UTC ts>-<side>.ext; a strategy with a winner puts the winner at NAME and moves the loser into the versions area',
    whySafe:
      'every version rclone keeps is still there (live file, conflict copy, or versions area), checked version by version; and NAME keeps a valid file instead of vanishing. (When a later scenario step writes NAME again, it replaces the version we kept there, where rclone had moved it aside; the runner counts a version that a scenario step replaced as kept, since the engine did not lose it.)',
  },
  {
    id: 'CHANGED-DURING-RUN',
    cases: 'test_concurrent, test_volatile',
    rclone:
      'copies a file that changed after it was listed as it is at copy time, records it, and reports success',
    ours: 'notices the file changed since the scan, leaves it (and its conflict, if any) for the next run, records nothing for it, and reports it as deferred (a CHANGED_DURING_TRANSFER warning)',
    whySafe:
      'never records an unverified state as synced (SPEC §8); the next run syncs the file, and the final trees match',
  },
  {
    id: 'CASE-DISTINCT',
    cases: 'test_normalization',
    rclone:
      '--fix-case / --ignore-case-sync treat names differing only in case as one file, renaming to one spelling',
    ours: 'on a case-sensitive file system names differing in case are distinct files and are both kept (SPEC §8 reports, and never merges, case collisions on case-insensitive sides); no option merges them',
    whySafe:
      'two distinct files are never merged into one, so neither version can be overwritten by the other',
  },
  {
    id: 'EXTRA-CONFLICT-COPY',
    cases: 'test_resync_modes, test_normalization',
    rclone:
      'keeps one version where ours keeps two: a resync whose resync-mode finds no winner (equal mtimes) silently copies one side over the other; and a file new or changed on both sides with equal content but different mtimes is confirmed equal by hash, and the newer mtime copied',
    ours: "resolves the pair as a conflict: NEWEST_WINS with equal mtimes, or keep-both under SIZE_AND_MTIME (rclone's size+modtime comparison, which sees the mtimes differ), keeps both versions (one at NAME, the other as a conflict copy)",
    whySafe: 'no version is overwritten; the version rclone kept is one of ours, checked by size and mtime',
  },
  {
    id: 'VERSIONS-AREA',
    cases: 'every case that overwrites or deletes; test_backupdir',
    rclone: 'overwrites and deletes in place, or moves the old file into --backup-dir1/2 when given',
    ours: "always moves the old file into the side's .syncengine/versions/<UTC ts>/<path> (hidden from listings); backupdir1/2 map to it, and every file rclone put in a backup dir is checked to be in our versions area of that side",
    whySafe: 'nothing overwritten or deleted is lost, with or without a backup-dir option',
  },
  {
    id: 'BACKUPDIR-OVERLAP',
    cases: 'test_backupdir (last run)',
    rclone: 'refuses a backup dir inside the synced path ("mustn\'t overlap") and locks out until --resync',
    ours: 'has no configurable backup dir: the versions area is its own folder, always excluded from sync, so the run proceeds (and here changes nothing)',
    whySafe:
      'the overlap rclone guards against (backups syncing back as user files) cannot happen with an excluded engine folder',
  },
  {
    id: 'LOCKOUT',
    cases: 'test_check_access, test_filtersfile_checks',
    rclone:
      'after a critical abort, renames its listings and refuses every run ("cannot find prior listings") until --resync',
    ours: 'keeps its last-known state and evaluates every guard (access check, max-delete) again on each run',
    whySafe:
      'the guard that stopped the first run stops every later run for as long as its cause persists; the state is never discarded',
  },
  {
    id: 'FILTERS-CHANGED',
    cases: 'test_filtersfile_checks',
    rclone: 'refuses to run when the filters file is new or changed since the last --resync (MD5 check)',
    ours: 'applies the new ignore patterns at once',
    whySafe:
      'ignored paths are neither scanned nor changed on either side, and paths that become visible are merged like new files: a filter change never deletes anything',
  },
  {
    id: 'ALL-CHANGED',
    cases: 'test_all_changed',
    rclone: 'aborts when every file of a side changed (e.g. all mtimes touched) unless --force',
    ours: 'has no all-changed guard: it propagates the changes',
    whySafe:
      'each overwritten file is first moved to the versions area, so a wholesale change is reversible; the max-delete guard still stops mass deletion',
  },
  {
    id: 'EMPTY-DIRS',
    cases: 'test_rmdirs',
    rclone: '--remove-empty-dirs deletes every empty folder on both sides at the end of the run',
    ours: 'deletes a folder only when it was deleted on one side (syncEmptyDirectories); an empty folder present on both sides stays',
    whySafe: 'never removes a folder that no side removed',
  },
  {
    id: 'NAME-FORMS',
    cases: 'test_extended_filenames, test_ext_paths, test_normalization',
    rclone: 'lists names as stored (its local backend shows control characters as U+2400–U+241F)',
    ours: 'paths are NFC-normalised (SPEC §1); listings are compared in NFC with control characters shown as rclone shows them',
    whySafe: 'a naming convention only; no file is dropped or merged by it',
  },
];

/** Cases that exercise rclone internals only, with the reason. */
export const NOT_APPLICABLE: Record<string, string> = {
  test_check_sync:
    "tests --check-sync-only, rclone's integrity check of its own listing files against injected listings",
  test_ignorelistingchecksum:
    "tests --ignore-listing-checksum, a flag about checksums stored in rclone's listing files",
  test_rclone_args:
    'tests that rclone passes its own CLI flags (--checksum, --size-only, --ignore-size, --compare) through to its sync layer',
};

export function differenceTableMarkdown(): string {
  const rows = DIFFERENCES.map(
    (difference) =>
      `| ${difference.id} | ${difference.cases} | ${difference.rclone} | ${difference.ours} | ${difference.whySafe} |`,
  );
  return [
    '| id | cases | rclone | ours | why ours is at least as safe |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
