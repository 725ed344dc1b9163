import { type Entry, isEngineInternalPath, isLocalFolder, type Storage } from '@syncengine/engine';
import { relativeChangePath } from './dirty-set.js';

/** Where a side's changes come from: told changed relative paths, or that it stopped working. */
export interface ChangeSink {
  /** Relative paths that changed (each one standing for everything below it). */
  changes(paths: string[]): void;
  /**
   * The notifications stopped being trustworthy (events overflowed, the watch limit was
   * reached, the watch failed): the watcher runs a full run and polls this side from now on.
   */
  failed(reason: string): void;
}

/** A running watch of one side. */
export interface ChangeSource {
  stop(): Promise<void>;
}

/** Starts the operating system's notifications for a local folder (resolves once they are set up). */
export type LocalWatcherFactory = (root: string, sink: ChangeSink) => Promise<ChangeSource>;

/** The root folder of a local storage, or null for a backend that must be polled. */
export function localRootOf(storage: Storage): string | null {
  return isLocalFolder(storage) ? storage.localPath : null;
}

/**
 * Watches a local folder with @parcel/watcher (inotify on Linux, FSEvents on macOS,
 * ReadDirectoryChangesW on Windows). Its own C++ thread reads the notifications and hands
 * them over in batches; the engine's folders are not watched at all.
 */
export const parcelWatcher: LocalWatcherFactory = async (root, sink) => {
  const watcher = await import('@parcel/watcher');
  const subscribe =
    watcher.subscribe ?? (watcher as unknown as { default: typeof watcher }).default.subscribe;
  let hasFailed = false;
  const subscription = await subscribe(
    root,
    (error, events) => {
      if (hasFailed) return;
      if (error) {
        hasFailed = true;
        sink.failed(`change notifications failed (${error.message})`);
        return;
      }
      const paths: string[] = [];
      for (const event of events) {
        const path = relativeChangePath(root, event.path);
        if (path !== null) paths.push(path);
      }
      if (paths.length > 0) sink.changes(paths);
    },
    { ignore: ['.syncengine', '.sync_state', '**/.syncengine', '**/.sync_state'] },
  );
  return { stop: () => subscription.unsubscribe() };
};

/** What of an entry a listing comparison looks at: a change in any of them is a change. */
function signatureOf(entry: Entry): string {
  if (entry.isDir) return 'd';
  return `${entry.size}:${entry.mtime}:${entry.hash ?? ''}:${entry.id ?? ''}`;
}

/**
 * Lists the storage into path → signature (no content is read: S3, SFTP and WebDAV list
 * sizes, times and ETags). The engine's own paths are left out.
 */
export async function listSignatures(storage: Storage, signal?: AbortSignal): Promise<Map<string, string>> {
  const listing = new Map<string, string>();
  const include = (path: string) => !isEngineInternalPath(path);
  for await (const entry of storage.list({ include, signal })) {
    if (isEngineInternalPath(entry.path)) continue;
    listing.set(entry.path, signatureOf(entry));
  }
  return listing;
}

/** Paths whose signature differs between two listings (added, removed or changed). */
export function diffListings(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): string[] {
  const changed: string[] = [];
  for (const [path, signature] of after) if (before.get(path) !== signature) changed.push(path);
  for (const path of before.keys()) if (!after.has(path)) changed.push(path);
  return changed;
}

/**
 * Polls a storage every `intervalMs`: lists it and reports the paths that differ from the
 * previous listing. The first listing is the baseline and reports nothing. A failed listing
 * is told to `onError` and tried again at the next interval (the baseline stays).
 */
export function pollStorage(
  storage: Storage,
  intervalMs: number,
  sink: ChangeSink,
  onError: (error: unknown) => void,
): ChangeSource {
  const abort = new AbortController();
  let baseline: Map<string, string> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  const poll = async () => {
    try {
      const listing = await listSignatures(storage, abort.signal);
      if (abort.signal.aborted) return;
      if (baseline) {
        const changed = diffListings(baseline, listing);
        if (changed.length > 0) sink.changes(changed);
      }
      baseline = listing;
    } catch (error) {
      if (!abort.signal.aborted) onError(error);
    }
  };
  const loop = () => {
    polling = poll().finally(() => {
      if (!abort.signal.aborted) timer = setTimeout(loop, intervalMs);
    });
  };
  loop();
  return {
    async stop() {
      abort.abort();
      clearTimeout(timer);
      await polling;
    },
  };
}
