#!/usr/bin/env node
// Times the syncengine CLI next to Unison, rclone bisync and rsync on the same tree of
// small files: an initial sync, a sync with no change, a sync after 1 % of the files
// changed (one file in every folder), and a sync after 1 % of the files changed in 1 % of
// the folders. Prints a table of wall-clock times and peak memory (max RSS), then the
// speed targets met or not.
//
//   node bench/run.mjs [--files 20000] [--dir /tmp/x] [--tools syncengine,unison,rclone,rsync]
//
// The CLI is run from apps/cli/dist (built first if missing). Each tool gets its own fresh
// copy of the tree, so no tool benefits from another's work; the page cache is warm for all.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliEntry = join(repoRoot, 'apps', 'cli', 'dist', 'syncengine.cjs');

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '20000' },
    dir: { type: 'string' },
    tools: { type: 'string', default: 'syncengine,unison,rclone,rsync' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: node bench/run.mjs [--files N] [--dir DIR] [--tools syncengine,unison,rclone,rsync] [--keep]',
  );
  process.exit(0);
}
const fileCount = Number(values.files.replaceAll('_', ''));
if (!Number.isInteger(fileCount) || fileCount < 100) {
  console.error(`--files must be a whole number of at least 100, got ${values.files}`);
  process.exit(2);
}
const workDir = values.dir ?? join(tmpdir(), `syncengine-bench-${fileCount}`);
const tools = values.tools.split(',').map((tool) => tool.trim());
const hasTimeV = existsSync('/usr/bin/time');

const FILES_PER_DIR = 100;
const DIRS_PER_DIR = 20;

/** Deterministic small-file content: 200 B to ~4 kB. */
function contentFor(index) {
  const size = 200 + ((index * 7919) % 3900);
  const line = `file ${index} `;
  return line.repeat(Math.ceil(size / line.length)).slice(0, size);
}

/** The relative path of file `index`: 100 files per folder, folders nested 20 wide. */
function pathFor(index) {
  const folder = Math.floor(index / FILES_PER_DIR);
  const outer = Math.floor(folder / DIRS_PER_DIR);
  return `d${outer}/s${folder % DIRS_PER_DIR}/f${index}.txt`;
}

async function buildTree(root) {
  const marker = join(root, '.complete');
  if (existsSync(marker)) return;
  await rm(root, { recursive: true, force: true });
  const started = performance.now();
  for (let index = 0; index < fileCount; index += 1) {
    const path = join(root, pathFor(index));
    if (index % FILES_PER_DIR === 0) await mkdir(dirname(path), { recursive: true });
    await writeFile(path, contentFor(index));
  }
  await writeFile(marker, '');
  console.log(`built ${fileCount} files in ${((performance.now() - started) / 1000).toFixed(1)} s: ${root}`);
}

/** Changes every file of 1 % of the folders (every 100th folder), the same ones for every tool. */
async function changeOnePercentOfFolders(root) {
  const stamp = new Date(Date.now() + 10_000);
  const { utimes } = await import('node:fs/promises');
  for (let folder = 0; folder * FILES_PER_DIR < fileCount; folder += 100) {
    for (
      let index = folder * FILES_PER_DIR;
      index < Math.min(fileCount, (folder + 1) * FILES_PER_DIR);
      index++
    ) {
      const path = join(root, pathFor(index));
      await appendFile(path, `changed again ${index}\n`);
      await utimes(path, stamp, stamp);
    }
  }
}

/** Changes 1 % of the files (every 100th: one in every folder), the same ones for every tool. */
async function changeOnePercent(root) {
  const stamp = new Date(Date.now() + 5_000);
  const { utimes } = await import('node:fs/promises');
  for (let index = 0; index < fileCount; index += 100) {
    const path = join(root, pathFor(index));
    await appendFile(path, `changed ${index}\n`);
    await utimes(path, stamp, stamp);
  }
}

async function countFiles(root) {
  let count = 0;
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const inside = entry.parentPath ?? entry.path;
    if (entry.isFile() && !inside.includes('.syncengine') && !inside.includes('.sync_state')) count += 1;
  }
  return count;
}

/**
 * Runs a command, returning wall-clock seconds, CPU seconds (user + system, where
 * /usr/bin/time exists) and peak RSS in MB. CPU time is the steadier figure on a busy
 * machine, where wall time also measures waiting for a share of the cores.
 */
function timed(label, command, args, env = {}) {
  const argv = hasTimeV ? ['-f', '__MAXRSS__%M __CPU__%U %S', command, ...args] : args;
  const started = performance.now();
  const result = spawnSync(hasTimeV ? '/usr/bin/time' : command, argv, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  const rssMatch = /__MAXRSS__(\d+)/.exec(result.stderr ?? '');
  const rssMb = rssMatch ? Number(rssMatch[1]) / 1024 : null;
  const cpuMatch = /__CPU__([\d.]+) ([\d.]+)/.exec(result.stderr ?? '');
  const cpuSeconds = cpuMatch ? Number(cpuMatch[1]) + Number(cpuMatch[2]) : null;
  if (result.status !== 0) {
    console.error(`${label} failed (exit ${result.status}):\n${(result.stderr ?? '').slice(-2000)}`);
    return { seconds, cpuSeconds, rssMb, failed: true };
  }
  return { seconds, cpuSeconds, rssMb, failed: false };
}

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** Each tool: how to run one sync of src → dst, and how to prepare. */
const TOOLS = {
  syncengine: {
    available: () => existsSync(cliEntry),
    missing: 'apps/cli/dist/syncengine.cjs is missing and could not be built (run `pnpm build`)',
    run: (src, dst, state) => ['node', [cliEntry, 'sync', src, dst, '--quiet', '--state-dir', state]],
  },
  unison: {
    available: () => has('unison'),
    missing: 'unison is not installed (apt-get install -y unison)',
    env: (state) => ({ UNISON: state }),
    run: (src, dst) => [
      'unison',
      [src, dst, '-batch', '-auto', '-silent', '-times', '-confirmbigdel=false', '-ui', 'text'],
    ],
  },
  rclone: {
    available: () => has('rclone'),
    missing: 'rclone is not installed (apt-get install -y rclone)',
    run: (src, dst, state, isFirst) => [
      'rclone',
      [
        'bisync',
        src,
        dst,
        '--workdir',
        state,
        '--config',
        '/dev/null',
        '--log-level',
        'ERROR',
        ...(isFirst ? ['--resync'] : []),
      ],
    ],
  },
  rsync: {
    available: () => has('rsync'),
    missing: 'rsync is not installed (apt-get install -y rsync)',
    run: (src, dst) => ['rsync', ['-a', `${src}/`, `${dst}/`]],
  },
};

function ensureCliBuilt() {
  if (existsSync(cliEntry)) return;
  console.log('building the CLI (pnpm --filter @syncengine/cli... build)…');
  spawnSync('pnpm', ['--filter', '@syncengine/cli...', 'build'], { cwd: repoRoot, stdio: 'inherit' });
}

async function benchTool(name, tree) {
  const tool = TOOLS[name];
  const base = join(workDir, name);
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  const state = join(base, 'state');
  await rm(base, { recursive: true, force: true });
  await mkdir(state, { recursive: true });
  await mkdir(dst, { recursive: true });
  await cp(tree, src, { recursive: true, filter: (path) => !path.endsWith('.complete') });
  const env = tool.env?.(state) ?? {};
  const step = (label, isFirst) => {
    const [command, args] = tool.run(src, dst, state, isFirst);
    return timed(`${name} ${label}`, command, args, env);
  };

  const initial = step('initial', true);
  let copied = null;
  if (name === 'syncengine') copied = await countFiles(dst);
  const noChange = step('no change', false);
  await changeOnePercent(src);
  const changed = step('1 % changed', false);
  await changeOnePercentOfFolders(src);
  const clustered = step('1 % changed in 1 % of the folders', false);
  if (!values.keep) await rm(base, { recursive: true, force: true });
  return { name, initial, noChange, changed, clustered, copied };
}

const fmtSeconds = (run) =>
  run.failed
    ? 'failed'
    : `${run.seconds.toFixed(2)} s${run.cpuSeconds === null ? '' : ` (cpu ${run.cpuSeconds.toFixed(2)})`}`;
const runsOf = (result) => [result.initial, result.noChange, result.changed, result.clustered];

async function main() {
  await mkdir(workDir, { recursive: true });
  const tree = join(workDir, 'tree');
  await buildTree(tree);
  if (tools.includes('syncengine')) ensureCliBuilt();

  const results = [];
  for (const name of tools) {
    const tool = TOOLS[name];
    if (!tool) {
      console.error(`unknown tool ${name}; known: ${Object.keys(TOOLS).join(', ')}`);
      continue;
    }
    if (!tool.available()) {
      console.log(`skipping ${name}: ${tool.missing}`);
      continue;
    }
    console.log(`running ${name}…`);
    const result = await benchTool(name, tree);
    results.push(result);
    if (result.copied !== null && result.copied !== fileCount) {
      console.error(`syncengine copied ${result.copied} of ${fileCount} files on the initial sync`);
    }
  }

  const rows = [
    [
      'tool',
      'initial: wall (cpu)',
      'no change',
      '1 % changed (every folder)',
      '1 % changed (1 % of folders)',
      'peak RSS per run',
    ],
    ...results.map((r) => [
      r.name === 'rclone' ? 'rclone bisync' : r.name === 'rsync' ? 'rsync -a (one-way)' : r.name,
      fmtSeconds(r.initial),
      fmtSeconds(r.noChange),
      fmtSeconds(r.changed),
      fmtSeconds(r.clustered),
      runsOf(r)
        .map((run) => (run.rssMb === null ? '?' : Math.round(run.rssMb)))
        .join(' / ')
        .concat(' MB'),
    ]),
  ];
  console.log(`\n${fileCount} files, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log(`| ${rows[0].join(' | ')} |\n|${rows[0].map(() => '---').join('|')}|`);
  for (const row of rows.slice(1)) console.log(`| ${row.join(' | ')} |`);

  const ours = results.find((r) => r.name === 'syncengine');
  const ratio = (a, b) => (a && b && !a.failed && !b.failed ? a.seconds / b.seconds : null);
  const cpuRatio = (a, b) =>
    a?.cpuSeconds && b?.cpuSeconds && !a.failed && !b.failed ? a.cpuSeconds / b.cpuSeconds : null;
  const fmtRatio = (value) => (value === null ? 'n/a' : `${value.toFixed(2)}×`);
  if (ours) {
    const unison = results.find((r) => r.name === 'unison');
    const rsync = results.find((r) => r.name === 'rsync');
    const isTmpfs =
      spawnSync('stat', ['-f', '-c', '%T', workDir], { encoding: 'utf8' }).stdout?.trim() === 'tmpfs';
    console.log(
      `\ntargets on ${isTmpfs ? 'tmpfs' : 'disk'}; wall-clock ratio (CPU-time ratio), met on the wall-clock ratio:`,
    );
    const line = (label, a, b, limit) => {
      const wall = ratio(a, b);
      const verdict = wall === null ? 'not measured' : wall <= limit ? 'met' : 'not met';
      console.log(
        `  ${label.padEnd(42)}${fmtRatio(wall)} (cpu ${fmtRatio(cpuRatio(a, b))}), target ≤ ${limit}: ${verdict}`,
      );
    };
    line('no change vs Unison', ours.noChange, unison?.noChange, 1);
    line('1 % changed (every folder) vs Unison', ours.changed, unison?.changed, 1);
    line('1 % changed (1 % of folders) vs Unison', ours.clustered, unison?.clustered, 1);
    line('initial vs rsync -a', ours.initial, rsync?.initial, isTmpfs ? 1.2 : 2);
    const peak = Math.max(...runsOf(ours).map((run) => run.rssMb ?? 0));
    const limit = fileCount <= 20_000 ? 100 : fileCount <= 100_000 ? 180 : 1024;
    console.log(
      `  ${'peak RSS'.padEnd(42)}${Math.round(peak)} MB, target ≤ ${limit} MB at ${fileCount} files: ${peak <= limit ? 'met' : 'not met'}`,
    );
  }
  if (!values.keep) await rm(join(workDir, 'syncengine'), { recursive: true, force: true });
}

await main();
