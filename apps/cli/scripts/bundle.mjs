// Bundles the CLI into one file, dist/syncengine.js (the `syncengine` bin): Node.js then
// loads one module instead of a hundred, which takes tens of milliseconds off every command.
// Left outside: the native hasher, and the remote storage backends, which are imported only
// when a location needs them (the local disk backend is bundled).
import { chmod } from 'node:fs/promises';
import { build } from 'esbuild';

const outfile = new URL('../dist/syncengine.js', import.meta.url).pathname;
await build({
  entryPoints: [new URL('../src/main.ts', import.meta.url).pathname],
  outfile,
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
