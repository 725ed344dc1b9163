import type { PlanInput } from '../api.js';
import type { SyncConfig } from '../config.js';
import { SyncError } from '../errors.js';
import type {
  ActionType,
  ConflictResolution,
  Entry,
  Plan,
  PlannedAction,
  Side,
  SyncMode,
  Tree,
} from '../model.js';
import {
  type Change,
  detectChange,
  hasComparableHashes,
  isIdentical,
  isNewer,
  isSameMtime,
} from './compare.js';
import { findRenames } from './renames.js';

const MODE_LABELS: Record<SyncMode, string> = {
  TWO_WAY: 'two-way',
  SOURCE_TO_DESTINATION: 'source-to-destination',
  SOURCE_BACKUP: 'source-backup',
  DESTINATION_TO_SOURCE: 'destination-to-source',
  DESTINATION_BACKUP: 'destination-backup',
};

const EMPTY_TREE: Tree = new Map();

const other = (side: Side): Side => (side === 'source' ? 'destination' : 'source');
const fileBytes = (entry: Entry | undefined | null) => (entry && !entry.isDir ? entry.size : 0);
const changeLabel = (change: Change) => (change === 'absent' ? 'none' : change);

/** Copies the authoritative side's version across: UPLOAD_* from the source, DOWNLOAD_* from the destination. */
const copyType = (from: Side, kind: 'NEW' | 'UPDATE' | 'RESTORE'): ActionType =>
  from === 'source' ? `UPLOAD_${kind}` : `DOWNLOAD_${kind}`;
const deleteType = (at: Side): ActionType => (at === 'source' ? 'DELETE_SOURCE' : 'DELETE_DESTINATION');
const renameType = (at: Side): ActionType => (at === 'source' ? 'RENAME_SOURCE' : 'RENAME_DESTINATION');

/** The side an action writes to or deletes from; null for NO_ACTION and CONFLICT. */
function targetSide(type: ActionType): Side | null {
  if (type.startsWith('UPLOAD_') || type === 'DELETE_DESTINATION' || type === 'RENAME_DESTINATION') {
    return 'destination';
  }
  if (type.startsWith('DOWNLOAD_') || type === 'DELETE_SOURCE' || type === 'RENAME_SOURCE') return 'source';
  return null;
}

const isTransfer = (type: ActionType) => type.startsWith('UPLOAD_') || type.startsWith('DOWNLOAD_');
const isDelete = (type: ActionType) => type === 'DELETE_SOURCE' || type === 'DELETE_DESTINATION';

/** One path's view: the entries on both sides now and each side's change against its last-known record. */
interface PathView {
  path: string;
  entries: Record<Side, Entry | undefined>;
  changes: Record<Side, Change>;
}

/** What the planner works with: both sides now, both sides' records, the settings and the reason prefix. */
interface Context {
  trees: Record<Side, Tree>;
  records: Record<Side, Tree>;
  config: SyncConfig;
  isFirstSync: boolean;
  /** Paths left out of the run on both sides (`PlanInput.leftOut`). */
  leftOut: ReadonlySet<string>;
  /** `two-way`, `first sync`, `source-backup`, `first sync (source-backup)`, … */
  prefix: string;
}

/**
 * Refuses HASH_ONLY when a file has no hash to compare (SPEC §5: "a missing hash is a clear
 * error before anything is changed"), or when a path's two hashes are in different
 * algorithms and so cannot be compared. Call it after hashing what `hashNeeds` asked for;
 * `planSync` calls it too. Other comparison modes never throw.
 */
export function assertHashesAvailable(input: PlanInput): void {
  if (input.config.comparisonMode !== 'HASH_ONLY') return;
  for (const side of ['source', 'destination'] as const) {
    for (const [path, entry] of input[side]) {
      if (!entry.isDir && entry.hash === undefined) {
        throw new SyncError(
          'HASH_UNAVAILABLE',
          `HASH_ONLY comparison needs a content hash of "${path}" at the ${side}, and none is available; ` +
            'that backend cannot hash this file, so choose another comparison mode',
          { path },
        );
      }
    }
  }
  for (const [path, source] of input.source) {
    const destination = input.destination.get(path);
    if (source.isDir || !destination || destination.isDir) continue;
    if (source.hashAlgorithm !== destination.hashAlgorithm) {
      throw new SyncError(
        'HASH_UNAVAILABLE',
        `HASH_ONLY comparison cannot compare "${path}": the source hash is ${source.hashAlgorithm ?? 'of no known algorithm'} ` +
          `and the destination hash is ${destination.hashAlgorithm ?? 'of no known algorithm'}`,
        { path },
      );
    }
  }
}

/**
 * True when neither side changed since the last sync: both sides hold exactly the recorded
 * paths, every file as its record itself (a scan hands unchanged files their records, see
 * `ListOptions.known`) and every folder with its recorded id. Then `planSync` plans nothing
 * and `hashNeeds` asks for nothing, whatever the mode, so a caller may skip both (and
 * checking this costs one lookup per path). Always false for HASH_ONLY, which must see a
 * hash for every file, and on a first sync.
 */
export function isUnchangedSinceLastSync(input: PlanInput): boolean {
  const { lastKnown } = input;
  if (!lastKnown || input.config.comparisonMode === 'HASH_ONLY') return false;
  const trees = { source: input.source, destination: input.destination };
  if (trees.source.size !== trees.destination.size) return false;
  for (const side of ['source', 'destination'] as const) {
    const records = lastKnown[side];
    if (records.size !== trees[side].size) return false;
    for (const [path, entry] of trees[side]) {
      const record = records.get(path);
      if (record === entry) continue;
      if (!record?.isDir || !entry.isDir || record.id !== entry.id) return false;
    }
  }
  // Same sizes, and every path of a tree is in its records: the two trees share their paths
  // when every source path is at the destination too.
  for (const path of trees.source.keys()) if (!trees.destination.has(path)) return false;
  return true;
}

/**
 * Plans one sync run: a pure, deterministic function of both sides' trees, the last-known
 * state and the configuration (SPEC §2–§6). Entries should already carry the hashes that
 * `hashNeeds` asked for.
 *
 * Every action says which table cell produced it (`reason`), the bytes it will move and
 * the entries seen on each side. Renames come first, then transfers, conflicts, deletes
 * (deepest path first) and NO_ACTION bookkeeping, each group sorted by path. NO_ACTION
 * asks the executor to record the path as both sides hold it now: identical on both sides
 * but not yet recorded, gone from both sides (forget it), or a copy a backup mode keeps on
 * one side only. Unchanged paths get no action.
 *
 * Throws `SyncError('HASH_UNAVAILABLE')` for HASH_ONLY with a missing hash.
 */
export function planSync(input: PlanInput): Plan {
  assertHashesAvailable(input);
  const { config, lastKnown } = input;
  const isFirstSync = lastKnown === null;
  const label = MODE_LABELS[config.mode];
  const context: Context = {
    trees: { source: input.source, destination: input.destination },
    records: { source: lastKnown?.source ?? EMPTY_TREE, destination: lastKnown?.destination ?? EMPTY_TREE },
    config,
    isFirstSync,
    leftOut: input.leftOut ?? new Set(),
    prefix: isFirstSync ? (config.mode === 'TWO_WAY' ? 'first sync' : `first sync (${label})`) : label,
  };

  const actions: PlannedAction[] = [];
  const handled = new Set<string>();
  const clashes = findTypeClashes(context);
  for (const [path, subtree] of clashes) {
    actions.push(planTypeClash(context, viewOf(context, path), subtree));
    handled.add(path);
    for (const below of subtree) handled.add(below);
  }
  if (config.detectRenames && !isFirstSync) {
    for (const side of ['source', 'destination'] as const) {
      for (const [from, to] of findRenames(
        context.trees[side],
        context.records[side],
        config.comparisonMode,
      )) {
        if (handled.has(from) || handled.has(to)) continue;
        const planned = planRename(context, side, from, to);
        if (!planned) continue;
        actions.push(...planned);
        handled.add(from);
        handled.add(to);
      }
    }
  }

  const comparison = config.comparisonMode;
  for (const path of allPaths(context)) {
    if (handled.has(path)) continue;
    // Fast path for the common case, a path unchanged on both sides: no action in any mode.
    const source = context.trees.source.get(path);
    const destination = context.trees.destination.get(path);
    // A scan hands an unchanged file its record itself (`ListOptions.known`): nothing to compare.
    if (
      source !== undefined &&
      source === context.records.source.get(path) &&
      destination === context.records.destination.get(path) &&
      source.isDir === destination?.isDir
    ) {
      continue;
    }
    if (
      source &&
      destination &&
      source.isDir === destination.isDir &&
      detectChange(source, context.records.source.get(path), comparison) === 'unchanged' &&
      detectChange(destination, context.records.destination.get(path), comparison) === 'unchanged'
    ) {
      continue;
    }
    const action = planPath(context, viewOf(context, path));
    if (action) actions.push(action);
  }

  keepDirectoriesThatStayOccupied(context, actions);
  sortActions(actions);
  return { actions, totals: totalsOf(context, actions), isFirstSync, warnings: [] };
}

/** Every path of both sides and both records, each once, without building a union set. */
function* allPaths(context: Context): Generator<string> {
  const { trees, records } = context;
  yield* trees.source.keys();
  for (const path of trees.destination.keys()) if (!trees.source.has(path)) yield path;
  for (const path of records.source.keys()) {
    if (!trees.source.has(path) && !trees.destination.has(path)) yield path;
  }
  for (const path of records.destination.keys()) {
    if (!trees.source.has(path) && !trees.destination.has(path) && !records.source.has(path)) yield path;
  }
}

function viewOf(context: Context, path: string): PathView {
  const source = context.trees.source.get(path);
  const destination = context.trees.destination.get(path);
  const mode = context.config.comparisonMode;
  return {
    path,
    entries: { source, destination },
    changes: {
      source: detectChange(source, context.records.source.get(path), mode),
      destination: detectChange(destination, context.records.destination.get(path), mode),
    },
  };
}

function makeAction(context: Context, view: PathView, type: ActionType, reason: string): PlannedAction {
  const { source, destination } = view.entries;
  let bytes = 0;
  if (type.startsWith('UPLOAD_')) bytes = fileBytes(source);
  else if (type.startsWith('DOWNLOAD_')) bytes = fileBytes(destination);
  const seen =
    source ??
    destination ??
    context.records.source.get(view.path) ??
    context.records.destination.get(view.path);
  return {
    type,
    path: view.path,
    reason: `${context.prefix}: ${reason}`,
    bytes,
    source: source ?? null,
    destination: destination ?? null,
    isDir: seen?.isDir ?? false,
  };
}

/** The resolution a strategy picks at planning time (SPEC §6); undefined for MANUAL. */
function resolveConflict(
  context: Context,
  source: Entry,
  destination: Entry,
): ConflictResolution | undefined {
  switch (context.config.conflictResolution) {
    case 'MANUAL':
      return undefined;
    case 'SOURCE_WINS':
      return 'source';
    case 'DESTINATION_WINS':
      return 'destination';
    case 'NEWEST_WINS': {
      const comparison = context.config.comparisonMode;
      // These modes ignore mtimes, so "newest" means nothing: keep both.
      if (comparison === 'SIZE_ONLY' || comparison === 'HASH_ONLY') return 'keep-both';
      if (isNewer(source, destination)) return 'source';
      if (isNewer(destination, source)) return 'destination';
      return 'keep-both';
    }
  }
}

function conflictAction(
  context: Context,
  view: PathView,
  reason: string,
  resolution: ConflictResolution | undefined,
): PlannedAction {
  const source = view.entries.source ?? null;
  const destination = view.entries.destination ?? null;
  let bytes = fileBytes(source) + fileBytes(destination);
  if (resolution === 'source') bytes = fileBytes(source);
  else if (resolution === 'destination') bytes = fileBytes(destination);
  else if (resolution === 'skip') bytes = 0;
  return {
    type: 'CONFLICT',
    path: view.path,
    reason: `${context.prefix}: ${reason}`,
    bytes,
    source,
    destination,
    isDir: false,
    conflict: {
      path: view.path,
      source,
      destination,
      ...(resolution === undefined ? {} : { resolution }),
    },
  };
}

/** A side's change at a type clash, where both sides hold something now. */
type ClashChange = 'created' | 'unchanged' | 'modified';
type ClashCell = `${ClashChange} / ${ClashChange}`;

const typeName = (entry: Entry) => (entry.isDir ? 'folder' : 'file');
const authorityOf = (mode: SyncMode): Side =>
  mode === 'SOURCE_TO_DESTINATION' || mode === 'SOURCE_BACKUP' ? 'source' : 'destination';

/**
 * Paths where one side holds a file and the other a folder, each with every path below it
 * on either side or in the records, parents first. Clashes never nest: below one, only the
 * folder's side holds anything.
 */
function findTypeClashes(context: Context): Map<string, string[]> {
  const { trees, records } = context;
  const below = new Map<string, Set<string>>();
  for (const [path, source] of trees.source) {
    const destination = trees.destination.get(path);
    if (destination && destination.isDir !== source.isDir) below.set(path, new Set());
  }
  if (below.size === 0) return new Map();
  for (const tree of [trees.source, trees.destination, records.source, records.destination]) {
    for (const path of tree.keys()) {
      for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
        const paths = below.get(path.slice(0, slash));
        if (paths) {
          paths.add(path);
          break;
        }
      }
    }
  }
  const clashes = new Map<string, string[]>();
  for (const [path, paths] of below) {
    clashes.set(
      path,
      [...paths].sort((a, b) => (pathKey(a) < pathKey(b) ? -1 : 1)),
    );
  }
  return clashes;
}

/**
 * One side's change at a clash (SPEC §2), a type change counting as a modification. A
 * folder that stayed a folder is modified when anything below it changed on that side.
 */
function clashChange(context: Context, side: Side, path: string, subtree: readonly string[]): ClashChange {
  const entry = context.trees[side].get(path)!;
  const record = context.records[side].get(path);
  const mode = context.config.comparisonMode;
  if (!record) return 'created';
  if (record.isDir !== entry.isDir) return 'modified';
  if (!entry.isDir) return detectChange(entry, record, mode) === 'unchanged' ? 'unchanged' : 'modified';
  for (const below of subtree) {
    const change = detectChange(context.trees[side].get(below), context.records[side].get(below), mode);
    if (change !== 'unchanged' && change !== 'absent') return 'modified';
  }
  return 'unchanged';
}

/**
 * A side's entry at a clash with the mtime of its last change, for NEWEST_WINS: a folder
 * counts as changed when anything below it was.
 */
function lastChanged(context: Context, side: Side, path: string, subtree: readonly string[]): Entry {
  const entry = context.trees[side].get(path)!;
  if (!entry.isDir) return entry;
  let mtime = entry.mtime;
  for (const below of subtree) mtime = Math.max(mtime, context.trees[side].get(below)?.mtime ?? mtime);
  return { ...entry, mtime };
}

/** `file → folder at source`, `file unchanged at destination`, or on a first sync `file at source`. */
function describeClashSide(context: Context, side: Side, path: string, change: ClashChange): string {
  const entry = context.trees[side].get(path)!;
  const record = context.records[side].get(path);
  if (context.isFirstSync) return `${typeName(entry)} at ${side}`;
  if (record && record.isDir !== entry.isDir) return `${typeName(record)} → ${typeName(entry)} at ${side}`;
  return `${typeName(entry)} ${change} at ${side}`;
}

/** Files (and their bytes) that replacing the other side's entry with `side`'s copies across. */
function clashTransfer(
  context: Context,
  action: PlannedAction,
  side: Side,
): { files: number; bytes: number } {
  const entry = context.trees[side].get(action.path);
  if (!entry) return { files: 0, bytes: 0 };
  if (!entry.isDir) return { files: 1, bytes: entry.size };
  let files = 0;
  let bytes = 0;
  for (const path of action.subtree ?? []) {
    const below = context.trees[side].get(path);
    if (below && !below.isDir) {
      files++;
      bytes += below.size;
    }
  }
  return { files, bytes };
}

/** The side whose entry stays at a clash's path, where the plan already knows it. */
function clashWinner(action: PlannedAction): Side | 'both' | null {
  const type = action.type;
  if (type === 'CONFLICT') {
    const resolution = action.conflict?.resolution;
    if (resolution === 'source' || resolution === 'destination') return resolution;
    return resolution === 'skip' ? null : 'both';
  }
  if (type.startsWith('UPLOAD_')) return 'source';
  if (type.startsWith('DOWNLOAD_')) return 'destination';
  return null;
}

/**
 * A file at one side and a folder at the other (SPEC §3, §4, §6). A type change on one side
 * with the other side unchanged is propagated like any modification; in one-way modes the
 * authoritative side's type wins; where both sides changed (or on a first sync), the
 * conflict strategy picks the type that stays. The whole subtree goes with the path: the
 * winning folder is copied across with its contents, the losing file or folder goes to the
 * versions area (kept both: the file takes its conflict name).
 */
function planTypeClash(context: Context, view: PathView, subtree: string[]): PlannedAction {
  const s = clashChange(context, 'source', view.path, subtree);
  const d = clashChange(context, 'destination', view.path, subtree);
  const cell: ClashCell = `${s} / ${d}`;
  const described =
    `type clash: ${describeClashSide(context, 'source', view.path, s)} / ` +
    describeClashSide(context, 'destination', view.path, d);
  const replace = (winner: Side, reason: string): PlannedAction => {
    const action = makeAction(context, view, copyType(winner, 'UPDATE'), reason);
    action.isDir = view.entries[winner]!.isDir;
    action.subtree = subtree;
    action.bytes = clashTransfer(context, action, winner).bytes;
    return action;
  };

  const { mode } = context.config;
  if (mode !== 'TWO_WAY') {
    const authority = authorityOf(mode);
    return replace(authority, `${described} (${authority} wins)`);
  }
  switch (cell) {
    case 'modified / unchanged':
      return replace('source', described);
    case 'unchanged / modified':
      return replace('destination', described);
    case 'created / created':
    case 'created / unchanged':
    case 'created / modified':
    case 'unchanged / created':
    case 'modified / created':
    case 'modified / modified':
    // Both unchanged yet of different types: the records disagree, so neither side can be trusted to win.
    case 'unchanged / unchanged': {
      const resolution = resolveConflict(
        context,
        lastChanged(context, 'source', view.path, subtree),
        lastChanged(context, 'destination', view.path, subtree),
      );
      const action = conflictAction(context, view, described, resolution);
      action.subtree = subtree;
      const winner = clashWinner(action);
      const moved = (side: Side) => clashTransfer(context, action, side).bytes;
      action.bytes =
        winner === null ? 0 : winner === 'both' ? moved('source') + moved('destination') : moved(winner);
      return action;
    }
    default:
      return unreachable(cell);
  }
}

/**
 * A directory recorded on one side only, still there unchanged, with nothing at that path
 * on the other side: a folder kept on purpose (its delete found ignored files inside it, or
 * a backup mode kept it). It is left alone rather than deleted again or copied back.
 */
function isKeptDirectory(context: Context, view: PathView): boolean {
  for (const side of ['source', 'destination'] as const) {
    const entry = view.entries[side];
    if (!entry?.isDir || view.changes[side] !== 'unchanged' || view.changes[other(side)] !== 'absent')
      continue;
    if (context.records[side].get(view.path)?.isDir) return true;
  }
  return false;
}

function planPath(context: Context, view: PathView): PlannedAction | null {
  const { source, destination } = view.entries;
  if (isKeptDirectory(context, view)) return null;
  if (!context.config.syncEmptyDirectories) {
    const seen = [
      source,
      destination,
      context.records.source.get(view.path),
      context.records.destination.get(view.path),
    ];
    if (seen.every((entry) => entry === undefined || entry.isDir)) return null;
  }
  switch (context.config.mode) {
    case 'TWO_WAY':
      return planTwoWay(context, view);
    case 'SOURCE_TO_DESTINATION':
      return planOneWay(context, view, 'source', true);
    case 'SOURCE_BACKUP':
      return planOneWay(context, view, 'source', false);
    case 'DESTINATION_TO_SOURCE':
      return planOneWay(context, view, 'destination', true);
    case 'DESTINATION_BACKUP':
      return planOneWay(context, view, 'destination', false);
  }
}

/**
 * Whether both sides hold the same content now, where both changed (or a first sync found
 * both). Hashes in the same algorithm decide in every mode: equal content is never a
 * conflict (even when the mtimes differ), and different content of the same size is never
 * taken for identical (SIZE_ONLY). Without comparable hashes, the comparison mode decides.
 */
function isSameContentNow(source: Entry, destination: Entry, mode: SyncConfig['comparisonMode']): boolean {
  if (!source.isDir && !destination.isDir && hasComparableHashes(source, destination)) {
    return source.size === destination.size && source.hash === destination.hash;
  }
  return isIdentical(source, destination, mode);
}

/**
 * For two files with the same content whose mtimes differ, under a mode that compares
 * mtimes: which side takes the other's mtime (the side the conflict strategy would have
 * overwritten, else the older one), so the next run does not see them differ. Null where
 * nothing needs aligning.
 */
function mtimeToAlign(context: Context, source: Entry, destination: Entry): PlannedAction['setMtime'] | null {
  const comparison = context.config.comparisonMode;
  if (comparison !== 'MTIME_ONLY' && comparison !== 'SIZE_AND_MTIME') return null;
  if (source.isDir || destination.isDir || isSameMtime(source, destination)) return null;
  const resolution = resolveConflict(context, source, destination);
  const winner: Side =
    resolution === 'source' || resolution === 'destination'
      ? resolution
      : isNewer(source, destination)
        ? 'source'
        : 'destination';
  const loser = other(winner);
  return { side: loser, mtime: (winner === 'source' ? source : destination).mtime };
}

/** A path's two changes, `source / destination` (or `authority / follower` in one-way modes). */
type Cell = `${Change} / ${Change}`;

function unreachable(cell: never): never {
  throw new SyncError('INTERNAL', `no decision for ${String(cell)}`);
}

/**
 * SPEC §3, one case per pair of changes. A first sync sees every existing path as
 * `created`, so it merges and never deletes. `absent` (no record, nothing there) only meets
 * a recorded path on the other side when a backup mode kept a copy on one side: two-way
 * copies it across.
 */
function planTwoWay(context: Context, view: PathView): PlannedAction | null {
  const { source, destination } = view.entries;
  const { source: s, destination: d } = view.changes;
  const cell: Cell = `${s} / ${d}`;
  const label = `${changeLabel(s)} / ${changeLabel(d)}`;
  const act = (type: ActionType, reason: string) => makeAction(context, view, type, reason);
  const first = context.isFirstSync;

  switch (cell) {
    case 'absent / absent':
    case 'unchanged / unchanged':
      return null;
    case 'created / absent':
    case 'unchanged / absent':
    case 'modified / absent':
    case 'created / deleted':
      return act('UPLOAD_NEW', first ? 'only at source' : label);
    case 'absent / created':
    case 'absent / unchanged':
    case 'absent / modified':
    case 'deleted / created':
      return act('DOWNLOAD_NEW', first ? 'only at destination' : label);
    case 'modified / unchanged':
      return act('UPLOAD_UPDATE', label);
    case 'unchanged / modified':
      return act('DOWNLOAD_UPDATE', label);
    case 'deleted / unchanged':
      return act('DELETE_DESTINATION', label);
    case 'unchanged / deleted':
      return act('DELETE_SOURCE', label);
    case 'deleted / modified':
      return act('DOWNLOAD_RESTORE', `${label} (the edit wins over the delete)`);
    case 'modified / deleted':
      return act('UPLOAD_RESTORE', `${label} (the edit wins over the delete)`);
    case 'deleted / deleted':
    case 'deleted / absent':
    case 'absent / deleted':
      return act('NO_ACTION', `${label} (forget the path)`);
    case 'modified / modified':
    case 'created / created':
    case 'created / unchanged':
    case 'created / modified':
    case 'unchanged / created':
    case 'modified / created': {
      if (isSameContentNow(source!, destination!, context.config.comparisonMode)) {
        const action = act('NO_ACTION', first ? 'identical on both sides' : `${label}, identical`);
        const align = mtimeToAlign(context, source!, destination!);
        if (align) {
          action.setMtime = align;
          action.reason += `; the ${align.side}'s mtime set to the ${other(align.side)}'s`;
        }
        return action;
      }
      const reason = first ? 'differs on both sides' : `${label}, different`;
      return conflictAction(context, view, reason, resolveConflict(context, source!, destination!));
    }
    default:
      return unreachable(cell);
  }
}

/**
 * SPEC §4, one case per pair of changes (authority / follower). `authority` is the side
 * whose version wins; a mirror makes the follower equal to it, a backup never deletes on
 * the follower and keeps tracking what it kept there (NO_ACTION records the path as the
 * sides hold it, one side empty), so the kept copy is not taken for a new file next time.
 */
function planOneWay(
  context: Context,
  view: PathView,
  authority: Side,
  isMirror: boolean,
): PlannedAction | null {
  const follower = other(authority);
  const main = view.entries[authority];
  const copy = view.entries[follower];
  const a = view.changes[authority];
  const f = view.changes[follower];
  const cell: Cell = `${a} / ${f}`;
  const act = (type: ActionType, reason: string) => makeAction(context, view, type, reason);
  const first = context.isFirstSync;

  switch (cell) {
    case 'absent / absent':
    case 'unchanged / unchanged':
      return null;
    case 'modified / unchanged':
      return act(copyType(authority, 'UPDATE'), `modified at ${authority}`);
    case 'unchanged / modified':
      return act(copyType(authority, 'UPDATE'), `modified at ${follower} (overwrite with ${authority}'s)`);
    case 'modified / modified':
    case 'created / created':
    case 'created / unchanged':
    case 'created / modified':
    case 'unchanged / created':
    case 'modified / created': {
      const both = first
        ? 'on both sides'
        : `${changeLabel(a)} at ${authority}, ${changeLabel(f)} at ${follower}`;
      if (isIdentical(main!, copy!, context.config.comparisonMode))
        return act('NO_ACTION', `${both}, identical`);
      return act(copyType(authority, 'UPDATE'), `${both}, different (${authority} wins)`);
    }
    case 'created / absent':
      return act(copyType(authority, 'NEW'), first ? `only at ${authority}` : `created at ${authority}`);
    case 'created / deleted':
      return act(copyType(authority, 'NEW'), `created at ${authority}`);
    case 'modified / absent':
      return act(copyType(authority, 'NEW'), `modified at ${authority}`);
    case 'unchanged / deleted':
    case 'modified / deleted':
      return act(copyType(authority, 'RESTORE'), `deleted at ${follower}`);
    case 'unchanged / absent':
      // Recorded at the authority only: a backup chose not to follow a rename on the follower.
      return isMirror ? act(copyType(authority, 'NEW'), `only at ${authority}`) : null;
    case 'absent / created':
      if (isMirror)
        return act(deleteType(follower), first ? `only at ${follower}` : `created at ${follower}`);
      return act('NO_ACTION', first ? `only at ${follower} (kept)` : `created at ${follower} (kept)`);
    case 'absent / unchanged':
      return isMirror ? act(deleteType(follower), `only at ${follower}`) : null;
    case 'absent / modified':
      if (isMirror) return act(deleteType(follower), `only at ${follower}`);
      return act('NO_ACTION', `modified at ${follower} (kept)`);
    case 'deleted / created':
    case 'deleted / unchanged':
    case 'deleted / modified':
      if (isMirror) return act(deleteType(follower), `deleted at ${authority}`);
      return act('NO_ACTION', `deleted at ${authority} (backup kept)`);
    case 'deleted / deleted':
      return act('NO_ACTION', 'deleted at source and destination (forget the path)');
    case 'deleted / absent':
      return act('NO_ACTION', `deleted at ${authority} (forget the path)`);
    case 'absent / deleted':
      return act('NO_ACTION', `deleted at ${follower} (forget the path)`);
    default:
      return unreachable(cell);
  }
}

/**
 * A rename A → B found on `renamed` (SPEC §2). It is carried out as a rename only where the
 * other side still holds A unchanged and nothing at B; otherwise null, and the paths go
 * through the tables as a delete plus a create.
 */
function planRename(context: Context, renamed: Side, from: string, to: string): PlannedAction[] | null {
  const side = other(renamed);
  const kept = context.trees[side].get(from);
  if (!kept || context.trees[side].has(to)) return null;
  if (detectChange(kept, context.records[side].get(from), context.config.comparisonMode) !== 'unchanged')
    return null;

  const { mode } = context.config;
  const rename = (at: Side, path: string, target: string, reason: string): PlannedAction => {
    const moved = context.trees[at].get(path) ?? null;
    const counterpart = context.trees[other(at)].get(target) ?? null;
    return {
      type: renameType(at),
      path,
      to: target,
      reason: `${context.prefix}: ${reason}`,
      bytes: 0,
      source: at === 'source' ? moved : counterpart,
      destination: at === 'destination' ? moved : counterpart,
      isDir: false,
    };
  };
  const view = (path: string) => viewOf(context, path);

  if (mode === 'TWO_WAY') {
    const reason =
      renamed === 'source'
        ? 'renamed at source / unchanged at destination'
        : 'unchanged at source / renamed at destination';
    return [rename(side, from, to, reason)];
  }
  const authority: Side =
    mode === 'SOURCE_TO_DESTINATION' || mode === 'SOURCE_BACKUP' ? 'source' : 'destination';
  const isMirror = mode === 'SOURCE_TO_DESTINATION' || mode === 'DESTINATION_TO_SOURCE';
  if (renamed === authority) {
    if (isMirror) return [rename(side, from, to, `renamed at ${renamed}`)];
    const reason = `renamed at ${renamed} (copy to the new path, old copy kept)`;
    return [
      makeAction(context, view(to), copyType(authority, 'NEW'), reason),
      makeAction(context, view(from), 'NO_ACTION', reason),
    ];
  }
  if (isMirror) return [rename(renamed, to, from, `renamed at ${renamed} (rename back)`)];
  const reason = `renamed at ${renamed} (kept, not followed)`;
  return [
    makeAction(context, view(from), 'NO_ACTION', reason),
    makeAction(context, view(to), 'NO_ACTION', reason),
  ];
}

/**
 * A directory is deleted only when its whole subtree goes. Where something below it stays
 * (or arrives), the delete turns into a restore of the directory in two-way, and into
 * keeping it in one-way modes.
 */
function keepDirectoriesThatStayOccupied(context: Context, actions: PlannedAction[]): void {
  const dirDeletes: Record<Side, Set<string>> = { source: new Set(), destination: new Set() };
  for (const action of actions) {
    if (isDelete(action.type) && action.isDir) dirDeletes[targetSide(action.type)!].add(action.path);
  }
  for (const side of ['source', 'destination'] as const) {
    const candidates = dirDeletes[side];
    if (candidates.size === 0) continue;
    const leaving = new Set<string>();
    const arriving: string[] = [];
    for (const action of actions) {
      const target = targetSide(action.type);
      if (action.type === 'CONFLICT') arriving.push(action.path);
      if (target !== side) continue;
      if (isDelete(action.type)) leaving.add(action.path);
      else if (action.type === renameType(side)) {
        leaving.add(action.path);
        arriving.push(action.to!);
      } else arriving.push(action.path);
    }
    const occupied = new Set<string>();
    const markAncestors = (path: string) => {
      for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
        const parent = path.slice(0, slash);
        if (candidates.has(parent)) occupied.add(parent);
      }
    };
    for (const path of context.trees[side].keys()) if (!leaving.has(path)) markAncestors(path);
    for (const path of arriving) markAncestors(path);
    for (const path of context.leftOut) markAncestors(path);
    if (occupied.size === 0) continue;

    for (let i = 0; i < actions.length; i++) {
      const action = actions[i]!;
      if (!occupied.has(action.path) || action.type !== deleteType(side)) continue;
      const reason = `${action.reason}; directory kept: something below it stays`;
      actions[i] =
        context.config.mode === 'TWO_WAY'
          ? { ...action, type: copyType(side, 'RESTORE'), reason }
          : { ...action, type: 'NO_ACTION', reason };
    }
  }
}

const RANK: Record<ActionType, number> = {
  RENAME_SOURCE: 0,
  RENAME_DESTINATION: 0,
  UPLOAD_NEW: 1,
  UPLOAD_UPDATE: 1,
  UPLOAD_RESTORE: 1,
  DOWNLOAD_NEW: 1,
  DOWNLOAD_UPDATE: 1,
  DOWNLOAD_RESTORE: 1,
  CONFLICT: 2,
  DELETE_SOURCE: 3,
  DELETE_DESTINATION: 3,
  NO_ACTION: 4,
};

/** Orders paths segment by segment (`a/b` right after `a`, before `a b`), as `/` sorts before any character. */
const pathKey = (path: string) => path.replaceAll('/', '\u0000');

function sortActions(actions: PlannedAction[]): void {
  const keys = new Map<PlannedAction, string>();
  for (const action of actions) keys.set(action, pathKey(action.path));
  actions.sort((x, y) => {
    const rank = RANK[x.type] - RANK[y.type];
    if (rank !== 0) return rank;
    const a = keys.get(x)!;
    const b = keys.get(y)!;
    if (a === b) return x.type < y.type ? -1 : x.type > y.type ? 1 : 0;
    // Deletes deepest first, so a directory comes after everything below it.
    const order = a < b ? -1 : 1;
    return isDelete(x.type) ? -order : order;
  });
}

function totalsOf(context: Context, actions: readonly PlannedAction[]): Plan['totals'] {
  const totals: Plan['totals'] = { files: 0, bytes: 0, deletes: { source: 0, destination: 0 } };
  for (const action of actions) {
    totals.bytes += action.bytes;
    if (action.subtree) {
      const winner = clashWinner(action);
      const count = (side: Side) => clashTransfer(context, action, side).files;
      if (winner === 'both') totals.files += count('source') + count('destination');
      else if (winner !== null) {
        totals.files += count(winner);
        // A losing folder's files go to its versions area (a losing file is overwritten).
        const loser = other(winner);
        if (context.trees[loser].get(action.path)?.isDir)
          totals.deletes[loser] += clashTransfer(context, action, loser).files;
      }
    } else if (isTransfer(action.type) && !action.isDir) totals.files++;
    else if (action.type === 'CONFLICT') {
      const resolution = action.conflict?.resolution;
      const sourceFile = action.source && !action.source.isDir ? 1 : 0;
      const destinationFile = action.destination && !action.destination.isDir ? 1 : 0;
      if (resolution === 'source') totals.files += sourceFile;
      else if (resolution === 'destination') totals.files += destinationFile;
      else if (resolution !== 'skip') totals.files += sourceFile + destinationFile;
    } else if (isDelete(action.type) && !action.isDir) {
      totals.deletes[targetSide(action.type)!]++;
    }
  }
  return totals;
}
