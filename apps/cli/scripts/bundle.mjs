// Bundles the CLI into dist/syncengine.js (the `syncengine` bin) and the chunks beside it:
// Node.js then loads a few modules instead of hundreds, which takes tens of milliseconds off
// every command. Code splitting puts what a command imports only when it runs (`watch`, the
// server client, the location schemas of remote URLs) in chunks of their own, so the other
// commands never read or compile it. The folder worker of local disk listings and copies is
// dist/folder-worker.js, in the same folder as the chunks, where the local disk backend
// starts it from.
// Left outside: the native hasher, the remote storage backends, which are imported only
// when a location needs them (the local disk backend is bundled), and the native change
// notifications, which load only when `watch` starts watching.
import { chmod, readdir, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const outdir = new URL('../dist/', import.meta.url).pathname;
const outfile = `${outdir}syncengine.js`;
/** Threads of libuv's pool the bin starts with: fdatasync calls in flight at once. */
const THREAD_POOL_SIZE = 64;
// Chunks are named after their first module and a hash; those of an earlier build go first.
const CHUNK = /-[A-Z0-9]{8}\.js$/;
await Promise.all(
  (await readdir(outdir).catch(() => []))
    .filter((name) => CHUNK.test(name))
    .map((name) => rm(`${outdir}${name}`)),
);
const result = await build({
  entryPoints: {
    syncengine: new URL('../src/main.ts', import.meta.url).pathname,
    // The local disk backend's folder worker, which it starts from beside its own chunk.
    'folder-worker': '@syncengine/storage-local/folder-worker',
  },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The workspace packages' TypeScript sources, as the tests run them.
  conditions: ['source'],
  // ws loads bufferutil and utf-8-validate only when they are installed.
  external: [
    '@node-rs/xxhash',
    '@parcel/watcher',
    '@syncengine/storage-s3',
    '@syncengine/storage-sftp',
    '@syncengine/storage-webdav',
    'bufferutil',
    'utf-8-validate',
  ],
  // CommonJS dependencies bundled into ESM still call require() for Node.js built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
await chmod(outfile, 0o755);

// The `syncengine` bin: a CommonJS start file that sizes libuv's thread pool, then loads the
// bundle. A first sync on a disk is bound by how many fdatasync calls are in flight, and the
// pool (4 threads by default) runs them; an ES module entry starts the pool while it loads,
// before any of its code could size it.
const launcher = `${outdir}syncengine.cjs`;
await writeFile(
  launcher,
  `#!/usr/bin/env node
'use strict';
// Starts dist/syncengine.js with a thread pool of ${THREAD_POOL_SIZE} (unless UV_THREADPOOL_SIZE is set):
// many written files are then made durable at once.
process.env.UV_THREADPOOL_SIZE ??= '${THREAD_POOL_SIZE}';
import('./syncengine.js').catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`,
);
await chmod(launcher, 0o755);

// Every command loads what the bin imports statically; zod (the server API's schemas, and
// the location schemas remote URLs are checked with) is for some commands only. A barrel
// (an index re-exporting a package) that the bin imports drags in all the package's modules
// that any chunk uses, so the bin's static imports take zod-free entry points, such as
// @syncengine/locations/local and @syncengine/contracts/units.
const outputs = result.metafile.outputs;
const loaded = new Set();
const visit = (file) => {
  if (loaded.has(file) || !outputs[file]) return;
  loaded.add(file);
  for (const { path, kind } of outputs[file].imports) if (kind === 'import-statement') visit(path);
};
visit(Object.keys(outputs).find((file) => file.endsWith('/syncengine.js')));
const zod = [...loaded].flatMap((file) =>
  Object.keys(outputs[file].inputs).filter((input) => input.includes('/node_modules/zod/')),
);
if (zod.length > 0) {
  console.error(`every syncengine command would load zod (${zod.length} modules, e.g. ${zod[0]})`);
  process.exit(1);
}
