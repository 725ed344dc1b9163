import {
  baseName,
  createIgnoreMatcher,
  type Entry,
  IGNORE_FILE_NAME,
  type IgnoreMatcher,
  isEngineInternalPath,
  type Side,
  type StateChange,
  type Storage,
} from '@syncengine/engine';
import { ChangeCollector, coverPaths } from './dirty-set.js';
import { resolveWatchSettings, type WatchSettings } from './settings.js';
import {
  type ChangeSink,
  type ChangeSource,
  type LocalWatcherFactory,
  localRootOf,
  parcelWatcher,
  pollStorage,
} from './sources.js';

const SIDES = ['source', 'destination'] as const;

/** Why a full run was asked for. */
export type FullRunReason =
  /** The first run of a watch: whatever changed while nothing watched. */
  | 'start'
  /** The periodic safety net (`rescanMinutes`). */
  | 'rescan'
  /** Notifications of a side overflowed, hit the watch limit or failed: that side is polled now. */
  | 'fallback';

/** A run the watcher asks for. */
export type WatchRunRequest =
  | {
      kind: 'incremental';
      /** Changed paths, both sides together, each standing for itself and everything below it. */
      paths: string[];
      /** Notifications (or listed differences) the run covers. */
      changes: number;
    }
  | { kind: 'full'; reason: FullRunReason };

/** What a run tells the watcher back (all optional). */
export interface WatchRunResult {
  /**
   * The last-known records the run wrote (`StateStore.update` changes, see
   * `recordingStateStore`): notifications of these paths that still match them are the
   * run's own writes and start no run.
   */
  recorded?: readonly StateChange[];
}

/**
 * Runs one sync. The watcher never calls it again before the returned promise settles.
 * `signal` aborts when the watcher stops: the run should finish its current action, save
 * its state and return (a queued job may simply be awaited).
 */
export type WatchRunner = (
  request: WatchRunRequest,
  signal: AbortSignal,
) => Promise<WatchRunResult | undefined>;

/** How one side is watched now. */
export type SideMode = 'notify' | 'poll' | 'fallback-poll';

export type WatchEvent =
  /**
   * Changes seen on one side, told once they are known not to be already synced (a run's
   * own writes are not told); `pending`: paths waiting for a run, both sides together.
   */
  | { type: 'changes'; side: Side; paths: string[]; pending: number; at: number }
  /**
   * Changes that were all already synced (a run's own writes) were let go without a run;
   * `pending`: paths still waiting.
   */
  | { type: 'dropped'; changes: number; pending: number; at: number }
  | { type: 'run_start'; request: WatchRunRequest; at: number }
  | { type: 'run_end'; request: WatchRunRequest; at: number; result?: WatchRunResult; error?: unknown }
  /** A side's notifications failed: a full run follows and the side is polled from now on. */
  | { type: 'fallback'; side: Side; reason: string; at: number }
  /** A poll's listing failed; the next interval tries again. */
  | { type: 'poll_error'; side: Side; error: unknown; at: number };

export interface WatcherStatus {
  modes: Record<Side, SideMode | null>;
  /** Paths waiting for a run, both sides together. */
  pending: number;
  /** When the last change was seen, or null. */
  lastChangeAt: number | null;
  /** The run under way, or null. */
  running: WatchRunRequest | null;
  lastRunAt: number | null;
  /** Why each side that fell back to polling did. */
  fallbacks: Partial<Record<Side, string>>;
}

export interface PairWatcherOptions {
  source: Storage;
  destination: Storage;
  settings?: Partial<WatchSettings>;
  run: WatchRunner;
  onEvent?: (event: WatchEvent) => void;
  /**
   * The pair's ignore patterns (gitignore syntax). Changes to paths they or the source's
   * `.syncignore` files ignore are not counted and start no run; a change to a `.syncignore`
   * itself always counts (the engine then runs a full run) and its rules are read again.
   */
  ignorePatterns?: readonly string[];
  /** Start with a full run (default true): what changed while nothing watched. */
  initialRun?: boolean;
  /** Stops the watcher when aborted (as `stop()`). */
  signal?: AbortSignal;
  /**
   * The last-known records of these paths on a side (a path without one is absent), read
   * when changes are due. A changed path that the side holds as its record says (or that
   * the side holds no more and that has no record) is already synced, by this watch's runs
   * or anyone's, and starts no run: how a watch whose runs execute in another process
   * recognises their writes. Without it, only what runs return (`recorded`) is recognised.
   */
  lastKnown?: (side: Side, paths: string[]) => Promise<ReadonlyMap<string, Entry>>;
  /** How local folders are watched (default @parcel/watcher). */
  localWatcher?: LocalWatcherFactory;
  now?: () => number;
}

/** How long a run's recorded writes are remembered for recognising their notifications. */
const RECORDED_KEEP_MS = 60_000;

/**
 * Watches both sides of a pair and runs syncs: changes are collected until `debounceMs` of
 * quiet (at most 10 × `debounceMs`), then one incremental run gets their paths; a full run
 * comes first (`initialRun`), every `rescanMinutes`, and when a side's notifications fail
 * (that side is polled from then on). One run at a time: what arrives during a run waits for
 * the next one. Notifications of what a run itself wrote are recognised (see
 * `WatchRunResult.recorded`) and start nothing.
 */
export class PairWatcher {
  readonly settings: WatchSettings;
  readonly #options: PairWatcherOptions;
  readonly #storages: Record<Side, Storage>;
  readonly #collector: ChangeCollector;
  readonly #now: () => number;
  readonly #sources: Partial<Record<Side, ChangeSource>> = {};
  readonly #modes: Record<Side, SideMode | null> = { source: null, destination: null };
  readonly #fallbacks: Partial<Record<Side, string>> = {};
  readonly #abort = new AbortController();
  readonly #listeners = new Set<(event: WatchEvent) => void>();
  /** Last-known records recent runs wrote, per side, with when the run ended. */
  readonly #recorded: Record<Side, Map<string, { entry: Entry | null; at: number }>> = {
    source: new Map(),
    destination: new Map(),
  };
  /** What the pair ignores; null while it is (re)read or could not be: nothing is left out then. */
  #ignore: IgnoreMatcher | null = null;
  /** Counts reads of the ignore rules, so an older read never replaces a newer one. */
  #ignoreReads = 0;
  #fullReason: FullRunReason | null = null;
  #running: WatchRunRequest | null = null;
  #isBusy = false;
  #pumping: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  #lastChangeAt: number | null = null;
  /** Notified changes being checked against what runs wrote, in order, before they are told. */
  #screening: Promise<void> = Promise.resolve();
  #lastRunAt: number | null = null;
  #isStarted = false;
  #isStopped = false;

  constructor(options: PairWatcherOptions) {
    this.#options = options;
    this.settings = resolveWatchSettings(options.settings);
    this.#storages = { source: options.source, destination: options.destination };
    this.#collector = new ChangeCollector(this.settings.debounceMs);
    this.#now = options.now ?? Date.now;
    if (options.onEvent) this.#listeners.add(options.onEvent);
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** Adds a listener of watch events; returns its removal. */
  subscribe(listener: (event: WatchEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get status(): WatcherStatus {
    return {
      modes: { ...this.#modes },
      pending: this.#collector.pending,
      lastChangeAt: this.#lastChangeAt,
      running: this.#running,
      lastRunAt: this.#lastRunAt,
      fallbacks: { ...this.#fallbacks },
    };
  }

  /**
   * Sets up the watches of both sides (a local side whose notifications cannot be set up,
   * the watch limit reached say, is polled and reported as a fallback) and starts the
   * first full run unless `initialRun` is false. Resolves once both sides are watched.
   */
  async start(): Promise<void> {
    if (this.#isStarted) throw new Error('the watcher was already started');
    this.#isStarted = true;
    await Promise.all([...SIDES.map((side) => this.#watchSide(side)), this.#readIgnoreRules()]);
    if (this.#isStopped) return;
    const rescanMs = this.settings.rescanMinutes * 60_000;
    this.#rescanTimer = setInterval(() => this.requestFullRun('rescan'), rescanMs);
    this.#rescanTimer.unref?.();
    // A side that fell back while being set up has asked for a full run already.
    const hasFallenBack = Object.keys(this.#fallbacks).length > 0;
    if (this.#options.initialRun !== false && !hasFallenBack) this.requestFullRun('start');
  }

  /** Asks for a full run (after the current one, if any); pending changes are part of it. */
  requestFullRun(reason: FullRunReason): void {
    if (this.#isStopped) return;
    // A fallback is the reason worth telling over a routine rescan.
    if (this.#fullReason !== 'fallback') this.#fullReason = reason;
    this.#pump();
  }

  /**
   * Stops watching: no new run starts, the run under way is told to stop (its signal) and
   * awaited, and every watch and poll is closed.
   */
  async stop(): Promise<void> {
    if (this.#isStopped) {
      await this.#pumping;
      return;
    }
    this.#isStopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#rescanTimer);
    this.#abort.abort();
    await Promise.all(SIDES.map((side) => this.#sources[side]?.stop().catch(() => undefined)));
    await this.#pumping;
  }

  #emit(event: WatchEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener must not throw; the watch goes on.
      }
    }
  }

  async #watchSide(side: Side): Promise<void> {
    const storage = this.#storages[side];
    const root = localRootOf(storage);
    if (root === null) {
      this.#poll(side, 'poll');
      return;
    }
    const sink: ChangeSink = {
      changes: (paths) => this.#changed(side, paths),
      failed: (reason) => void this.#fallBack(side, reason),
    };
    try {
      const factory = this.#options.localWatcher ?? parcelWatcher;
      this.#sources[side] = await factory(root, sink);
      this.#modes[side] = 'notify';
      if (this.#isStopped) await this.#sources[side].stop();
    } catch (error) {
      await this.#fallBack(side, `change notifications could not be set up (${messageOf(error)})`);
    }
  }

  async #fallBack(side: Side, reason: string): Promise<void> {
    if (this.#isStopped || this.#modes[side] === 'fallback-poll') return;
    const hint = /ENOSPC|no space left|limit/i.test(reason)
      ? '; raise fs.inotify.max_user_watches to watch every folder'
      : '';
    const why = `${reason}${hint}; the ${side} side is polled every ${this.settings.pollSeconds} s instead`;
    this.#fallbacks[side] = why;
    const previous = this.#sources[side];
    this.#poll(side, 'fallback-poll');
    this.#emit({ type: 'fallback', side, reason: why, at: this.#now() });
    this.requestFullRun('fallback');
    await previous?.stop().catch(() => undefined);
  }

  #poll(side: Side, mode: SideMode): void {
    this.#modes[side] = mode;
    this.#sources[side] = pollStorage(
      this.#storages[side],
      this.settings.pollSeconds * 1000,
      {
        changes: (paths) => this.#changed(side, paths),
        failed: () => undefined,
      },
      (error) => this.#emit({ type: 'poll_error', side, error, at: this.#now() }),
    );
  }

  /** Reads the pair's ignore rules (patterns and the source's `.syncignore` files) again. */
  async #readIgnoreRules(): Promise<void> {
    const read = ++this.#ignoreReads;
    this.#ignore = null;
    let matcher: IgnoreMatcher | null = null;
    try {
      matcher = await createIgnoreMatcher({
        patterns: this.#options.ignorePatterns ?? [],
        storage: this.#storages.source,
        signal: this.#abort.signal,
      });
    } catch {
      // Rules that cannot be read leave nothing out: the runs decide.
    }
    if (read === this.#ignoreReads) this.#ignore = matcher;
  }

  /**
   * A changed path the sync leaves alone: ignored whether it is a file or a folder (a
   * notification does not tell which), or one of the engine's own paths (versions area,
   * state folder, temporary files). A `.syncignore` is never left out here.
   */
  #isIgnored(path: string): boolean {
    if (isEngineInternalPath(path)) return true;
    if (baseName(path) === IGNORE_FILE_NAME || !this.#ignore) return false;
    return this.#ignore.isIgnored(path, false) && this.#ignore.isIgnored(path, true);
  }

  #changed(side: Side, changed: string[]): void {
    if (this.#isStopped) return;
    const paths = changed.filter((path) => !this.#isIgnored(path));
    if (paths.some((path) => baseName(path) === IGNORE_FILE_NAME)) void this.#readIgnoreRules();
    if (paths.length === 0) return;
    const now = this.#now();
    this.#collector.add(side, paths, now);
    this.#pump();
    this.#screening = this.#screening.then(async () => {
      const real = await this.#notOwnWrites(side, paths);
      if (real.length === 0 || this.#isStopped) return;
      this.#lastChangeAt = Math.max(this.#lastChangeAt ?? now, now);
      this.#emit({ type: 'changes', side, paths: real, pending: this.#collector.pending, at: now });
    });
  }

  /** Starts the run loop unless it is going; it runs whatever is due, one run at a time. */
  #pump(): void {
    if (this.#isBusy || this.#isStopped) return;
    this.#isBusy = true;
    clearTimeout(this.#timer);
    this.#pumping = this.#loop().finally(() => {
      this.#isBusy = false;
      this.#arm();
    });
  }

  /** Sets the timer for the waiting changes' due time. */
  #arm(): void {
    clearTimeout(this.#timer);
    if (this.#isStopped) return;
    if (this.#fullReason) {
      this.#pump();
      return;
    }
    const due = this.#collector.dueAt();
    if (due === null) return;
    this.#timer = setTimeout(() => this.#pump(), Math.max(0, due - this.#now()));
  }

  async #loop(): Promise<void> {
    while (!this.#isStopped) {
      let request: WatchRunRequest;
      if (this.#fullReason) {
        request = { kind: 'full', reason: this.#fullReason };
        this.#fullReason = null;
        this.#collector.clear();
      } else if (this.#collector.isDue(this.#now())) {
        const batch = this.#collector.take()!;
        // Its changes are told before its run starts.
        await this.#screening;
        const paths = await this.#withoutOwnWrites(batch.paths);
        if (paths.length === 0) {
          this.#emit({
            type: 'dropped',
            changes: batch.count,
            pending: this.#collector.pending,
            at: this.#now(),
          });
          continue;
        }
        request = { kind: 'incremental', paths, changes: batch.count };
      } else {
        return;
      }
      await this.#runOne(request);
    }
  }

  async #runOne(request: WatchRunRequest): Promise<void> {
    this.#running = request;
    this.#emit({ type: 'run_start', request, at: this.#now() });
    let result: WatchRunResult | undefined;
    let error: unknown;
    try {
      result = (await this.#options.run(request, this.#abort.signal)) ?? undefined;
    } catch (caught) {
      error = caught;
    }
    const at = this.#now();
    this.#running = null;
    this.#lastRunAt = at;
    this.#remember(result?.recorded ?? [], at);
    this.#emit(
      error === undefined
        ? { type: 'run_end', request, at, ...(result ? { result } : {}) }
        : { type: 'run_end', request, at, error },
    );
  }

  #remember(recorded: readonly StateChange[], at: number): void {
    for (const side of SIDES) {
      const recent = this.#recorded[side];
      for (const [path, record] of recent) if (at - record.at > RECORDED_KEEP_MS) recent.delete(path);
      for (const change of recorded) recent.set(change.path, { entry: change[side], at });
    }
  }

  /**
   * The changed paths, covered, without those whose notification is a recent run's own
   * write: the side holds now what that run recorded for it.
   */
  async #withoutOwnWrites(paths: Record<Side, Set<string>>): Promise<string[]> {
    const kept: string[] = [];
    for (const side of SIDES) kept.push(...(await this.#notOwnWrites(side, paths[side])));
    return coverPaths(kept);
  }

  /** The changed paths of a side that it does not hold as a recent run or the last-known state records. */
  async #notOwnWrites(side: Side, paths: Iterable<string>): Promise<string[]> {
    const all = [...new Set(paths)];
    const recent = this.#recorded[side];
    const known = await this.#lastKnown(
      side,
      all.filter((path) => !recent.has(path)),
    );
    const kept: string[] = [];
    for (const path of all) {
      const record = recent.has(path)
        ? recent.get(path)!.entry
        : known
          ? (known.get(path) ?? null)
          : undefined;
      if (record !== undefined && (await this.#holds(side, path, record))) continue;
      kept.push(path);
    }
    return kept;
  }

  /** The last-known records of the paths, or null when they cannot be read (every path then runs). */
  async #lastKnown(side: Side, paths: string[]): Promise<ReadonlyMap<string, Entry> | null> {
    if (!this.#options.lastKnown) return null;
    if (paths.length === 0) return new Map();
    try {
      return await this.#options.lastKnown(side, paths);
    } catch {
      return null;
    }
  }

  async #holds(side: Side, path: string, recorded: Entry | null): Promise<boolean> {
    let now: Entry | null;
    try {
      now = await this.#storages[side].stat(path);
    } catch {
      return false;
    }
    return isSameAsRecorded(recorded, now);
  }
}

/** True when `now` (a stat) is what a run recorded: the same kind, size and time, or both gone. */
export function isSameAsRecorded(recorded: Entry | null, now: Entry | null): boolean {
  if (recorded === null || now === null) return recorded === now;
  if (recorded.isDir || now.isDir) return recorded.isDir === now.isDir;
  return recorded.size === now.size && Math.abs(recorded.mtime - now.mtime) < 1;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Starts a `PairWatcher`; resolves once both sides are watched. */
export async function watchPair(options: PairWatcherOptions): Promise<PairWatcher> {
  const watcher = new PairWatcher(options);
  await watcher.start();
  return watcher;
}
