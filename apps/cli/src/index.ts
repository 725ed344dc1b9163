/** The `syncengine` command as a library: run it with your own streams. */
export { createProgram, runCli } from './cli.js';
export { CliError, EXIT, type ExitCode } from './exit-codes.js';
export type { ActionRecord, JsonReport, StatsRecord } from './report.js';
export { defaultStateDir, pairIdFor, stateHome } from './state-dir.js';
export type { CliIo } from './sync.command.js';
