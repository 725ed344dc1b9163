import type { ActionType, ConflictResolution, PlannedAction, SyncEvent } from '@syncengine/engine';
import { SyncProgress } from '@syncengine/engine/progress';
import { LiveDisplay, type Output, type ProgressView, progressLines, statsLine } from './display.js';
import { plural } from './format.js';

/** How much the command says while it runs. */
export type OutputMode =
  /** A live block of figures on stderr, redrawn in place. */
  | 'tty'
  /** One line per action on stdout, for logs and pipes. */
  | 'plain'
  /** Nothing but errors (on stderr). */
  | 'quiet';

/**
 * What the command shows while it runs: only the JSON document or only errors when asked;
 * otherwise the live display on a terminal (or wherever `--progress` forces it), plain
 * lines elsewhere (and with `--no-progress`).
 */
export function outputMode(
  options: { quiet?: boolean; json?: boolean; progress?: boolean },
  io: { stderr: { isTTY?: boolean } },
): OutputMode {
  if (options.quiet || options.json) return 'quiet';
  if (options.progress !== undefined) return options.progress ? 'tty' : 'plain';
  return io.stderr.isTTY ? 'tty' : 'plain';
}

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

export type { Output } from './display.js';

/** How often the live display is redrawn at most (ms). */
const REDRAW_EVERY_MS = 200;

/** How the reporter shows progress besides its mode. */
export interface ProgressOptions {
  /** Transfers shown at most in the live display (the run's `--transfers`). */
  maxTransfers?: number;
  /** In plain mode, a line of figures every so many ms (`--stats-interval`); 0 for none. */
  statsIntervalMs?: number;
  now?: () => number;
}

/**
 * Turns engine events into what the user sees. Errors always reach stderr; the rest
 * depends on the mode. On a terminal, a block of figures on stderr (like `rclone -P`) is
 * redrawn in place and cleared before any other output; in plain mode, one line per
 * action on stdout, and figures every `--stats-interval`.
 */
export class ProgressReporter {
  readonly #mode: OutputMode;
  readonly #stdout: Output;
  readonly #stderr: Output;
  readonly #now: () => number;
  readonly #progress: SyncProgress;
  readonly #display: LiveDisplay;
  readonly #maxTransfers: number;
  readonly #statsIntervalMs: number;
  readonly #startedAt: number;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;
  /** Errors already shown, so the closing summary does not repeat them. */
  readonly shownErrors = new Set<string>();
  /** Actions that failed, with the reason, for the `--json` document. */
  readonly failures = new Map<PlannedAction, string>();
  /** Actions the engine carried out or attempted (failed ones are in `failures` too). */
  readonly attempted = new Set<PlannedAction>();
  /** How each conflict of the run was settled, by path (`skip` when left pending). */
  readonly resolutions = new Map<string, ConflictResolution>();

  constructor(mode: OutputMode, streams: { stdout: Output; stderr: Output }, options: ProgressOptions = {}) {
    this.#mode = mode;
    this.#stdout = streams.stdout;
    this.#stderr = streams.stderr;
    this.#now = options.now ?? Date.now;
    this.#progress = new SyncProgress(this.#now);
    this.#display = new LiveDisplay(streams.stderr);
    this.#maxTransfers = options.maxTransfers ?? 5;
    this.#statsIntervalMs = options.statsIntervalMs ?? 0;
    this.#startedAt = this.#now();
  }

  /** Starts the timer that keeps the display (or the stats lines) going between events. */
  start(): void {
    if (this.#timer) return;
    const every = this.#mode === 'tty' ? REDRAW_EVERY_MS : this.#mode === 'plain' ? this.#statsIntervalMs : 0;
    if (every <= 0) return;
    this.#timer = setInterval(() => {
      if (this.#mode === 'tty') this.#draw();
      else this.#log(statsLine(this.view));
    }, every);
    this.#timer.unref();
  }

  /** Stops the timer; on a terminal, leaves the final figures on screen. */
  finish(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#mode === 'tty') {
      this.#display.release();
      this.#draw();
      this.#display.keep();
    } else if (this.#statsIntervalMs > 0) {
      this.#log(statsLine(this.view));
    }
  }

  /** The figures as they stand. */
  get view(): ProgressView {
    return { ...this.#progress.snapshot, elapsedMs: this.#now() - this.#startedAt };
  }

  /** The engine's event sink. */
  readonly onEvent = (event: SyncEvent): void => {
    this.#progress.apply(event);
    switch (event.type) {
      case 'scan_complete':
        this.#log(`scanned ${event.side}: ${plural(event.files, 'entry', 'entries')}`);
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
      case 'temporary_files_removed':
        if (this.#mode !== 'quiet')
          this.#message(
            `removed ${event.count} temporary file(s) an interrupted run left on the ${event.side} side`,
          );
        break;
      default:
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

  /** Removes the live display and stops redrawing it until `release()`, e.g. while asking the user. */
  hold(): void {
    this.#display.hold();
  }

  release(): void {
    this.#display.release();
  }

  /** Removes the live display, e.g. before a message. */
  clear(): void {
    this.#display.clear();
  }

  #onActionComplete(action: PlannedAction, error: string | undefined): void {
    this.attempted.add(action);
    if (action.type === 'NO_ACTION') return;
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
    this.#display.clear();
    this.#stderr.write(`${text}\n`);
    this.#lastDraw = Number.NEGATIVE_INFINITY;
  }

  #maybeDraw(): void {
    if (this.#mode !== 'tty') return;
    if (this.#now() - this.#lastDraw < REDRAW_EVERY_MS) return;
    this.#draw();
  }

  #draw(): void {
    this.#lastDraw = this.#now();
    this.#display.draw(
      progressLines(this.view, { width: this.#display.width, maxTransfers: this.#maxTransfers }),
    );
  }
}
