import { emptyProgressTotals } from '@syncengine/engine';
import { describe, expect, it } from 'vitest';
import { ProgressTracker } from './progress.js';

describe('ProgressTracker', () => {
  it('counts files and bytes done against the plan, with the current file and the rate', () => {
    let now = 0;
    const tracker = new ProgressTracker(() => now);
    tracker.apply({ type: 'scan_start', side: 'source' });
    expect(tracker.progress.phase).toBe('scanning');
    tracker.apply({ type: 'plan_ready', actions: 3, total_files: 2, total_bytes: 300 });
    tracker.apply({ type: 'sync_start', total_files: 2, total_bytes: 300, totals: emptyProgressTotals() });
    tracker.apply({ type: 'upload_start', path: 'a', total_bytes: 200 });
    now = 1_000;
    tracker.apply({ type: 'upload_progress', path: 'a', bytes_transferred: 100, total_bytes: 200 });
    expect(tracker.progress).toMatchObject({
      phase: 'transferring',
      filesTotal: 3,
      bytesTotal: 300,
      bytesDone: 100,
      currentFile: 'a',
      rateBytesPerSecond: 100,
    });
    now = 2_000;
    tracker.apply({ type: 'upload_complete', path: 'a', bytes: 200 });
    tracker.apply({
      type: 'action_complete',
      action: { type: 'UPLOAD_NEW', path: 'a', reason: 'r', bytes: 200 },
    });
    expect(tracker.progress).toMatchObject({ bytesDone: 200, filesDone: 1 });
    tracker.apply({ type: 'sync_complete', status: 'completed', stats: {} as never });
    expect(tracker.progress).toMatchObject({ phase: 'finishing', currentFile: null });
  });

  it('counts each kind of action against its own total and lists the transfers in flight', () => {
    const tracker = new ProgressTracker(() => 0);
    expect(tracker.progress.counts).toBeUndefined();
    const totals = { ...emptyProgressTotals(), file: 2, folder: 1, bytes: 30 };
    tracker.apply({ type: 'sync_start', total_files: 2, total_bytes: 30, totals });
    tracker.apply({
      type: 'action_complete',
      action: { type: 'UPLOAD_NEW', path: 'dir', reason: 'r', bytes: 0, isDir: true },
    });
    tracker.apply({ type: 'upload_start', path: 'dir/a', total_bytes: 20 });
    tracker.apply({ type: 'upload_progress', path: 'dir/a', bytes_transferred: 5, total_bytes: 20 });

    const { counts, transfers } = tracker.progress;
    // The folder is not a file: files stay at 0 of 2 (the server once counted it as one).
    expect(counts).toMatchObject({ file: { done: 0, total: 2 }, folder: { done: 1, total: 1 } });
    expect(transfers).toEqual([{ path: 'dir/a', bytesDone: 5, size: 20 }]);
  });

  it('ignores events that say nothing about progress', () => {
    const tracker = new ProgressTracker();
    expect(tracker.apply({ type: 'warning', message: 'x' })).toBe(false);
  });
});
