import type { ExitCode } from './exit-codes.js';
import { formatBytes, table } from './format.js';
import { jsonReport } from './report.js';
import {
  type CliIo,
  reportOutcome,
  resolvePair,
  runSync,
  type SyncCommandOptions,
  summaryLine,
} from './sync.command.js';

/** `syncengine plan`: a dry run shown as a table of actions with their reasons. */
export async function planCommand(
  sourceText: string,
  destinationText: string,
  options: SyncCommandOptions,
  io: CliIo,
): Promise<ExitCode> {
  const planOptions: SyncCommandOptions = { ...options, dryRun: true, quiet: true };
  const pair = await resolvePair(sourceText, destinationText, options, io.env);
  const { result, exitCode, reporter } = await runSync(pair, planOptions, io, { mode: 'quiet' });
  if (result.status !== 'max-delete') {
    for (const error of result.errors) reporter.error(error.message, error.path);
  }

  if (options.json) {
    io.stdout.write(`${JSON.stringify(jsonReport(result, { dryRun: true }), null, 2)}\n`);
  } else {
    const rows = result.plan.actions
      .filter((action) => action.type !== 'NO_ACTION')
      .map((action) => [
        action.type,
        action.to ? `${action.path} → ${action.to}` : action.path,
        action.bytes ? formatBytes(action.bytes) : '',
        action.conflict?.resolution ? `${action.reason} → ${action.conflict.resolution}` : action.reason,
      ]);
    if (rows.length > 0) io.stdout.write(`${table([['ACTION', 'PATH', 'SIZE', 'REASON'], ...rows])}\n\n`);
    for (const warning of result.warnings) io.stdout.write(`warning: ${warning}\n`);
    io.stdout.write(`${summaryLine(result, true)}\n`);
  }
  reportOutcome(result, exitCode, planOptions, io);
  return exitCode;
}
