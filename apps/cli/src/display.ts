import type { ProgressKind, ProgressPhase, ProgressTotals, Side } from '@syncengine/engine';
import { clip, fitEnd, formatBytes, formatCount, formatDuration, formatRate, percent } from './format.js';

/**
 * What a progress display shows: a local run's counts (folded by the engine's
 * SyncProgress) or a server run's (from its WebSocket events).
 */
export interface ProgressView {
  phase: ProgressPhase;
  scanned: Record<Side, number>;
  done: Record<ProgressKind, number>;
  total: ProgressTotals;
  errors: number;
  bytesDone: number;
  transfers: ReadonlyArray<{ path: string; bytesDone: number; size: number }>;
  rateBytesPerSecond: number;
  elapsedMs: number;
}

/** Where a stream's output goes, with the terminal width when it is one. */
export interface Output {
  write(text: string): void;
  columns?: number;
}

const LABEL_WIDTH = 14;
const label = (name: string) => `${name}:`.padEnd(LABEL_WIDTH);

const fraction = (done: number, total: number) => `${formatCount(done)} / ${formatCount(total)}`;
const share = (done: number, total: number) => `${Math.floor(percent(done, total))}%`;

function eta(view: ProgressView): string {
  const left = view.total.bytes - view.bytesDone;
  if (left <= 0) return '0s';
  if (view.rateBytesPerSecond <= 0) return '-';
  return formatDuration(Math.ceil(left / view.rateBytesPerSecond) * 1000);
}

function bytesFigures(view: ProgressView): string {
  const paused = view.phase === 'paused' ? ' (paused)' : '';
  return `${formatBytes(view.bytesDone)} / ${formatBytes(view.total.bytes)}, ${share(
    view.bytesDone,
    view.total.bytes,
  )}, ${formatRate(view.rateBytesPerSecond)}, ETA ${eta(view)}${paused}`;
}

/** The rows after "Files", each shown once the run has something of its kind. */
const COUNTED_ROWS: ReadonlyArray<[ProgressKind, string]> = [
  ['folder', 'Folders'],
  ['check', 'Checks'],
  ['delete', 'Deleted'],
  ['rename', 'Renamed'],
  ['conflict', 'Conflicts'],
];

/**
 * The multi-line live display, like `rclone -P`: bytes with percent, rate and ETA; files;
 * folders, checks, deletes, renames and conflicts where the run has any; errors; elapsed
 * time; then one line per transfer in flight (at most `maxTransfers`) with its percent.
 * Lines are cut to `width` so that none wraps.
 */
export function progressLines(
  view: ProgressView,
  options: { width: number; maxTransfers: number },
): string[] {
  const elapsed = `${label('Elapsed time')}${formatDuration(view.elapsedMs)}`;
  if (view.phase === 'starting' || view.phase === 'scanning' || view.phase === 'planning') {
    const scanned = `${formatCount(view.scanned.source)} source, ${formatCount(view.scanned.destination)} destination entries`;
    const what = view.phase === 'planning' ? label('Planning') : label('Scanning');
    return [`${what}${scanned}`, elapsed].map((line) => clip(line, options.width));
  }
  const lines = [
    `${label('Transferred')}${bytesFigures(view)}`,
    `${label('Files')}${fraction(view.done.file, view.total.file)}, ${share(view.done.file, view.total.file)}`,
  ];
  for (const [kind, name] of COUNTED_ROWS) {
    if (view.total[kind] > 0) lines.push(`${label(name)}${fraction(view.done[kind], view.total[kind])}`);
  }
  if (view.errors > 0) lines.push(`${label('Errors')}${formatCount(view.errors)}`);
  lines.push(elapsed);
  const shown = view.transfers.slice(0, options.maxTransfers);
  const fitted = lines.map((line) => clip(line, options.width));
  if (shown.length > 0) {
    fitted.push('Transferring:');
    for (const transfer of shown) {
      const figures = `: ${share(transfer.bytesDone, transfer.size)} of ${formatBytes(transfer.size)}`;
      const room = options.width - 3 - figures.length;
      fitted.push(` * ${fitEnd(transfer.path, Math.max(room, 1))}${figures}`.slice(0, options.width));
    }
    const more = view.transfers.length - shown.length;
    if (more > 0) fitted.push(` … and ${formatCount(more)} more files in flight`);
  }
  return fitted;
}

/** One line of figures for logs (`--stats-interval`). */
export function statsLine(view: ProgressView): string {
  if (view.phase === 'starting' || view.phase === 'scanning' || view.phase === 'planning') {
    return `${view.phase === 'planning' ? 'Planning' : 'Scanning'}: ${formatCount(view.scanned.source)} source, ${formatCount(
      view.scanned.destination,
    )} destination entries; elapsed ${formatDuration(view.elapsedMs)}`;
  }
  const parts = [
    `Transferred: ${bytesFigures(view)}`,
    `files ${fraction(view.done.file, view.total.file)}`,
    ...COUNTED_ROWS.filter(([kind]) => view.total[kind] > 0).map(
      ([kind, name]) => `${name.toLowerCase()} ${fraction(view.done[kind], view.total[kind])}`,
    ),
    ...(view.errors > 0 ? [`errors ${formatCount(view.errors)}`] : []),
    `elapsed ${formatDuration(view.elapsedMs)}`,
  ];
  return parts.join('; ');
}

/**
 * A block of lines redrawn in place on a terminal. Each frame replaces the previous one
 * in a single write; `clear` removes it (before other output), `keep` leaves the last
 * frame on screen and moves below it.
 */
export class LiveDisplay {
  readonly #out: Output;
  #linesShown = 0;
  #isHeld = false;

  constructor(out: Output) {
    this.#out = out;
  }

  get width(): number {
    return Math.max((this.#out.columns || 80) - 1, 20);
  }

  draw(lines: string[]): void {
    if (this.#isHeld) return;
    this.#out.write(`${this.#erase()}${lines.join('\n')}`);
    this.#linesShown = lines.length;
  }

  clear(): void {
    if (this.#linesShown === 0) return;
    this.#out.write(this.#erase());
    this.#linesShown = 0;
  }

  /** Leaves the frame on screen; the next output starts on the line below it. */
  keep(): void {
    if (this.#linesShown > 0) this.#out.write('\n');
    this.#linesShown = 0;
  }

  /** Clears the frame and draws nothing until `release()`, e.g. while asking the user. */
  hold(): void {
    this.clear();
    this.#isHeld = true;
  }

  release(): void {
    this.#isHeld = false;
  }

  get isShown(): boolean {
    return this.#linesShown > 0;
  }

  #erase(): string {
    if (this.#linesShown === 0) return '';
    const up = this.#linesShown > 1 ? `\x1b[${this.#linesShown - 1}A` : '';
    return `\r${up}\x1b[J`;
  }
}
