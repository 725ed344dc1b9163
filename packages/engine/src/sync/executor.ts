import type { ConflictHandler, SyncRunError } from '../api.js';
import type { SyncConfig } from '../config.js';
import { changedDuringTransfer, isSyncError, SyncError } from '../errors.js';
import type { SyncEvent, VersionReason } from '../events.js';
import { forEachLimited, type LimitGate } from '../limit.js';
import {
  type ActionType,
  CONFLICT_RESOLUTIONS,
  type ConflictInfo,
  type ConflictResolution,
  type Entry,
  type HashAlgorithm,
  type PlannedAction,
  type Side,
  type Tree,
} from '../model.js';
import { conflictFileName } from '../planner/index.js';
import type { RateLimit } from '../rate-limit.js';
import { type RetryPolicy, withRetry } from '../retry.js';
import type { StateChange } from '../state-store.js';
import { hasBatchCopies, type Storage } from '../storage.js';
import type { StateRecorder } from './state-recorder.js';
import { copyFile, isSameVersion, recordedSource } from './transfer.js';
import { depth, moveToVersions, restoreFromVersions } from './versions.js';

const other = (side: Side): Side => (side === 'source' ? 'destination' : 'source');
const PROGRESS_INTERVAL_MS = 100;
/**
 * Each storage call of a plan's action is tried this often on TRANSIENT errors (remote
 * backends retry their own requests below this as well).
 */
export const EXECUTOR_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 };
/** A group of small new files copied in one call (`BatchCopies.copyInBatch`): at most this many files, */
const GROUP_FILES = 128;
/** ... this many bytes, */
const GROUP_BYTES = 4 * 1024 * 1024;
/** ... each of at most this size. */
const GROUP_FILE_BYTES = 64 * 1024;

/** Small new files copied from one side to the other in one call. */
interface CopyGroup {
  from: Side;
  actions: PlannedAction[];
  bytes: number;
}

export interface ExecutorOptions {
  storages: Record<Side, Storage>;
  /** The trees the plan was made from (with hashes): what each path is expected to hold. */
  trees: Record<Side, Tree>;
  config: SyncConfig;
  gate: LimitGate;
  emit: (event: SyncEvent) => void;
  recorder: StateRecorder;
  /** Names this run's versions folder. */
  versionStamp: string;
  /** Start of the run, for conflict file names. */
  startedAt: number;
  /** Algorithm of the hashes computed while copying. */
  hashAlgorithm: HashAlgorithm;
  onConflict?: ConflictHandler;
  /** How each storage call is retried on TRANSIENT errors (default `EXECUTOR_RETRY`). */
  retry?: RetryPolicy;
  /** The bandwidth limit every copy waits for; none without one. */
  rateLimit?: RateLimit;
}

/** An outcome with nothing done yet. */
export const emptyOutcome = (): ExecutionOutcome => ({
  actions: {},
  bytesUploaded: 0,
  bytesDownloaded: 0,
  conflicts: 0,
  pendingConflicts: [],
  errors: [],
  deferred: [],
});

export interface ExecutionOutcome {
  actions: Partial<Record<ActionType, number>>;
  bytesUploaded: number;
  bytesDownloaded: number;
  conflicts: number;
  pendingConflicts: ConflictInfo[];
  errors: SyncRunError[];
  /** Paths left for the next run because they changed while the run copied them. */
  deferred: SyncRunError[];
}

/**
 * Carries out a plan, SPEC §9: conflicts, renames, then transfers (directories first), then
 * deletes (deepest first), with `operations` and `transfers` as the concurrency limits. Every
 * overwritten or deleted file goes to the versions area of its side first. Each action
 * that completes is recorded at once; one that fails is reported and the rest go on.
 */
export class Executor {
  readonly #o: ExecutorOptions;
  readonly #retry: RetryPolicy;
  readonly outcome: ExecutionOutcome = emptyOutcome();

  constructor(options: ExecutorOptions) {
    this.#o = options;
    this.#retry = options.retry ?? EXECUTOR_RETRY;
  }

  async run(actions: readonly PlannedAction[]): Promise<void> {
    const { config, gate } = this.#o;
    const renames: PlannedAction[] = [];
    const conflicts: PlannedAction[] = [];
    const directories: PlannedAction[] = [];
    const transfers: PlannedAction[] = [];
    const deletes: PlannedAction[] = [];
    for (const action of actions) {
      switch (action.type) {
        case 'NO_ACTION':
          if (action.setMtime) transfers.push(action);
          else this.#recordAsIs(action.path);
          break;
        case 'RENAME_SOURCE':
        case 'RENAME_DESTINATION':
          renames.push(action);
          break;
        case 'DELETE_SOURCE':
        case 'DELETE_DESTINATION':
          deletes.push(action);
          break;
        case 'CONFLICT':
          conflicts.push(action);
          break;
        default:
          // A file replaced by a folder or back goes with the conflicts: it settles a whole subtree.
          if (action.subtree) conflicts.push(action);
          else if (this.#isDirectoryAction(action)) directories.push(action);
          else transfers.push(action);
      }
    }
    directories.sort((a, b) => depth(a.path) - depth(b.path));

    const onError = (action: PlannedAction, error: unknown) => this.#fail(action, error);
    const onGroupError = (group: CopyGroup, error: unknown) => {
      for (const action of group.actions) this.#fail(action, error);
    };
    const step = (action: PlannedAction) => this.#perform(action);
    // Conflicts and type changes first. Neither involves a rename's paths, nor any other
    // action's: a file replaced by a folder (or back) carries the paths below it.
    await forEachLimited(conflicts, config.transfers, step, { gate, onError: onError });
    await forEachLimited(renames, config.operations, step, { gate, onError: onError });
    await forEachLimited(directories, config.operations, step, { gate, onError: onError });
    // Small new files go in groups where the target storage copies many at once; a group
    // counts as one transfer (its files are copied one after another).
    const { groups, single } = this.#groupSmallCopies(transfers);
    await forEachLimited(groups, config.transfers, (group) => this.#copyGroup(group), {
      gate,
      onError: onGroupError,
    });
    await forEachLimited(single, config.transfers, step, { gate, onError: onError });
    // Deletes go by depth, one level at a time, so a directory is only removed once
    // everything below it is gone.
    const byDepth = new Map<number, PlannedAction[]>();
    for (const action of deletes) {
      const level = depth(action.path);
      const group = byDepth.get(level);
      if (group) group.push(action);
      else byDepth.set(level, [action]);
    }
    for (const level of [...byDepth.keys()].sort((a, b) => b - a)) {
      if (gate.isCancelled) break;
      await forEachLimited(byDepth.get(level) ?? [], config.operations, step, { gate, onError: onError });
    }
  }

  /**
   * Splits transfers into groups of small new files (at most `GROUP_FILES` files or
   * `GROUP_BYTES` bytes, one direction each) that the target storage copies in one call
   * (`BatchCopies.copyInBatch`), and the transfers made one by one.
   */
  #groupSmallCopies(transfers: PlannedAction[]): { groups: CopyGroup[]; single: PlannedAction[] } {
    const { storages, trees } = this.#o;
    const groups: CopyGroup[] = [];
    const single: PlannedAction[] = [];
    const open: Partial<Record<Side, CopyGroup>> = {};
    // Under a bandwidth limit a group is about a second's worth, so that a pause lands soon.
    const groupBytes = Math.min(GROUP_BYTES, this.#o.rateLimit?.bytesPerSecond ?? GROUP_BYTES);
    for (const action of transfers) {
      const from: Side | null =
        action.type === 'UPLOAD_NEW' ? 'source' : action.type === 'DOWNLOAD_NEW' ? 'destination' : null;
      const to = from && other(from);
      const entry = from && trees[from].get(action.path);
      const isSmallNewFile =
        from !== null &&
        to !== null &&
        entry !== undefined &&
        entry !== null &&
        !entry.isDir &&
        entry.size <= GROUP_FILE_BYTES &&
        !trees[to].has(action.path) &&
        hasBatchCopies(storages[to]) &&
        storages[to].capabilities.exclusiveWrites === true;
      if (!isSmallNewFile) {
        single.push(action);
        continue;
      }
      let group = open[from];
      if (!group || group.actions.length >= GROUP_FILES || group.bytes + entry.size > groupBytes) {
        group = { from, actions: [], bytes: 0 };
        groups.push(group);
        open[from] = group;
      }
      group.actions.push(action);
      group.bytes += entry.size;
    }
    return { groups, single };
  }

  /**
   * Copies a group of small new files with one `copyInBatch` call; a file the storage leaves
   * to the caller (or a group it cannot take) is copied on its own, as any transfer.
   */
  async #copyGroup(group: CopyGroup): Promise<void> {
    const { storages, trees, emit } = this.#o;
    const { from, actions } = group;
    const to = other(from);
    const isUpload = from === 'source';
    const copies = actions.map((action) => ({
      from: action.path,
      to: action.path,
      planned: trees[from].get(action.path)!,
    }));
    await this.#o.rateLimit?.take(group.bytes);
    for (const copy of copies) {
      emit({
        type: isUpload ? 'upload_start' : 'download_start',
        path: copy.to,
        total_bytes: copy.planned.size,
      });
    }
    const target = storages[to];
    const results =
      (hasBatchCopies(target)
        ? await target.copyInBatch(storages[from], copies, { algorithm: this.#o.hashAlgorithm })
        : null) ?? copies.map(() => null);
    for (const [index, action] of actions.entries()) {
      const result = results[index] ?? null;
      if (result === null || ('error' in result && isSyncError(result.error, 'TRANSIENT'))) {
        try {
          await this.#perform(action);
        } catch (error) {
          this.#fail(action, error);
        }
        continue;
      }
      if ('error' in result) {
        this.#fail(action, result.error);
        continue;
      }
      const size = result.written.size;
      if (isUpload) this.outcome.bytesUploaded += size;
      else this.outcome.bytesDownloaded += size;
      emit({ type: isUpload ? 'upload_complete' : 'download_complete', path: action.path, bytes: size });
      const source = recordedSource(copies[index]!.planned, result.source);
      this.#record(this.#change(from, source, result.written, action.path));
      this.outcome.actions[action.type] = (this.outcome.actions[action.type] ?? 0) + 1;
      emit({ type: 'action_complete', action });
    }
  }

  #isDirectoryAction(action: PlannedAction): boolean {
    if (action.isDir !== undefined) return action.isDir;
    const from = action.type.startsWith('UPLOAD_') ? 'source' : 'destination';
    return this.#o.trees[from].get(action.path)?.isDir ?? false;
  }

  async #perform(action: PlannedAction): Promise<void> {
    switch (action.type) {
      case 'UPLOAD_NEW':
      case 'UPLOAD_UPDATE':
      case 'UPLOAD_RESTORE':
        if (action.subtree) this.#record(...(await this.#replaceType('source', action.path, action.subtree)));
        else this.#record(await this.#replace('source', action.path));
        break;
      case 'DOWNLOAD_NEW':
      case 'DOWNLOAD_UPDATE':
      case 'DOWNLOAD_RESTORE':
        if (action.subtree)
          this.#record(...(await this.#replaceType('destination', action.path, action.subtree)));
        else this.#record(await this.#replace('destination', action.path));
        break;
      case 'DELETE_SOURCE':
        this.#record(await this.#delete('source', action.path));
        break;
      case 'DELETE_DESTINATION':
        this.#record(await this.#delete('destination', action.path));
        break;
      case 'RENAME_SOURCE':
      case 'RENAME_DESTINATION': {
        if (!action.to) throw new SyncError('INTERNAL', `rename of ${action.path} without a target`);
        const side = action.type === 'RENAME_SOURCE' ? 'source' : 'destination';
        this.#record(...(await this.#rename(side, action.path, action.to)));
        break;
      }
      case 'CONFLICT': {
        const changes = await this.#conflict(action);
        if (!changes) {
          this.#o.emit({ type: 'action_complete', action });
          return;
        }
        this.#record(...changes);
        break;
      }
      case 'NO_ACTION':
        if (action.setMtime) this.#record(await this.#alignMtime(action.path, action.setMtime));
        else this.#recordAsIs(action.path);
        this.#o.emit({ type: 'action_complete', action });
        return;
    }
    this.outcome.actions[action.type] = (this.outcome.actions[action.type] ?? 0) + 1;
    this.#o.emit({ type: 'action_complete', action });
  }

  #fail(action: PlannedAction, error: unknown): void {
    const message = this.#failPath(action.path, error);
    this.#o.emit({ type: 'action_complete', action, error: message });
  }

  /** Reports a path that could not be synced; returns the message. */
  #failPath(path: string, error: unknown): string {
    const code = isSyncError(error) ? error.code : 'INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    // A file that changed while it was copied is the next run's: a warning, not a failure.
    if (code === 'CHANGED_DURING_TRANSFER') {
      this.outcome.deferred.push({ path, code, message });
      this.#o.emit({ type: 'warning', message, path });
      return message;
    }
    this.outcome.errors.push({ path, code, message });
    this.#o.emit({ type: 'error', code, message, path });
    return message;
  }

  #kept(side: Side, path: string, versionPath: string, reason: VersionReason): void {
    this.#o.emit({ type: 'version_kept', side, path, versionPath, reason });
  }

  #record(...changes: StateChange[]): void {
    this.#o.recorder.record(...changes);
  }

  /** Records a path as both sides hold it now (NO_ACTION: identical, both gone, or a kept backup copy). */
  #recordAsIs(path: string): void {
    const { trees } = this.#o;
    this.#record({
      path,
      source: trees.source.get(path) ?? null,
      destination: trees.destination.get(path) ?? null,
    });
  }

  /** A storage call, retried on TRANSIENT errors; `what` names it in the error after the last try. */
  #call<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    return withRetry(what, this.#retry, attempt);
  }

  /** Stats the target and refuses to touch it when it is no longer what the plan saw. */
  async #checkUnchanged(side: Side, path: string): Promise<Entry | null> {
    const planned = this.#o.trees[side].get(path) ?? null;
    const current = await this.#call(`stat "${path}"`, () => this.#o.storages[side].stat(path));
    if (!isSameVersion(planned, current)) {
      throw changedDuringTransfer(path, `changed on the ${side} side since it was scanned`);
    }
    return current;
  }

  /**
   * Makes `path` on the other side what it is on `from`: copies a file (versioning what it
   * replaces), creates a directory, or removes the path when `from` no longer has it.
   */
  async #replace(from: Side, path: string, reason: VersionReason = 'overwritten'): Promise<StateChange> {
    const to = other(from);
    const storage = this.#o.storages[to];
    const winner = this.#o.trees[from].get(path) ?? null;
    if (winner?.isDir) {
      // A directory that is already there (made by a rename or a write below it) is fine.
      const existing = await this.#call(`stat "${path}"`, () => storage.stat(path));
      if (existing?.isDir) return this.#change(from, winner, existing, path);
    }
    // A new file where the plan saw nothing: a backend with exclusive writes refuses to
    // replace whatever appeared there since the scan, so it needs no look first.
    const isExclusive = storage.capabilities.exclusiveWrites === true;
    const current =
      isExclusive && winner && !winner.isDir && !this.#o.trees[to].has(path)
        ? null
        : await this.#checkUnchanged(to, path);
    if (!winner) return this.#removeChecked(to, path, current, reason === 'conflict' ? reason : 'deleted');
    if (winner.isDir) {
      if (current && !current.isDir) {
        const kept = await this.#call(`keep a version of "${path}"`, () =>
          moveToVersions(storage, path, this.#o.versionStamp),
        );
        this.#kept(to, path, kept, reason);
      }
      await this.#call(`mkdir "${path}"`, () => storage.mkdir(path));
      const made = (await this.#call(`stat "${path}"`, () => storage.stat(path))) ?? { ...winner };
      return this.#change(from, winner, made, path);
    }
    let versioned: string | null = null;
    if (current)
      versioned = await this.#call(`keep a version of "${path}"`, () =>
        moveToVersions(storage, path, this.#o.versionStamp),
      );
    try {
      // The path is free now (nothing was there, or it went to the versions area).
      const copied = await this.#transfer(from, path, path, winner, isExclusive);
      if (versioned) this.#kept(to, path, versioned, reason);
      return this.#change(from, copied.source, copied.written, path);
    } catch (error) {
      if (versioned) {
        const saved = versioned;
        await restoreFromVersions(storage, saved, path).catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * Replaces a file by a folder, or a folder by a file, at `path` on the other side (SPEC
   * §3): what is there, the file or the whole folder with whatever it holds, goes to the
   * versions area of that side first; then `from`'s file is copied, or `from`'s folder made
   * and filled with everything below it (`subtree`, parents first).
   */
  async #replaceType(
    from: Side,
    path: string,
    subtree: readonly string[],
    reason: VersionReason = 'overwritten',
  ): Promise<StateChange[]> {
    const to = other(from);
    const storage = this.#o.storages[to];
    const winner = this.#o.trees[from].get(path);
    if (!winner) throw changedDuringTransfer(path, `is gone from the ${from} side since it was scanned`);
    await this.#checkUnchanged(to, path);
    const versioned = await this.#call(`keep a version of "${path}"`, () =>
      moveToVersions(storage, path, this.#o.versionStamp),
    );
    let placed: StateChange;
    try {
      if (winner.isDir) placed = await this.#makeFolder(from, path, winner);
      else {
        const copied = await this.#transfer(
          from,
          path,
          path,
          winner,
          storage.capabilities.exclusiveWrites === true,
        );
        placed = this.#change(from, copied.source, copied.written, path);
      }
    } catch (error) {
      await restoreFromVersions(storage, versioned, path).catch(() => undefined);
      throw error;
    }
    this.#kept(to, path, versioned, reason);
    if (!winner.isDir)
      return [placed, ...subtree.map((below) => ({ path: below, source: null, destination: null }))];
    return [placed, ...(await this.#fillFolder(from, subtree))];
  }

  /** Makes `from`'s folder at `path` on the other side; the state change to record. */
  async #makeFolder(from: Side, path: string, winner: Entry): Promise<StateChange> {
    const storage = this.#o.storages[other(from)];
    await this.#call(`mkdir "${path}"`, () => storage.mkdir(path));
    const made = (await this.#call(`stat "${path}"`, () => storage.stat(path))) ?? { ...winner };
    return this.#change(from, winner, made, path);
  }

  /**
   * Copies what `from` holds below a folder just made on the other side, parents first, and
   * forgets the recorded paths `from` no longer holds. A path that fails is reported and the
   * rest go on; what is not copied (a failure, a cancel) is planned again next run.
   */
  async #fillFolder(from: Side, subtree: readonly string[]): Promise<StateChange[]> {
    const to = other(from);
    const isExclusive = this.#o.storages[to].capabilities.exclusiveWrites === true;
    const changes: StateChange[] = [];
    for (const path of subtree) {
      if (this.#o.gate.isCancelled) break;
      const entry = this.#o.trees[from].get(path);
      if (!entry) {
        changes.push({ path, source: null, destination: null });
        continue;
      }
      try {
        if (entry.isDir) changes.push(await this.#makeFolder(from, path, entry));
        else {
          const copied = await this.#transfer(from, path, path, entry, isExclusive);
          changes.push(this.#change(from, copied.source, copied.written, path));
        }
      } catch (error) {
        this.#failPath(path, error);
      }
    }
    return changes;
  }

  /** Gives an identical file on `side` the other side's mtime, where the backend can set one; records the pair. */
  async #alignMtime(path: string, target: { side: Side; mtime: number }): Promise<StateChange> {
    const { trees, storages } = this.#o;
    const storage = storages[target.side];
    const planned = trees[target.side].get(path);
    const change: StateChange = {
      path,
      source: trees.source.get(path) ?? null,
      destination: trees.destination.get(path) ?? null,
    };
    if (!planned || !storage.setMtime || !storage.capabilities.canSetMtime) return change;
    await this.#checkUnchanged(target.side, path);
    await this.#call(`set the mtime of "${path}"`, () => storage.setMtime!(path, target.mtime));
    const now = await this.#call(`stat "${path}"`, () => storage.stat(path));
    if (!now) return change;
    // The bytes did not change: the hash the plan compared still holds.
    const entry: Entry = { ...now, hash: planned.hash, hashAlgorithm: planned.hashAlgorithm };
    return target.side === 'source' ? { ...change, source: entry } : { ...change, destination: entry };
  }

  #change(from: Side, fromEntry: Entry, toEntry: Entry, path: string): StateChange {
    return from === 'source'
      ? { path, source: fromEntry, destination: toEntry }
      : { path, source: toEntry, destination: fromEntry };
  }

  async #transfer(from: Side, fromPath: string, toPath: string, planned: Entry, ifAbsent = false) {
    const { emit, storages } = this.#o;
    const isUpload = from === 'source';
    emit({ type: isUpload ? 'upload_start' : 'download_start', path: toPath, total_bytes: planned.size });
    let lastProgress = 0;
    const copied = await this.#call(`copy "${fromPath}"`, () =>
      copyFile(storages[from], fromPath, storages[other(from)], toPath, {
        planned,
        algorithm: this.#o.hashAlgorithm,
        ifAbsent,
        rateLimit: this.#o.rateLimit,
        onProgress: (bytes) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          emit({
            type: isUpload ? 'upload_progress' : 'download_progress',
            path: toPath,
            bytes_transferred: bytes,
            total_bytes: planned.size,
          });
        },
      }),
    );
    if (isUpload) this.outcome.bytesUploaded += copied.written.size;
    else this.outcome.bytesDownloaded += copied.written.size;
    emit({
      type: isUpload ? 'upload_complete' : 'download_complete',
      path: toPath,
      bytes: copied.written.size,
    });
    return copied;
  }

  async #delete(side: Side, path: string): Promise<StateChange> {
    const current = await this.#checkUnchanged(side, path);
    return this.#removeChecked(side, path, current);
  }

  /** Removes a path whose current entry was just checked against the plan. */
  async #removeChecked(
    side: Side,
    path: string,
    current: Entry | null,
    reason: VersionReason = 'deleted',
  ): Promise<StateChange> {
    const storage = this.#o.storages[side];
    this.#o.emit({ type: 'delete_start', path, side });
    if (current?.isDir) {
      try {
        await this.#call(`delete "${path}"`, () => storage.delete(path));
      } catch (error) {
        if (!isSyncError(error, 'CONFLICT')) throw error;
        // Not empty, though the plan removed everything the scan saw below it: it holds
        // ignored files (or something new since the scan). The folder stays, recorded on
        // this side only, so that the planner keeps it rather than deleting it again.
        this.#o.emit({
          type: 'warning',
          message: `kept folder ${path} on the ${side} side: it still holds ignored files`,
          path,
        });
        return side === 'source'
          ? { path, source: current, destination: null }
          : { path, source: null, destination: current };
      }
    } else if (current) {
      const kept = await this.#call(`keep a version of "${path}"`, () =>
        moveToVersions(storage, path, this.#o.versionStamp),
      );
      this.#kept(side, path, kept, reason);
    }
    this.#o.emit({ type: 'delete_complete', path, side });
    return { path, source: null, destination: null };
  }

  async #rename(side: Side, from: string, to: string): Promise<StateChange[]> {
    const storage = this.#o.storages[side];
    const planned = this.#o.trees[side].get(from) ?? null;
    const current = await this.#checkUnchanged(side, from);
    if (!current || !planned)
      throw new SyncError('NOT_FOUND', `${from} is gone from the ${side} side`, { path: from });
    if (await this.#call(`stat "${to}"`, () => storage.stat(to))) {
      throw new SyncError('CONFLICT', `${to} already exists on the ${side} side`, { path: to });
    }
    await this.#call(`rename "${from}"`, () => storage.rename(from, to));
    const moved = (await this.#call(`stat "${to}"`, () => storage.stat(to))) ?? { ...current, path: to };
    // The bytes did not change: the hash computed for the old path still holds.
    const entry: Entry =
      moved.hash === undefined && planned.hash !== undefined && moved.size === planned.size
        ? { ...moved, hash: planned.hash, hashAlgorithm: planned.hashAlgorithm }
        : moved;
    this.#o.emit({ type: 'rename_complete', path: from, to, side });
    const otherEntry = this.#o.trees[other(side)].get(to) ?? null;
    return [
      { path: from, source: null, destination: null },
      side === 'source'
        ? { path: to, source: entry, destination: otherEntry }
        : { path: to, source: otherEntry, destination: entry },
    ];
  }

  /** Settles one conflict; returns the state changes, or null when it stays pending. */
  async #conflict(action: PlannedAction): Promise<StateChange[] | null> {
    const { trees, onConflict, emit } = this.#o;
    const info: ConflictInfo = action.conflict ?? {
      path: action.path,
      source: trees.source.get(action.path) ?? null,
      destination: trees.destination.get(action.path) ?? null,
    };
    let resolution: ConflictResolution | undefined = info.resolution;
    if (!resolution && onConflict) {
      resolution = await onConflict({ ...info });
      if (!CONFLICT_RESOLUTIONS.includes(resolution)) {
        throw new SyncError(
          'INTERNAL',
          `conflict handler returned "${String(resolution)}" for ${info.path}`,
          {
            path: info.path,
          },
        );
      }
    }
    resolution ??= 'skip';
    this.outcome.conflicts++;
    emit({ type: 'conflict', conflict: { ...info, resolution } });
    switch (resolution) {
      case 'skip':
        this.outcome.pendingConflicts.push({ ...info, resolution });
        return null;
      case 'source':
      case 'destination':
        if (action.subtree) return this.#replaceType(resolution, info.path, action.subtree, 'conflict');
        return [await this.#replace(resolution, info.path, 'conflict')];
      case 'keep-both':
        return this.#keepBoth(info.path, action.subtree ?? []);
    }
  }

  /**
   * Keeps both versions: the loser (the older file; the destination's on a tie; the file,
   * against a folder) is renamed to its conflict name on its own side, then each is copied
   * to the other side (a folder with everything below it, `subtree`).
   */
  async #keepBoth(path: string, subtree: readonly string[]): Promise<StateChange[]> {
    const { trees, storages } = this.#o;
    const source = trees.source.get(path) ?? null;
    const destination = trees.destination.get(path) ?? null;
    if (!source || !destination) return [await this.#replace(source ? 'source' : 'destination', path)];
    if (source.isDir && destination.isDir) return [{ path, source, destination }];
    let loser: Side;
    if (source.isDir) loser = 'destination';
    else if (destination.isDir) loser = 'source';
    else loser = source.mtime < destination.mtime ? 'source' : 'destination';
    const winner = other(loser);
    const loserStorage = storages[loser];
    const renamed = conflictFileName(path, this.#o.startedAt, loser);
    await this.#checkUnchanged(loser, path);
    for (const side of ['source', 'destination'] as const) {
      if (await this.#call(`stat "${renamed}"`, () => storages[side].stat(renamed))) {
        throw new SyncError('CONFLICT', `${renamed} already exists on the ${side} side`, { path: renamed });
      }
    }
    await this.#call(`rename "${path}"`, () => loserStorage.rename(path, renamed));
    const loserPlanned = trees[loser].get(path) as Entry;
    const moved = (await this.#call(`stat "${renamed}"`, () => loserStorage.stat(renamed))) ?? {
      ...loserPlanned,
      path: renamed,
    };
    const movedEntry: Entry = {
      ...moved,
      hash: loserPlanned.hash,
      hashAlgorithm: loserPlanned.hashAlgorithm,
    };
    this.#o.emit({ type: 'rename_complete', path, to: renamed, side: loser });

    const changes: StateChange[] = [];
    const winnerEntry = trees[winner].get(path) as Entry;
    if (winnerEntry.isDir) {
      changes.push(await this.#makeFolder(winner, path, winnerEntry));
      changes.push(...(await this.#fillFolder(winner, subtree)));
    } else {
      const copied = await this.#transfer(winner, path, path, winnerEntry);
      changes.push(this.#change(winner, copied.source, copied.written, path));
    }
    const copiedLoser = await this.#transfer(loser, renamed, renamed, movedEntry);
    changes.push(this.#change(loser, copiedLoser.source, copiedLoser.written, renamed));
    return changes;
  }
}
