import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  makeWorkFolders,
  put,
  REPO_ROOT,
  type ProcessRun as Run,
  runProcess,
  SYNCENGINE,
  tree,
} from '../test/cli-process.js';
import type { JsonReport } from './report.js';

// Faults a real user meets, against the command run from source in a child process, as
// `pnpm syncengine` runs it, on real temporary folders.

let work: string;
let src: string;
let dst: string;

/** Runs the command; `wrapper` runs it through another command (`setpriv …` to drop privileges). */
const syncengine = (args: string[], wrapper: string[] = []) =>
  runProcess([...wrapper, ...SYNCENGINE, ...args], { env: { XDG_STATE_HOME: join(work, 'state') } });

const report = (run: Run) => JSON.parse(run.stdout) as JsonReport;

/** The one pair's state folder below $XDG_STATE_HOME. */
async function stateDir(): Promise<string> {
  const pairs = join(work, 'state', 'syncengine', 'pairs');
  const [pair] = await readdir(pairs);
  return join(pairs, pair!);
}

beforeEach(async () => {
  ({ work, src, dst } = await makeWorkFolders('syncengine-faults-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('damaged state files', { timeout: 60_000 }, () => {
  const damages = {
    truncated: (file: string) => truncate(file, 7),
    garbage: (file: string) => writeFile(file, '\u0000\u00ff{not json at all'),
    missing: (file: string) => rm(file),
  };
  const files = ['sync_metadata.json', 'source_tree.json', 'destination_tree.json'];
  const cases = files.flatMap((file) =>
    Object.keys(damages).map((damage) => [file, damage as keyof typeof damages] as const),
  );

  it.each(cases)(
    '%s %s: the next run reports it, deletes only what the state justifies, repairs it, and the pair keeps working',
    async (file, damage) => {
      await put(src, 'a.txt', 'a');
      await put(src, 'docs/b.txt', 'b');
      await put(dst, 'c.txt', 'c');
      expect((await syncengine(['sync', src, dst, '--quiet'])).code).toBe(0);
      // A delete since the last run: it spreads only where the state proves it a delete.
      await rm(join(src, 'a.txt'));
      await damages[damage](join(await stateDir(), file));

      const run = await syncengine(['sync', src, dst, '--json']);

      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const first = report(run);
      const deletes = first.actions.filter((action) => action.action.startsWith('DELETE'));
      const converged: Record<string, string> = { 'docs/b.txt': 'b', 'c.txt': 'c' };
      if (file === 'sync_metadata.json') {
        // The trees still tell what both sides held: the delete is the user's.
        expect(deletes.map((action) => action.path)).toEqual(['a.txt']);
      } else {
        // Without them the run cannot tell a delete from a creation: it merges.
        expect(deletes).toEqual([]);
        converged['a.txt'] = 'a';
      }
      if (damage !== 'missing') expect(first.warnings.join('\n')).toMatch(/unreadable/);
      expect(await tree(src)).toEqual(converged);
      expect(await tree(dst)).toEqual(converged);
      // The state is whole again: read back without a warning, and the pair is in sync.
      const again = await syncengine(['sync', src, dst, '--json']);
      expect(again.code).toBe(0);
      expect(report(again).warnings).toEqual([]);
      expect(report(again).actions).toEqual([]);
      JSON.parse(await readFile(join(await stateDir(), 'sync_metadata.json'), 'utf8'));
    },
  );
});

/** A small deterministic random source (mulberry32), so a failing seed can be run again. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Every file below `root`, the versions area included, by path: its content. */
async function everything(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path.slice(root.length + 1), await readFile(path, 'utf8'));
  }
  return out;
}

const isTemp = (path: string) => path.split('/').pop()!.includes('.syncengine-tmp-');

/** Starts a sync and kills it (SIGKILL) after `delayMs`; resolves once it is gone. */
function killedSync(args: string[], delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYNCENGINE[0]!, [...SYNCENGINE.slice(1), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, XDG_STATE_HOME: join(work, 'state'), NO_COLOR: '1' },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('a sync killed with SIGKILL at a random moment', { timeout: 120_000 }, () => {
  const seeds = Array.from({ length: Number(process.env.SYNC_KILL_SEEDS ?? 8) }, (_, index) => index + 1);

  it.each(seeds)(
    'seed %i: the next run converges, loses no content, leaves no temporary file, and the one after has nothing to do',
    async (seed) => {
      const random = randomFrom(seed);
      const pick = (count: number) => Math.floor(random() * count);
      // Many small files and a few large ones, so a kill lands in scans, copies and renames.
      const sizeOf = (index: number) => (index % 25 === 0 ? 1_500_000 + pick(500_000) : 100 + pick(20_000));
      const text = (label: string, size: number) => `${label}|`.padEnd(size, label[0] ?? 'x');
      for (let index = 0; index < 120; index++) {
        await put(src, `d${index % 6}/f${index}.txt`, text(`base ${index} ${seed}`, sizeOf(index)));
      }
      const started = Date.now();
      expect((await syncengine(['sync', src, dst, '--quiet'])).code).toBe(0);
      // How long a run of about this much work takes here, start-up included.
      const took = Date.now() - started;
      // Edits on both sides since: updates, deletes, renames and new files.
      for (let index = 0; index < 120; index++) {
        const path = `d${index % 6}/f${index}.txt`;
        const roll = random();
        if (roll < 0.15) await put(src, path, text(`src edit ${index} ${seed}`, sizeOf(index)));
        else if (roll < 0.25) await put(dst, path, text(`dst edit ${index} ${seed}`, sizeOf(index)));
        else if (roll < 0.3) await rm(join(dst, path));
        else if (roll < 0.35) await rename(join(src, path), join(src, `d${index % 6}/moved-${index}.txt`));
      }
      for (let index = 0; index < 40; index++) {
        const side = random() < 0.5 ? src : dst;
        await put(side, `new${index % 4}/n${index}.txt`, text(`new ${index} ${seed}`, sizeOf(index + 1)));
      }
      const before = new Set([...(await everything(src)).values(), ...(await everything(dst)).values()]);

      // Start-up takes most of a run: the kill falls from late in it to about the run's end.
      await killedSync(['sync', src, dst, '--quiet'], Math.round(took * (0.65 + 0.45 * random())));
      const run = await syncengine(['sync', src, dst, '--json']);

      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const [source, destination] = [await everything(src), await everything(dst)];
      const visible = (files: Map<string, string>) =>
        Object.fromEntries([...files].filter(([path]) => !path.startsWith('.syncengine/')));
      expect(visible(destination)).toEqual(visible(source));
      const after = new Set([...source.values(), ...destination.values()]);
      const lost = [...before]
        .filter((content) => !after.has(content))
        .map((content) => content.slice(0, 30));
      expect(lost).toEqual([]);
      expect([...source.keys(), ...destination.keys()].filter(isTemp)).toEqual([]);
      const again = await syncengine(['sync', src, dst, '--json']);
      expect(again.code).toBe(0);
      expect(report(again).actions).toEqual([]);
    },
  );
});

/** Runs a command as root and fails the test when it fails. */
function asRoot(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
}

const isRoot = process.getuid?.() === 0;
/** A tmpfs can be mounted here (root, and a kernel that lets this process mount). */
const canMount = (() => {
  if (!isRoot) return false;
  const probe = mkdtempSync(join(tmpdir(), 'syncengine-mount-probe-'));
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status !== 0) return false;
    spawnSync('umount', [probe]);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

describe('per-file faults', { timeout: 60_000 }, () => {
  // CI runs as root, who reads every file: the command runs as `nobody` to meet a file it cannot read.
  it.skipIf(!isRoot)(
    'a file that cannot be read is reported, the rest is synced, and the next run copies it once readable',
    async () => {
      await put(src, 'a.txt', 'a');
      await put(src, 'docs/b.txt', 'b');
      await put(src, 'secret.txt', 'only root reads this');
      asRoot('chown', ['-R', 'nobody:nogroup', work]);
      asRoot('chown', ['root:root', join(src, 'secret.txt')]);
      asRoot('chmod', ['600', join(src, 'secret.txt')]);
      const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

      const run = await syncengine(['sync', src, dst, '--json'], asNobody);

      expect(run.code).toBe(1);
      const errors = report(run).errors;
      expect(errors.map((error) => error.path)).toEqual(['secret.txt']);
      expect(errors[0]!.message).toMatch(/permission denied/);
      expect(await tree(dst)).toEqual({ 'a.txt': 'a', 'docs/b.txt': 'b' });
      expect((await readdir(dst, { recursive: true })).filter(isTemp)).toEqual([]);

      asRoot('chmod', ['644', join(src, 'secret.txt')]);
      const next = await syncengine(['sync', src, dst, '--json'], asNobody);
      expect(next.code).toBe(0);
      expect(await tree(dst)).toEqual(await tree(src));
      expect(await tree(dst)).toMatchObject({ 'secret.txt': 'only root reads this' });
    },
  );

  // A real full disk: a 1 MB tmpfs as the destination.
  it.skipIf(!canMount)(
    'a destination that runs out of space fails that file only, keeps what is there, and the next run finishes once there is room',
    async () => {
      asRoot('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dst]);
      try {
        await put(dst, 'kept.txt', 'already there');
        await put(src, 'small.txt', 'small');
        await put(src, 'big.bin', 'x'.repeat(3_000_000));

        const run = await syncengine(['sync', src, dst, '--json']);

        expect(run.code).toBe(1);
        const errors = report(run).errors;
        expect(errors.map((error) => error.path)).toEqual(['big.bin']);
        expect(errors[0]!.message).toMatch(/no space left/);
        expect(await tree(dst)).toEqual({ 'kept.txt': 'already there', 'small.txt': 'small' });
        expect(await tree(src)).toMatchObject({ 'kept.txt': 'already there' });
        expect((await readdir(dst, { recursive: true })).filter(isTemp)).toEqual([]);

        asRoot('mount', ['-o', 'remount,size=8m', dst]);
        const next = await syncengine(['sync', src, dst, '--json']);
        expect(next.code).toBe(0);
        expect(await tree(dst)).toEqual(await tree(src));
        expect((await tree(dst))['big.bin']).toHaveLength(3_000_000);
      } finally {
        asRoot('umount', [dst]);
      }
    },
  );
});
