import type { ActionType, ConflictResolution, PlannedAction, SyncEvent } from '@syncengine/engine';
import { fitEnd, formatBytes, formatCount } from './format.js';

/** How much the command says while it runs. */
export type OutputMode =
  /** A live status line on stderr, redrawn in place. */
  | 'tty'
  /** One line per action on stdout, for logs and pipes. */
  | 'plain'
  /** Nothing but errors (on stderr). */
  | 'quiet';

/** Past-tense verbs for the plain log, one per action type. */
export const ACTION_VERBS: Record<ActionType, string> = {
  UPLOAD_NEW: 'uploaded',
  UPLOAD_UPDATE: 'uploaded (update)',
  UPLOAD_RESTORE: 'uploaded (restore)',
  DOWNLOAD_NEW: 'downloaded',
  DOWNLOAD_UPDATE: 'downloaded (update)',
  DOWNLOAD_RESTORE: 'downloaded (restore)',
  DELETE_SOURCE: 'deleted at source',
  DELETE_DESTINATION: 'deleted at destination',
  RENAME_SOURCE: 'renamed at source',
  RENAME_DESTINATION: 'renamed at destination',
  NO_ACTION: 'unchanged',
  CONFLICT: 'conflict',
};

export interface Output {
  write(text: string): void;
  /** Terminal width, when the stream is a terminal. */
  columns?: number;
}

const REDRAW_EVERY_MS = 100;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Turns engine events into what the user sees. Errors always reach stderr; the rest
 * depends on the mode. On a terminal, one status line on stderr (files, bytes, rate,
 * current file) is redrawn in place and cleared before any other output.
 */
export class ProgressReporter {
  readonly #mode: OutputMode;
  readonly #stdout: Output;
  readonly #stderr: Output;
  readonly #now: () => number;
  #phase = 'starting';
  #scanned = { source: 0, destination: 0 };
  #totalFiles = 0;
  #totalBytes = 0;
  #doneFiles = 0;
  #doneBytes = 0;
  #inFlight = new Map<string, number>();
  #current = '';
  #startedAt = 0;
  #lastDraw = 0;
  #frame = 0;
  #lineShown = false;
  #isHeld = false;
  /** Errors already shown, so the closing summary does not repeat them. */
  readonly shownErrors = new Set<string>();
  /** Actions that failed, with the reason, for the `--json` document. */
  readonly failures = new Map<PlannedAction, string>();
  /** Actions the engine carried out or attempted (failed ones are in `failures` too). */
  readonly attempted = new Set<PlannedAction>();
  /** How each conflict of the run was settled, by path (`skip` when left pending). */
  readonly resolutions = new Map<string, ConflictResolution>();

  constructor(mode: OutputMode, streams: { stdout: Output; stderr: Output }, now: () => number = Date.now) {
    this.#mode = mode;
    this.#stdout = streams.stdout;
    this.#stderr = streams.stderr;
    this.#now = now;
  }

  /** The engine's event sink. */
  readonly onEvent = (event: SyncEvent): void => {
    switch (event.type) {
      case 'scan_start':
        this.#phase = 'scanning';
        break;
      case 'scan_progress':
        this.#scanned[event.side] = event.files;
        break;
      case 'scan_complete':
        this.#scanned[event.side] = event.files;
        this.#log(`scanned ${event.side}: ${formatCount(event.files)} entries`);
        break;
      case 'plan_ready':
        this.#phase = 'planning';
        break;
      case 'sync_start':
        this.#phase = 'syncing';
        this.#totalFiles = event.total_files;
        this.#totalBytes = event.total_bytes;
        this.#startedAt = this.#now();
        break;
      case 'upload_start':
      case 'download_start':
        this.#current = event.path;
        this.#inFlight.set(event.path, 0);
        break;
      case 'upload_progress':
      case 'download_progress':
        this.#current = event.path;
        this.#inFlight.set(event.path, event.bytes_transferred);
        break;
      case 'upload_complete':
      case 'download_complete':
        this.#inFlight.delete(event.path);
        this.#doneBytes += event.bytes;
        break;
      case 'delete_start':
        this.#current = event.path;
        break;
      case 'action_complete':
        this.#onActionComplete(event.action, event.error);
        break;
      case 'conflict':
        if (event.conflict.resolution) this.resolutions.set(event.conflict.path, event.conflict.resolution);
        break;
      case 'warning':
        if (this.#mode !== 'quiet')
          this.#message(`warning: ${event.path ? `${event.path}: ` : ''}${event.message}`);
        break;
      case 'error':
        this.error(event.message, event.path);
        break;
      case 'paused':
        this.#phase = 'paused';
        break;
      case 'resumed':
        this.#phase = 'syncing';
        break;
      case 'delete_complete':
      case 'rename_complete':
      case 'sync_complete':
        break;
    }
    this.#maybeDraw();
  };

  /** Prints an error on stderr (once per path and message). */
  error(message: string, path?: string): void {
    const text = `error: ${path ? `${path}: ` : ''}${message}`;
    if (this.shownErrors.has(text)) return;
    this.shownErrors.add(text);
    this.#message(text);
  }

  /** Removes the status line and stops redrawing it until `release()`, e.g. while asking the user. */
  hold(): void {
    this.clear();
    this.#isHeld = true;
  }

  release(): void {
    this.#isHeld = false;
  }

  /** Removes the status line, e.g. before the closing summary. */
  clear(): void {
    if (this.#lineShown) {
      this.#stderr.write('\r\x1b[2K');
      this.#lineShown = false;
    }
  }

  #onActionComplete(action: PlannedAction, error: string | undefined): void {
    this.attempted.add(action);
    if (action.type === 'NO_ACTION') return;
    this.#doneFiles += 1;
    if (error !== undefined) {
      this.failures.set(action, error);
      this.error(error, action.path);
      return;
    }
    if (this.#mode !== 'plain') return;
    const target = action.to ? ` → ${action.to}` : '';
    const settled = this.resolutions.get(action.path) ?? action.conflict?.resolution;
    const resolution = action.type === 'CONFLICT' && settled ? ` (${settled})` : '';
    this.#log(`${ACTION_VERBS[action.type]}: ${action.path}${target}${resolution}`);
  }

  /** A plain-mode log line on stdout. */
  #log(text: string): void {
    if (this.#mode === 'plain') this.#stdout.write(`${text}\n`);
  }

  /** A line on stderr that must not be garbled by the status line. */
  #message(text: string): void {
    this.clear();
    this.#stderr.write(`${text}\n`);
    this.#lastDraw = 0;
  }

  #maybeDraw(): void {
    if (this.#mode !== 'tty' || this.#isHeld) return;
    const now = this.#now();
    if (now - this.#lastDraw < REDRAW_EVERY_MS) return;
    this.#lastDraw = now;
    this.#frame = (this.#frame + 1) % SPINNER.length;
    const [status, current] = this.#status(now);
    const line = `${SPINNER[this.#frame]} ${status}`;
    const width = (this.#stderr.columns || 80) - 1;
    const room = width - line.length - 2;
    const fitted = room > 8 && current ? `${line}  ${fitEnd(current, room)}` : line.slice(0, width);
    this.#stderr.write(`\r\x1b[2K${fitted}`);
    this.#lineShown = true;
  }

  /** The status figures, and the file being worked on. */
  #status(now: number): [string, string] {
    if (this.#phase === 'scanning') {
      const counts = `${formatCount(this.#scanned.source)} source, ${formatCount(this.#scanned.destination)}`;
      return [`scanning: ${counts} destination entries`, ''];
    }
    if (this.#phase !== 'syncing' && this.#phase !== 'paused') return [`${this.#phase}…`, ''];
    let bytes = this.#doneBytes;
    for (const partial of this.#inFlight.values()) bytes += partial;
    const seconds = Math.max((now - this.#startedAt) / 1000, 0.001);
    const rate = `${formatBytes(Math.round(bytes / seconds))}/s`;
    const paused = this.#phase === 'paused' ? ' [paused]' : '';
    const files = `${formatCount(this.#doneFiles)}/${formatCount(this.#totalFiles)} files`;
    return [
      `${files}  ${formatBytes(bytes)}/${formatBytes(this.#totalBytes)}  ${rate}${paused}`,
      this.#current,
    ];
  }
}
