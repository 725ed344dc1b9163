import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JsonReport } from './report.js';

// Faults a real user meets, against the command run from source in a child process, as
// `pnpm syncengine` runs it, on real temporary folders.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const main = join(repoRoot, 'apps', 'cli', 'src', 'main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let work: string;
let src: string;
let dst: string;

function syncengine(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, ...args], {
      cwd: repoRoot,
      env: { ...process.env, XDG_STATE_HOME: join(work, 'state'), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function put(root: string, path: string, content: string) {
  const file = join(root, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
}

/** Every file below root (not the engine's own folders), with its content. */
async function tree(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (dir: string, prefix: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === '.syncengine' || entry.name === '.sync_state') continue;
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(join(dir, entry.name), rel);
      else files[rel] = await readFile(join(dir, entry.name), 'utf8');
    }
  };
  await walk(root, '');
  return files;
}

const report = (run: Run) => JSON.parse(run.stdout) as JsonReport;

/** The one pair's state folder below $XDG_STATE_HOME. */
async function stateDir(): Promise<string> {
  const pairs = join(work, 'state', 'syncengine', 'pairs');
  const [pair] = await readdir(pairs);
  return join(pairs, pair!);
}

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'syncengine-faults-'));
  src = join(work, 'src');
  dst = join(work, 'dst');
  await mkdir(src);
  await mkdir(dst);
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
