import { spawnSync } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SYNCENGINE as command,
  makeWorkFolders,
  type ProcessRun as Run,
  runProcess,
} from '../test/cli-process.js';

// What the command prints while it runs, from a child process as a user would start it:
// through `pnpm syncengine`, on a pipe, and on a terminal (a pseudo-terminal from `script`).

let work: string;
let src: string;
let dst: string;

const run = (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> =>
  runProcess(argv, { env: { XDG_STATE_HOME: join(work, 'state'), ...env } });

/** The escape character that starts terminal control sequences. */
const ESC = '\x1b';

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

/** Runs the command on a pseudo-terminal 100 columns wide; returns what the terminal received. */
function onTerminal(args: string[]): Promise<Run> {
  const line = `stty cols 100 rows 40; ${[...command, ...args].map(quote).join(' ')}`;
  return run(['script', '--quiet', '--return', '--command', line, '/dev/null']);
}

/** 240 files in 12 folders, and 3 larger ones. */
async function fill(root: string) {
  for (let folder = 0; folder < 12; folder++) {
    await mkdir(join(root, `folder-${folder}`), { recursive: true });
    for (let file = 0; file < 20; file++) {
      await writeFile(join(root, `folder-${folder}`, `file-${file}.txt`), `content ${folder}/${file}\n`);
    }
  }
  for (const name of ['big-1.bin', 'big-2.bin', 'big-3.bin']) {
    await writeFile(join(root, name), Buffer.alloc(3 * 1024 * 1024, name));
  }
}

beforeEach(async () => {
  ({ work, src, dst } = await makeWorkFolders('syncengine-output-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('what syncengine prints', { timeout: 60_000 }, () => {
  it.skipIf(!hasScript)(
    'shows the live display on a terminal: bytes, files with folders apart, elapsed time, no overshoot',
    async () => {
      await fill(src);

      const result = await onTerminal(['sync', src, dst, '--transfers', '2']);

      expect(result.code).toBe(0);
      const screen = result.stdout;
      // The final frame stays on screen above the summary.
      expect(screen).toMatch(/Transferred: +9\.\d MiB \/ 9\.\d MiB, 100%, [\d.]+ (B|KiB|MiB|GiB)\/s, ETA 0s/);
      expect(screen).toContain('Files:        243 / 243, 100%');
      expect(screen).toContain('Folders:      12 / 12');
      expect(screen).toMatch(/Elapsed time: \d+/);
      // Frames are redrawn in place: cursor up over the last frame, then clear below.
      expect(screen).toMatch(new RegExp(`${ESC}\\[\\d+A${ESC}\\[J`));
      for (const [, done, total] of screen.matchAll(/Files: +([\d ]+) \/ ([\d ]+),/g)) {
        expect(Number(done!.replaceAll(' ', ''))).toBeLessThanOrEqual(Number(total!.replaceAll(' ', '')));
      }
      // No line is longer than the terminal is wide.
      for (const line of screen.split(new RegExp(`\\r?\\n|${ESC}\\[J`)))
        expect(line.length).toBeLessThan(116);
      expect(screen).toMatch(/Done: .* in \d/);
      expect((await readdir(dst)).length).toBe(15);
    },
  );

  it.skipIf(!hasScript)('--no-progress on a terminal prints plain lines instead of the display', async () => {
    await writeFile(join(src, 'a.txt'), 'a');

    const result = await onTerminal(['sync', src, dst, '--no-progress']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('uploaded: a.txt');
    expect(result.stdout).not.toContain('Transferred:');
  });

  it('--progress forces the display where there is no terminal, and --stats-interval prints figures in logs', async () => {
    await fill(src);

    const forced = await run([...command, 'sync', src, dst, '--progress']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('Files:        243 / 243, 100%');
    expect(forced.stdout).not.toContain('uploaded:');

    await rm(join(work, 'state'), { recursive: true });
    await rm(dst, { recursive: true });
    const logged = await run([...command, 'sync', src, dst, '--stats-interval', '100ms']);
    expect(logged.code).toBe(0);
    expect(logged.stdout).toContain('uploaded: folder-0/file-0.txt');
    // At least the closing line of figures, whatever the machine's speed.
    expect(logged.stdout).toMatch(
      /^Transferred: 9\.\d MiB \/ 9\.\d MiB, 100%, .*; files 243 \/ 243; folders 12 \/ 12; elapsed /m,
    );
  });

  it('prints nothing but errors with --quiet, and spells option values as --help does', async () => {
    await writeFile(join(src, 'a.txt'), 'a');
    const quiet = await run([...command, 'sync', src, dst, '--quiet']);
    expect(quiet).toMatchObject({ code: 0, stdout: '', stderr: '' });

    const bad = await run([...command, 'sync', src, dst, '--mode', 'sideways']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected one of two-way, source-to-destination');
    expect(bad.stderr).not.toMatch(/TWO_WAY/);
  });

  it('says "1 conflict", not "1 conflicts"', async () => {
    await writeFile(join(src, 'a.txt'), 'from the source');
    await writeFile(join(dst, 'a.txt'), 'from the destination');

    const result = await run([...command, 'sync', src, dst, '--conflict', 'manual']);

    expect(result.code).toBe(3);
    expect(result.stderr).toContain('1 conflict left unresolved');
  });

  it('`pnpm syncengine` from the repository prints only the command’s own output', async () => {
    const version = await run(['pnpm', 'syncengine', '--version']);
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n', stderr: '' });

    const failed = await run(['pnpm', 'syncengine', 'sync', join(work, 'missing'), dst]);
    expect(failed.code).toBe(2);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toBe(`syncengine: source folder ${join(work, 'missing')} does not exist\n`);
  });
});
