/**
 * Maps one `bisync` step's rclone options onto an engine run. path1 is our source, path2
 * our destination, mode TWO_WAY.
 *
 * | rclone | ours |
 * |---|---|
 * | `resync` | a run with no last-known state (fresh state store): a merge that never deletes |
 * | `resync-mode=path1` (default) / `path2` / `newer` | conflict strategy of that first run: SOURCE_WINS / DESTINATION_WINS / NEWEST_WINS |
 * | `resync-mode=older` / `larger` / `smaller` | no built-in strategy: MANUAL with a handler that decides the same way |
 * | `dry-run` | `dryRun` |
 * | `force` | `force` |
 * | `max-delete=N` | `maxDeletePercent: N` (rclone's default is 50, as ours) |
 * | default comparison (size + modtime) | SIZE_AND_MTIME |
 * | `size-only` | SIZE_ONLY |
 * | `nomodtime` | HASH_ONLY (rclone ignores mtimes and confirms both-sided changes by hash) |
 * | `ignore-size` | MTIME_ONLY |
 * | `checksum` | HASH_ONLY |
 * | `compare-all` (size, modtime and checksum) | SIZE_AND_MTIME (no exact equivalent: a same-size, same-mtime content change goes unseen, as with rclone's default) |
 * | `conflict-resolve=none` (default) | MANUAL with a handler answering keep-both: both versions stay visible, as in rclone |
 * | `conflict-resolve=path1` / `path2` / `newer` | SOURCE_WINS / DESTINATION_WINS / NEWEST_WINS |
 * | `conflict-resolve=older` / `larger` / `smaller` | no built-in strategy: MANUAL with a handler that decides the same way, keep-both on a tie |
 * | `conflict-loser=…`, `conflict-suffix=…` | naming only; ours names conflict copies `name.conflict-<UTC ts>-<side>.ext` and keeps a losing version in the versions area |
 * | `filters-file=F` | `ignorePatterns` = F translated (filters.ts) |
 * | `backupdir1=`, `backupdir2=` | the versions area `.syncengine/versions/` of each side (always on) |
 * | `create-empty-src-dirs` | `syncEmptyDirectories: true` (rclone's default leaves empty folders alone: `false`) |
 * | `remove-empty-dirs` | no equivalent option (see the differences table) |
 * | `check-access`, `check-filename=X` | `accessCheckFiles: [X]`, default `RCLONE_TEST` |
 * | `subdir=D` | both storages rooted at `D` inside path1 / path2 |
 */
import { readFileSync } from 'node:fs';
import type { ConflictHandler } from '../../../src/api.js';
import type { SyncConfig } from '../../../src/config.js';
import type {
  ComparisonMode,
  ConflictInfo,
  ConflictResolution,
  ConflictStrategy,
} from '../../../src/model.js';
import { translateRcloneFilterFile } from './filters.js';
import type { BisyncOption } from './scenario.js';

/** Options that only steer rclone's own bookkeeping; they change nothing in our run. */
const RCLONE_INTERNAL_OPTIONS = new Set([
  'ignore-listing-checksum',
  'no-check-sync',
  'check-sync-only',
  'debugname',
  'no-cleanup',
  'resilient',
  'recover',
]);

/** An engine run derived from one `bisync` line. */
export interface MappedRun {
  resync: boolean;
  config: Partial<SyncConfig>;
  onConflict?: ConflictHandler;
  /** rclone's conflict-resolve (or resync-mode) in force, for reports. */
  conflictRule: string;
  subdir?: string;
  backupDirs: { path1?: string; path2?: string };
  /** Options accepted without effect (rclone internals). */
  ignoredOptions: string[];
  /** Options with no mapping at all. */
  unsupportedOptions: string[];
  hasFilters: boolean;
}

type Decider = (conflict: ConflictInfo) => ConflictResolution;

/** rclone's `older` / `larger` / `smaller` rules as a MANUAL decision; a tie keeps both, as rclone does. */
function decider(rule: 'older' | 'larger' | 'smaller'): Decider {
  return ({ source, destination }) => {
    if (!source || !destination) return 'keep-both';
    const [a, b] =
      rule === 'older'
        ? [destination.mtime, source.mtime]
        : rule === 'larger'
          ? [source.size, destination.size]
          : [destination.size, source.size];
    // Within 2 s counts as equal mtimes (SPEC §5).
    if (rule === 'older' ? Math.abs(a - b) <= 2000 : a === b) return 'keep-both';
    return a > b ? 'source' : 'destination';
  };
}

function strategyFor(rule: string): { strategy: ConflictStrategy; decide?: Decider } {
  switch (rule) {
    case 'path1':
      return { strategy: 'SOURCE_WINS' };
    case 'path2':
      return { strategy: 'DESTINATION_WINS' };
    case 'newer':
      return { strategy: 'NEWEST_WINS' };
    case 'older':
    case 'larger':
    case 'smaller':
      return { strategy: 'MANUAL', decide: decider(rule) };
    case 'none':
      return { strategy: 'MANUAL', decide: () => 'keep-both' };
    default:
      throw new Error(`unknown conflict rule "${rule}"`);
  }
}

function comparisonFor(names: Set<string>): ComparisonMode {
  if (names.has('checksum')) return 'HASH_ONLY';
  // rclone's nomodtime compares sizes but confirms both-sided changes by content; HASH_ONLY
  // is our mode that ignores mtimes and still compares content.
  if (names.has('nomodtime')) return 'HASH_ONLY';
  if (names.has('size-only')) return 'SIZE_ONLY';
  if (names.has('ignore-size')) return 'MTIME_ONLY';
  return 'SIZE_AND_MTIME';
}

export function mapBisyncOptions(options: BisyncOption[]): MappedRun {
  const names = new Set(options.map((option) => option.name));
  const value = (name: string) => options.find((option) => option.name === name)?.value;
  const resync = names.has('resync');
  const rule = resync ? (value('resync-mode') ?? 'path1') : (value('conflict-resolve') ?? 'none');
  const { strategy, decide } = strategyFor(rule);
  const accessFile = value('check-filename') ?? 'RCLONE_TEST';
  const config: Partial<SyncConfig> = {
    mode: 'TWO_WAY',
    comparisonMode: comparisonFor(names),
    conflictResolution: strategy,
    dryRun: names.has('dry-run'),
    force: names.has('force'),
    syncEmptyDirectories: names.has('create-empty-src-dirs'),
    accessCheckFiles: names.has('check-access') ? [accessFile] : [],
    ignorePatterns: [],
  };
  const maxDelete = value('max-delete');
  if (maxDelete !== undefined) config.maxDeletePercent = Number(maxDelete);
  const filtersFile = value('filters-file');
  if (filtersFile !== undefined)
    config.ignorePatterns = translateRcloneFilterFile(readFileSync(filtersFile, 'utf8'));

  const known = new Set([
    'resync',
    'resync-mode',
    'conflict-resolve',
    'conflict-loser',
    'conflict-suffix',
    'dry-run',
    'force',
    'max-delete',
    'create-empty-src-dirs',
    'remove-empty-dirs',
    'check-access',
    'check-filename',
    'size-only',
    'nomodtime',
    'ignore-size',
    'checksum',
    'compare-all',
    'filters-file',
    'backupdir1',
    'backupdir2',
    'subdir',
    // Ours always compares NFC-normalised names (SPEC §1).
    'norm',
    // No equivalent: names differing in case stay distinct files (differences.ts, CASE-DISTINCT).
    'fix-case',
  ]);
  const mapped: MappedRun = {
    resync,
    config,
    conflictRule: rule,
    backupDirs: { path1: value('backupdir1'), path2: value('backupdir2') },
    ignoredOptions: options.filter((option) => RCLONE_INTERNAL_OPTIONS.has(option.name)).map((o) => o.name),
    unsupportedOptions: options
      .filter((option) => !known.has(option.name) && !RCLONE_INTERNAL_OPTIONS.has(option.name))
      .map((option) => option.name),
    hasFilters: filtersFile !== undefined,
  };
  const subdir = value('subdir');
  if (subdir !== undefined) mapped.subdir = subdir;
  if (decide) mapped.onConflict = async (conflict) => decide(conflict);
  return mapped;
}
