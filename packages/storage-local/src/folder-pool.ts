import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { threadId, Worker } from 'node:worker_threads';
import {
  type CopiedFiles,
  type CopyBatch,
  type FolderChanges,
  type FolderReply,
  type FolderRequest,
  fsErrorFrom,
} from './folder-protocol.js';

/** Where a worker's replies for one listing go (`WorkerFolderReader`). */
export interface ListingReceiver {
  receive(reply: FolderReply): void;
  /** The worker stopped: every folder waited for fails. */
  fail(error: Error): void;
}

/** Workers of a pool: a listing and copies, or the two directions' copies, side by side. */
const POOL_SIZE = 2;
/** A worker with nothing to do for this long stops (the pool starts it again when needed). */
const IDLE_MS = 2_000;
/** Idle workers of closed pools kept for the next pools of this process, at most. */
const MAX_SPARE = 4;

/**
 * Idle workers that closed pools handed back: a worker thread costs tens of milliseconds of
 * CPU to start, and a run opens and closes its storages (two pools) once each, so the next
 * run's pools take these instead. A spare still stops after `IDLE_MS` without work.
 */
const spareWorkers: FolderWorker[] = [];

function takeSpare(): FolderWorker | null {
  for (let worker = spareWorkers.pop(); worker; worker = spareWorkers.pop()) {
    if (!worker.failed) return worker;
  }
  return null;
}

/**
 * The folder workers of one local storage (`folder-worker.ts`): its listings read ahead on
 * them, its unchanged-tree checks walk there, and the small files it copies in batches are
 * copied there. The first worker may start with the pool, so that its start-up (some tens of
 * milliseconds) overlaps other work; a second starts where copies would wait. Idle workers do not
 * keep the process alive, and stop after a while (not while they keep descriptors for
 * `flush`); `close()` stops them (a later use starts them again).
 */
export class FolderPool {
  readonly #workers: FolderWorker[] = [];
  #turn = 0;
  #isUnavailable = false;

  /** `start`: start the first worker now, rather than on first use. */
  constructor(options: { start?: boolean } = {}) {
    if (options.start) this.#workerAt(0);
  }

  /** The worker a new listing goes to (in turn); null where workers cannot start. */
  forListing(): FolderWorker | null {
    this.#turn = (this.#turn + 1) % Math.max(1, this.#workers.length);
    return this.#workerAt(this.#turn);
  }

  /**
   * Whether the tree at `root` is as a worker listing saw it that recorded the folder
   * digests `expected` (formatted, by path relative to `root`) and left out the folders
   * `skipped` (absolute): one walk on a worker, no entries built, ended at the first folder
   * that differs. Null where it cannot tell (no worker, a name not UTF-8 or not in NFC,
   * stopped by `signal`). Rejects with the `fs` error of a folder.
   */
  async isTreeUnchanged(
    root: string,
    skipped: string[],
    expected: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<boolean | null> {
    const worker = this.forListing();
    return worker ? worker.compare(root, skipped, expected, signal) : null;
  }

  /**
   * The folders of the tree at `root` that differ from the recorded folder digests
   * `expected` (as `isTreeUnchanged`), found in one walk on a worker. Null where it cannot
   * tell, more than `limit` folders differ, or `signal` stopped it.
   */
  async changedFolders(
    root: string,
    skipped: string[],
    expected: Record<string, string>,
    limit: number,
    signal?: AbortSignal,
  ): Promise<FolderChanges | null> {
    const worker = this.forListing();
    return worker ? worker.changes(root, skipped, expected, limit, signal) : null;
  }

  /**
   * Copies small files on a worker (see the worker's `copyFiles`), the one with the fewest
   * requests waiting. With `keepOpen`, the written files are made durable only by `flush`.
   * Null where no worker can start.
   */
  async copy(batch: CopyBatch): Promise<CopiedFiles | null> {
    let worker = this.#workerAt(0);
    for (const candidate of this.#workers) {
      if (worker && !candidate.failed && candidate.pending < worker.pending) worker = candidate;
    }
    if (worker && worker.pending > 0 && this.#workers.length < POOL_SIZE) {
      worker = this.#workerAt(this.#workers.length) ?? worker;
    }
    return worker ? worker.copy(batch) : null;
  }

  /** fdatasyncs every file the workers copied and have not flushed yet. */
  async flush(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.flush()));
  }

  /** Descriptors the workers keep open for files not flushed yet (an upper bound). */
  get unflushed(): number {
    return this.#workers.reduce((sum, worker) => sum + worker.held, 0);
  }

  /**
   * Stops the workers (call `flush()` first: descriptors kept for it are closed unsynced).
   * An idle one with nothing kept for `flush` goes to the process's spares instead.
   */
  async close(): Promise<void> {
    const workers = this.#workers.splice(0);
    await Promise.all(
      workers.map((worker) => {
        if (spareWorkers.length < MAX_SPARE && worker.park()) {
          spareWorkers.push(worker);
          return undefined;
        }
        return worker.terminate();
      }),
    );
  }

  #workerAt(index: number): FolderWorker | null {
    if (this.#isUnavailable) return null;
    let worker = this.#workers[index];
    if (!worker || worker.failed) {
      try {
        worker = takeSpare() ?? new FolderWorker();
      } catch {
        this.#isUnavailable = true;
        return null;
      }
      this.#workers[index] = worker;
    }
    return worker;
  }
}

/**
 * Starts a folder worker from the module beside this one (`folder-worker.js`, also beside the
 * command's bundle).
 */
function startWorker(): Worker {
  // A small young generation: what a worker allocates (stats, names, copied bytes) dies
  // young, and a large one only adds to the process's footprint.
  // None of this process's own flags (a TypeScript loader, say): the module needs none.
  return new Worker(workerModule(), { execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2 } });
}

let sourceWorker: URL | undefined;

/**
 * The worker's module. Run from the TypeScript sources (tests, the command run from its
 * sources), a worker thread has no TypeScript loader: the module is then bundled once per
 * process with tsx's esbuild, under the workspace's `source` export condition, into a file
 * named by its content in the temporary folder.
 */
function workerModule(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./folder-worker.js', import.meta.url);
  if (sourceWorker) return sourceWorker;
  const require = createRequire(import.meta.url);
  const esbuild = createRequire(require.resolve('tsx/package.json'))('esbuild') as {
    buildSync(options: object): { outputFiles: { text: string }[] };
  };
  const { outputFiles } = esbuild.buildSync({
    entryPoints: [fileURLToPath(new URL('./folder-worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    write: false,
  });
  const text = outputFiles[0]!.text;
  const file = join(
    tmpdir(),
    `syncengine-folder-worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`,
  );
  if (!existsSync(file)) {
    // Written under a name of its own, then renamed: processes starting at once never see half a file.
    const temp = `${file}.${process.pid}-${threadId}`;
    writeFileSync(temp, text);
    renameSync(temp, file);
  }
  sourceWorker = pathToFileURL(file);
  return sourceWorker;
}

/** One folder worker, as its storage's thread sees it. */
export class FolderWorker {
  readonly #worker: Worker;
  readonly #receivers = new Map<number, ListingReceiver>();
  readonly #requests = new Map<number, (reply: FolderReply) => void>();
  #nextListing = 0;
  #holds = 0;
  #idle: NodeJS.Timeout | undefined;
  failed = false;
  /** Copied files whose descriptors the worker keeps open until `flush` (an upper bound). */
  held = 0;

  constructor() {
    this.#worker = startWorker();
    // Idle, it must not keep the process alive.
    this.#worker.unref();
    this.#worker.on('message', (replies: FolderReply[]) => {
      for (const reply of replies) {
        const request = this.#requests.get(reply.listing);
        if (request) {
          this.#requests.delete(reply.listing);
          request(reply);
        } else this.#receivers.get(reply.listing)?.receive(reply);
      }
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the folder worker stopped (exit code ${code})`)));
    this.#whenIdle();
  }

  /** Stops the worker once it has had nothing to do for `IDLE_MS`. */
  #whenIdle(): void {
    clearTimeout(this.#idle);
    if (this.#receivers.size > 0 || this.#requests.size > 0 || this.held > 0 || this.failed) return;
    this.#idle = setTimeout(() => {
      if (this.#receivers.size === 0 && this.#requests.size === 0 && this.held === 0) void this.terminate();
    }, IDLE_MS);
    this.#idle.unref();
  }

  /**
   * Whether this worker is idle, with nothing kept for `flush`, so that another pool may
   * take it: then its idle stop is counted from now.
   */
  park(): boolean {
    if (this.failed || this.#receivers.size > 0 || this.#requests.size > 0 || this.held > 0) return false;
    this.#whenIdle();
    return true;
  }

  /** Starts a listing of the tree at `root`; its replies go to `receiver`. */
  open(receiver: ListingReceiver, root: string, readAhead: number): number {
    const listing = this.#nextListing++;
    clearTimeout(this.#idle);
    this.#receivers.set(listing, receiver);
    this.send({ op: 'open', listing, root, readAhead });
    return listing;
  }

  /** Sends a request that is answered by one reply, keeping the process alive meanwhile. */
  async #ask(request: (listing: number) => FolderRequest): Promise<FolderReply> {
    // A stopped worker answers nothing (and took the descriptors it kept for `flush` with it).
    if (this.failed) throw new Error('the folder worker has stopped');
    const listing = this.#nextListing++;
    clearTimeout(this.#idle);
    this.hold();
    try {
      const reply = await new Promise<FolderReply>((resolve) => {
        this.#requests.set(listing, resolve);
        this.send(request(listing));
      });
      if ('error' in reply) throw fsErrorFrom(reply.error);
      return reply;
    } finally {
      this.release();
      this.#whenIdle();
    }
  }

  /** `FolderPool.isTreeUnchanged` on this worker. */
  async compare(
    root: string,
    skipped: string[],
    expected: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<boolean | null> {
    // The walk runs to its end in one go on the worker; an abort reaches it through memory.
    const stop = new SharedArrayBuffer(4);
    const onAbort = () => Atomics.store(new Int32Array(stop), 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await this.#ask((listing) => ({ op: 'compare', listing, root, skipped, expected, stop }));
      return 'unchanged' in reply ? reply.unchanged : null;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The worker's thread (as `worker_threads` numbers them). */
  get threadId(): number {
    return this.#worker.threadId;
  }

  /** `FolderPool.changedFolders` on this worker. */
  async changes(
    root: string,
    skipped: string[],
    expected: Record<string, string>,
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<FolderChanges | null> {
    const stop = new SharedArrayBuffer(4);
    const onAbort = () => Atomics.store(new Int32Array(stop), 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await this.#ask((listing) => ({
        op: 'compare',
        listing,
        root,
        skipped,
        expected,
        limit,
        stop,
      }));
      return 'changes' in reply ? reply.changes : null;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Requests sent and not answered yet. */
  get pending(): number {
    return this.#requests.size;
  }

  /** `FolderPool.copy` on this worker. */
  async copy(batch: CopyBatch): Promise<CopiedFiles> {
    // Counted from the start: an idle worker must not stop while it keeps descriptors.
    if (batch.keepOpen) this.held += batch.copies.length;
    const reply = await this.#ask((listing) => ({ op: 'copy', listing, batch }));
    if (!('copied' in reply)) throw new Error('the folder worker did not copy');
    return reply.copied;
  }

  /** Makes every file this worker copied durable. */
  async flush(): Promise<void> {
    if (this.held === 0) return;
    this.held = 0;
    await this.#ask((listing) => ({ op: 'flush', listing }));
  }

  send(request: FolderRequest): void {
    this.#worker.postMessage(request);
  }

  close(listing: number): void {
    if (this.#receivers.delete(listing)) this.send({ op: 'close', listing });
    this.#whenIdle();
  }

  /**
   * While a listing waits for a folder the worker must keep the process alive (the reply is
   * all that is pending); otherwise it must not.
   */
  hold(): void {
    if (this.#holds++ === 0) this.#worker.ref();
  }

  release(): void {
    if (--this.#holds === 0) this.#worker.unref();
  }

  async terminate(): Promise<void> {
    this.failed = true;
    clearTimeout(this.#idle);
    await this.#worker.terminate();
  }

  #fail(error: Error): void {
    this.failed = true;
    for (const receiver of this.#receivers.values()) receiver.fail(error);
    this.#receivers.clear();
    for (const [listing, request] of this.#requests)
      request({ listing, path: '', error: { message: error.message } });
    this.#requests.clear();
  }
}
