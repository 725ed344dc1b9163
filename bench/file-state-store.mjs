#!/usr/bin/env node
// Times the file state store (the CLI's and the library's last-known state, SPEC §11) at
// scale: a full save, a load, per-action updates, and a load that replays them, for N paths
// on each side. Runs from packages/engine/dist (built first if missing); --engine-dist points
// at another build of the engine, to compare two of them.
//
//   node bench/file-state-store.mjs [--entries 200000] [--dir /dev/shm] [--engine-dist DIR]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '200_000' },
    dir: { type: 'string', default: tmpdir() },
    'engine-dist': { type: 'string', default: join(repoRoot, 'packages', 'engine', 'dist') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node bench/file-state-store.mjs [--entries 200000] [--dir DIR] [--engine-dist DIR]');
  process.exit(0);
}
const entries = Number(values.entries.replaceAll('_', ''));
const engineDist = resolve(values['engine-dist']);
const engineEntry = join(engineDist, 'index.js');
if (!existsSync(engineEntry)) {
  const build = spawnSync('pnpm', ['--filter', '@syncengine/engine', 'build'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const { FileStateStore } = await import(pathToFileURL(engineEntry).href);

const time = async (label, work) => {
  const started = performance.now();
  const result = await work();
  return { label, seconds: (performance.now() - started) / 1_000, result };
};

const dir = await mkdtemp(join(values.dir, 'syncengine-file-state-bench-'));
const rows = [];
try {
  const store = new FileStateStore(dir, { fsync: false });
  const tree = new Map();
  for (let i = 0; i < entries; i += 1) {
    const path = `d${Math.floor(i / 1_000)}/f${i}.txt`;
    tree.set(path, {
      path,
      size: 1_000 + (i % 5_000),
      mtime: 1_700_000_000_000 + i,
      isDir: false,
      hash: i.toString(16).padStart(32, '0'),
      hashAlgorithm: 'xxh3-128',
      id: String(100_000 + i),
    });
  }
  rows.push(
    await time(`save (${entries.toLocaleString('en')} paths a side)`, () =>
      store.save({ source: tree, destination: new Map(tree) }),
    ),
  );
  const loads = [];
  for (let run = 0; run < 3; run += 1) loads.push(await time('load', () => new FileStateStore(dir).load()));
  const loaded = loads[0].result;
  if (loaded.source.size !== entries || loaded.destination.size !== entries) {
    throw new Error(`loaded ${loaded.source.size} / ${loaded.destination.size} entries`);
  }
  const best = Math.min(...loads.map((load) => load.seconds));
  rows.push({ label: 'load (best of 3)', seconds: best });
  const changes = [];
  for (let i = 0; i < 10_000; i += 1) {
    const entry = { ...tree.get(`d${Math.floor(i / 1_000)}/f${i}.txt`), size: 42 };
    changes.push({ path: entry.path, source: entry, destination: entry });
  }
  rows.push(await time('update (10 000 changes in one call)', () => store.update(changes)));
  rows.push(await time('load replaying the journal', () => new FileStateStore(dir).load()));
  const memory = process.memoryUsage().rss / 1_048_576;
  console.log(
    `\nFileStateStore (fsync off) in ${values.dir}: ${entries.toLocaleString('en')} paths a side\n`,
  );
  console.log('| operation | seconds |');
  console.log('|---|---|');
  for (const row of rows) console.log(`| ${row.label} | ${row.seconds.toFixed(3)} |`);
  console.log(`\npeak RSS of this process: ${memory.toFixed(0)} MiB`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
