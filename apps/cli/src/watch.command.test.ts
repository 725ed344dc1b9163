import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT, SYNCENGINE, tree } from '../test/cli-process.js';

// `syncengine watch` from source in a child process, on real temporary folders.

let work: string;
let src: string;
let dst: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'syncengine-cli-watch-'));
  src = join(work, 'src');
  dst = join(work, 'dst');
  await mkdir(src);
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Watch {
  child: ChildProcessWithoutNullStreams;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<number | null>;
}

function watch(args: string[]): Watch {
  const child = spawn(SYNCENGINE[0]!, [...SYNCENGINE.slice(1), 'watch', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, XDG_STATE_HOME: join(work, 'state'), NO_COLOR: '1' },
  });
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, lines, stderr: () => stderr, exited };
}

const runs = (w: Watch) => w.lines.filter((line) => line.type === 'run');
const slow = { timeout: 30_000, interval: 100 };

describe('syncengine watch', () => {
  it('syncs changes on either side as they happen, and stops on SIGINT with exit 0, state saved, trees equal', async () => {
    await writeFile(join(src, 'before.txt'), 'there before the watch');
    const w = watch([src, dst, '--json', '--debounce', '100']);
    try {
      await vi.waitFor(() => expect(w.lines.some((line) => line.type === 'watching')).toBe(true), slow);
      expect(w.lines.find((line) => line.type === 'watching')).toMatchObject({
        modes: { source: 'notify', destination: 'notify' },
      });
      await vi.waitFor(() => expect(runs(w)).toHaveLength(1), slow);
      expect(runs(w)[0]).toMatchObject({ kind: 'full', reason: 'start', status: 'completed' });
      expect(await tree(dst)).toEqual({ 'before.txt': 'there before the watch' });

      await mkdir(join(src, 'docs'));
      await writeFile(join(src, 'docs/new.txt'), 'made in the source');
      await vi.waitFor(
        async () => expect((await tree(dst))['docs/new.txt']).toBe('made in the source'),
        slow,
      );
      await writeFile(join(dst, 'docs/new.txt'), 'edited in the destination');
      await vi.waitFor(
        async () => expect((await tree(src))['docs/new.txt']).toBe('edited in the destination'),
        slow,
      );
      await rename(join(dst, 'before.txt'), join(dst, 'after.txt'));
      await vi.waitFor(
        async () => expect(Object.keys(await tree(src)).sort()).toEqual(['after.txt', 'docs/new.txt']),
        slow,
      );
      // A run tells of itself once it has recorded what it did, after the files are in place.
      const incrementalRuns = () => runs(w).filter((run) => run.kind === 'incremental');
      await vi.waitFor(() => expect(incrementalRuns().length).toBeGreaterThanOrEqual(3), slow);
      const incremental = incrementalRuns();
      expect(incremental.every((run) => run.status === 'completed')).toBe(true);
      // The runs' own writes start no runs: once settled, no run follows.
      const settled = runs(w).length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(runs(w)).toHaveLength(settled);
    } finally {
      w.child.kill('SIGINT');
    }
    expect(await w.exited).toBe(0);
    expect(w.lines.at(-1)).toMatchObject({ type: 'stopped', failedRuns: 0 });
    expect(await tree(dst)).toEqual(await tree(src));
    const stateFiles = await readdir(join(work, 'state'), { recursive: true });
    expect(stateFiles.length).toBeGreaterThan(0);
  }, 90_000);

  it('stops on SIGTERM while its first run goes on, with exit 0; the next watch finishes the sync', async () => {
    for (let index = 0; index < 400; index++)
      await writeFile(join(src, `f${index}.bin`), Buffer.alloc(20_000, index));
    const first = watch([src, dst, '--json', '--transfers', '1']);
    await vi.waitFor(() => expect(first.lines.some((line) => line.type === 'watching')).toBe(true), slow);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toBe('');
    expect(first.lines.at(-1)).toMatchObject({ type: 'stopped' });

    const second = watch([src, dst, '--json']);
    await vi.waitFor(() => expect(runs(second)).toHaveLength(1), slow);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(runs(second)[0]).toMatchObject({ status: 'completed' });
    expect(await tree(dst)).toEqual(await tree(src));
  }, 90_000);
});
