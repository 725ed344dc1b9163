#!/usr/bin/env node
// First: the heap's limits hold before the rest of the command loads.
import './heap-limits.js';
import { runCli } from './cli.js';

const exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
// Writes to pipes, files and terminals are synchronous on POSIX, so nothing is lost by
// exiting now; exiting explicitly ends the process even if a backend left a handle open.
process.exit(exitCode);
