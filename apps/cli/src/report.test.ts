import type { Plan, PlannedAction, SyncResult } from '@syncengine/engine';
import { emptyProgressTotals } from '@syncengine/engine';
import { describe, expect, it } from 'vitest';
import { ProgressReporter } from './progress.js';
import { jsonReport } from './report.js';
import { summaryLine } from './sync.command.js';

/** The escape character that starts terminal control sequences. */
const ESC = '\x1b';

const upload: PlannedAction = {
  type: 'UPLOAD_NEW',
  path: 'a/b.txt',
  reason: 'two-way: created / none',
  bytes: 10,
};
const rename: PlannedAction = {
  type: 'RENAME_DESTINATION',
  path: 'old.txt',
  to: 'new.txt',
  reason: 'two-way: renamed / unchanged',
  bytes: 0,
};
const download: PlannedAction = {
  type: 'DOWNLOAD_UPDATE',
  path: 'c.txt',
  reason: 'two-way: unchanged / modified',
  bytes: 7,
};
const same: PlannedAction = { type: 'NO_ACTION', path: 'same.txt', reason: 'unchanged', bytes: 0 };

const plan: Plan = {
  actions: [upload, rename, download, same],
  totals: { files: 3, bytes: 17, deletes: { source: 0, destination: 0 } },
  isFirstSync: false,
  warnings: [],
};

function result(overrides: Partial<SyncResult> = {}): SyncResult {
  return {
    status: 'completed',
    plan,
    stats: {
      actions: { UPLOAD_NEW: 1, RENAME_DESTINATION: 1, DOWNLOAD_UPDATE: 1, NO_ACTION: 1 },
      bytesUploaded: 10,
      bytesDownloaded: 7,
      conflicts: 0,
      conflictsPending: 0,
      errors: 0,
      durationMs: 42,
      temporaryFilesRemoved: 0,
      deferred: 0,
    },
    errors: [],
    pendingConflicts: [],
    warnings: [],
    deferred: [],
    ...overrides,
  };
}

const lines = () => {
  const out: string[] = [];
  return { out, stream: { write: (text: string) => void out.push(text) } };
};

describe('the --json document', () => {
  it('lists a dry run plan with rename targets and counts what it would move', () => {
    const doc = jsonReport(result({ stats: { ...result().stats, actions: {} } }), { dryRun: true });

    expect(doc.actions.map(({ action, path, to }) => ({ action, path, to }))).toEqual([
      { action: 'UPLOAD_NEW', path: 'a/b.txt', to: undefined },
      { action: 'RENAME_DESTINATION', path: 'old.txt', to: 'new.txt' },
      { action: 'DOWNLOAD_UPDATE', path: 'c.txt', to: undefined },
    ]);
    expect(doc.stats).toMatchObject({
      UPLOAD_NEW: 1,
      RENAME_DESTINATION: 1,
      DOWNLOAD_UPDATE: 1,
      NO_ACTION: 1,
      DELETE_SOURCE: 0,
      bytesUploaded: 10,
      bytesDownloaded: 7,
    });
    expect(doc.status).toBe('planned');
  });

  it('lists only what a cancelled run carried out, with the failures', () => {
    const sink = lines();
    const reporter = new ProgressReporter('quiet', { stdout: sink.stream, stderr: sink.stream });
    reporter.onEvent({ type: 'action_complete', action: upload });
    reporter.onEvent({ type: 'action_complete', action: download, error: 'disk full' });

    const doc = jsonReport(result({ status: 'cancelled' }), {
      dryRun: false,
      attempted: reporter.attempted,
      failures: reporter.failures,
    });

    expect(doc.actions).toEqual([
      expect.objectContaining({ action: 'UPLOAD_NEW', path: 'a/b.txt' }),
      expect.objectContaining({ action: 'DOWNLOAD_UPDATE', path: 'c.txt', error: 'disk full' }),
    ]);
    expect(sink.out.join('')).toBe('error: c.txt: disk full\n');
  });
});

describe('the progress output', () => {
  it('logs one line per action in plain mode and nothing for unchanged files', () => {
    const stdout = lines();
    const stderr = lines();
    const reporter = new ProgressReporter('plain', { stdout: stdout.stream, stderr: stderr.stream });
    for (const action of [upload, rename, same]) reporter.onEvent({ type: 'action_complete', action });

    expect(stdout.out.join('')).toBe('uploaded: a/b.txt\nrenamed at destination: old.txt → new.txt\n');
    expect(stderr.out).toEqual([]);
  });

  it('redraws a block of figures on a terminal and keeps it away while a question is asked', () => {
    const stderr = lines();
    let now = 0;
    const reporter = new ProgressReporter(
      'tty',
      { stdout: lines().stream, stderr: { ...stderr.stream, columns: 100 } },
      { now: () => now, maxTransfers: 2 },
    );
    const totals = { ...emptyProgressTotals(), file: 3, folder: 1, bytes: 17 };
    reporter.onEvent({ type: 'sync_start', total_files: 3, total_bytes: 17, totals });
    now = 1000;
    reporter.onEvent({ type: 'upload_start', path: 'a/b.txt', total_bytes: 10 });
    reporter.onEvent({ type: 'upload_progress', path: 'a/b.txt', bytes_transferred: 5, total_bytes: 10 });
    now = 2000;
    reporter.onEvent({ type: 'upload_start', path: 'c.txt', total_bytes: 7 });
    const frame = stderr.out.at(-1) ?? '';
    // Each frame first erases the previous one (cursor up over its lines, clear below).
    expect(frame.startsWith('\r\x1b[')).toBe(true);
    const erase = new RegExp(`^\\r(${ESC}\\[\\d+A)?${ESC}\\[J`);
    const shown = frame.replace(erase, '').split('\n');
    expect(shown[0]).toMatch(/^Transferred: +5 B \/ 17 B, 29%, [\d.]+ B\/s, ETA \S+$/);
    expect(shown).toContain('Files:        0 / 3, 0%');
    expect(shown).toContain('Folders:      0 / 1');
    expect(shown).toContain('Elapsed time: 2s');
    expect(shown.slice(-3)).toEqual(['Transferring:', ' * a/b.txt: 50% of 10 B', ' * c.txt: 0% of 7 B']);

    reporter.hold();
    const written = stderr.out.length;
    now = 3000;
    reporter.onEvent({ type: 'upload_complete', path: 'a/b.txt', bytes: 10 });
    expect(stderr.out.length).toBe(written);
    reporter.release();
    now = 4000;
    reporter.onEvent({ type: 'action_complete', action: upload });
    expect(stderr.out.at(-1)).toContain('Files:        1 / 3, 33%');
  });
});

describe('the closing summary', () => {
  it('says what a run did, and what a cancelled run got done', () => {
    expect(summaryLine(result(), false)).toBe(
      'Done: 1 file to destination, 1 file to source, 1 renamed; 10 B up, 7 B down in 42 ms.',
    );
    const cancelled = result({
      status: 'cancelled',
      stats: { ...result().stats, actions: { UPLOAD_NEW: 1 }, bytesDownloaded: 0 },
    });
    expect(summaryLine(cancelled, false)).toBe(
      'Cancelled after 42 ms: 1 file to destination; 10 B up, 0 B down.',
    );
    expect(summaryLine(result(), true)).toBe(
      'Dry run, nothing changed. Would do: 1 file to destination, 1 file to source, 1 renamed.',
    );
  });

  it('counts the files and folders a run carried out apart, and leaves out those that failed', () => {
    const folder: PlannedAction = { ...upload, path: 'a', isDir: true, bytes: 0 };
    const failed: PlannedAction = { ...upload, path: 'a/c.txt' };
    const run = result({ plan: { ...plan, actions: [folder, upload, failed, download] } });
    const outcome = {
      attempted: new Set([folder, upload, failed, download]),
      failures: new Map([[failed, 'disk full']]),
    };
    expect(summaryLine(run, false, outcome)).toBe(
      'Done: 1 file and 1 folder to destination, 1 file to source; 10 B up, 7 B down in 42 ms.',
    );
  });
});
