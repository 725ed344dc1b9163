// Bundles the CLI into one file, dist/syncengine.js (the `syncengine` bin): Node.js then
// loads one module instead of a hundred, which takes tens of milliseconds off every command.
// The folder worker of local disk listings and copies is a second file, dist/folder-worker.js.
// Left outside: the native hasher, the remote storage backends, which are imported only
// when a location needs them (the local disk backend is bundled), and the watch package,
// whose native change notifications load only when `watch` starts watching.
import { chmod } from 'node:fs/promises';
import { build } from 'esbuild';

const outdir = new URL('../dist/', import.meta.url).pathname;
const outfile = `${outdir}syncengine.js`;
await build({
  entryPoints: {
    syncengine: new URL('../src/main.ts', import.meta.url).pathname,
    // The local disk backend's folder worker, which it starts from beside the bundle.
    'folder-worker': '@syncengine/storage-local/folder-worker',
  },
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The workspace packages' TypeScript sources, as the tests run them.
  conditions: ['source'],
  // ws loads bufferutil and utf-8-validate only when they are installed.
  external: [
    '@node-rs/xxhash',
    '@syncengine/storage-s3',
    '@syncengine/storage-sftp',
    '@syncengine/storage-webdav',
    '@syncengine/watch',
    'bufferutil',
    'utf-8-validate',
  ],
  // CommonJS dependencies bundled into ESM still call require() for Node.js built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
