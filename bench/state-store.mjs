#!/usr/bin/env node
// Times the Postgres state store (the server's last-known state per pair) at scale: a full
// save, a load, per-action updates, and reading part of the state (`loadPart`: a few
// folders, a subtree, single paths) and records by size, for N files in folders of 1 000
// (each path with a source and a destination row). Uses a fresh database next to --database-url (dropped afterwards), or embedded
// PGlite with --pglite. Runs from packages/db/dist (built first if missing).
//
//   node bench/state-store.mjs [--entries 1000000] [--database-url postgres://…] [--pglite]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const dbEntry = join(repoRoot, 'packages', 'db', 'dist', 'index.js');

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1_000_000' },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    pglite: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node bench/state-store.mjs [--entries 1000000] [--database-url URL] [--pglite]');
  process.exit(0);
}
const entries = Number(values.entries.replaceAll('_', ''));
if (!existsSync(dbEntry)) {
  const build = spawnSync('pnpm', ['--filter', '@syncengine/db...', 'build'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const { createDatabase, createPairRepo, PostgresStateStore } = await import(pathToFileURL(dbEntry).href);
const pg = createRequire(join(repoRoot, 'packages', 'db', 'package.json'))('pg');

let handle;
let cleanup = async () => {};
if (values.pglite) {
  const dir = await mkdtemp(join(tmpdir(), 'syncengine-state-bench-'));
  handle = await createDatabase({ dataDir: dir });
  cleanup = () => rm(dir, { recursive: true, force: true });
} else {
  const name = `se_state_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: values['database-url'] });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(values['database-url']);
  url.pathname = `/${name}`;
  handle = await createDatabase({ url: url.toString() });
  cleanup = async () => {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  };
}

const time = async (label, work) => {
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1_000;
  return { label, seconds, result };
};
const rows = [];
try {
  const pair = await createPairRepo(handle.db).create({
    name: 'bench',
    source: { type: 'local', path: '/a' },
    destination: { type: 'local', path: '/b' },
    mode: 'TWO_WAY',
    comparisonMode: 'HASH_THEN_MTIME',
    conflictResolution: 'NEWEST_WINS',
    ignorePatterns: [],
    concurrency: { transfers: 5, operations: 10 },
    maxDeletePercent: 50,
    schedule: null,
    enabled: true,
    watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
  });
  const store = new PostgresStateStore(handle.db, pair.id);
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
  for (let k = 0; k * 1_000 < entries; k += 1)
    tree.set(`d${k}`, { path: `d${k}`, size: 0, mtime: 1, isDir: true });
  const state = { source: tree, destination: new Map(tree) };
  rows.push(
    await time(
      `save (${entries.toLocaleString('en')} paths, ${(2 * entries).toLocaleString('en')} rows)`,
      () => store.save(state),
    ),
  );
  const loaded = await time('load', () => store.load());
  if (loaded.result.source.size !== tree.size) throw new Error(`loaded ${loaded.result.source.size} entries`);
  rows.push(loaded);
  const changes = [];
  for (let i = 0; i < 10_000; i += 1) {
    const entry = { ...tree.get(`d${Math.floor(i / 1_000)}/f${i}.txt`), size: 42 };
    changes.push({ path: entry.path, source: entry, destination: entry });
  }
  const partOf = async (label, part, expected) => {
    // Once to warm, then timed: a watch's run reads a few folders of a state it read before.
    await new PostgresStateStore(handle.db, pair.id).loadPart(part);
    const row = await time(label, () => new PostgresStateStore(handle.db, pair.id).loadPart(part));
    const got = row.result.state.source.size + row.result.state.destination.size;
    if (got !== expected) throw new Error(`${label}: ${got} records, expected ${expected}`);
    rows.push(row);
  };
  const folders = Math.ceil(entries / 1_000);
  await partOf('loadPart: the counts alone (no part)', { folders: [], subtrees: [], paths: [] }, 0);
  await partOf(
    'loadPart: 3 folders (the root and 2 of 1 000 files) and 10 paths',
    {
      folders: ['', 'd1', 'd2'],
      subtrees: [],
      paths: Array.from({ length: 10 }, (_, i) => `d9/f${9_000 + i}.txt`),
    },
    2 * (folders + 2 * 1_000 + 10),
  );
  await partOf('loadPart: a subtree of 1 000 files', { folders: [], subtrees: ['d3'], paths: [] }, 2 * 1_001);
  await partOf(
    'loadPart: 3 folders, 2 subtrees, 10 paths',
    {
      folders: ['', 'd1', 'd2'],
      subtrees: ['d3', 'd4'],
      paths: Array.from({ length: 10 }, (_, i) => `d9/f${9_000 + i}.txt`),
    },
    2 * (folders + 4 * 1_000 + 10),
  );
  const sizes = Array.from({ length: 100 }, (_, i) => 1_000 + i * 37);
  await store.recordsOfSize('source', sizes, 5);
  const bySize = await time('recordsOfSize (100 sizes, at most 5 each)', () =>
    store.recordsOfSize('source', sizes, 5),
  );
  if (bySize.result.length !== 500) throw new Error(`recordsOfSize: ${bySize.result.length} records`);
  rows.push(bySize);
  rows.push(await time('update (10 000 changes in one call)', () => store.update(changes)));
  const single = changes.slice(0, 100);
  rows.push(
    await time('update (100 calls of 1 change)', async () => {
      for (const change of single) await store.update([change]);
    }),
  );
  const after = loaded.result;
  for (let i = 0; i < 1_000; i += 1) {
    const path = `d${Math.floor(i / 1_000)}/f${i}.txt`;
    const entry = { ...after.source.get(path), size: 7 };
    after.source.set(path, entry);
    after.destination.set(path, entry);
  }
  rows.push(
    await time('save after a run that changed 1 000 paths (writes the differences)', () => store.save(after)),
  );
  const memory = process.memoryUsage().rss / 1_048_576;
  console.log(`\nPostgresStateStore on ${handle.driver}: ${entries.toLocaleString('en')} paths\n`);
  console.log('| operation | seconds |');
  console.log('|---|---|');
  for (const row of rows) console.log(`| ${row.label} | ${row.seconds.toFixed(2)} |`);
  console.log(`\npeak RSS of this process: ${memory.toFixed(0)} MiB`);
} finally {
  await handle.close();
  await cleanup();
}
