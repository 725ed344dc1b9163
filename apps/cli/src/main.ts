#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { runCli } from './cli.js';

// A sync of many small files makes much short-lived garbage; by default V8 lets the heap
// grow to several times what is live before it collects, so the process would hold far
// more memory than it uses. Growing it by 30 % over the live size at each full collection
// keeps the footprint near what is live, without capping how large a heap may get.
// Set here rather than on the command line so that every way of starting the CLI gets it.
setFlagsFromString('--heap-growing-percent=30');

const exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
// Writes to pipes, files and terminals are synchronous on POSIX, so nothing is lost by
// exiting now; exiting explicitly ends the process even if a backend left a handle open.
process.exit(exitCode);
