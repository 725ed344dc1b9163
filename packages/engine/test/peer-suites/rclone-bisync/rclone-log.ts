/**
 * What rclone's own run recorded in `golden/test.log`, read only for two facts: whether each
 * `bisync` step succeeded (and its error lines), and what each `list-dirs` step printed.
 * rclone's wording is never diffed.
 */

export interface RcloneBisyncOutcome {
  /** The step as logged, e.g. `bisync check-access`. */
  step: string;
  succeeded: boolean;
  errors: string[];
}

export interface RcloneLog {
  /** One per `bisync` step, in order. */
  bisyncs: RcloneBisyncOutcome[];
  /** One per `list-dirs` step, in order: the directories printed, `a/b` form, no trailing `/`. */
  listDirs: string[][];
}

const STEP_LINE = /^\((\d+)\)\s+:\s+(.*)$/;

export function parseRcloneLog(text: string): RcloneLog {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are control characters.
  const lines = text.replace(/\u001b\[[0-9;]*m/g, '').split(/\r?\n/);
  const log: RcloneLog = { bisyncs: [], listDirs: [] };
  let current:
    | { kind: 'bisync'; outcome: RcloneBisyncOutcome }
    | { kind: 'list-dirs'; dirs: string[] }
    | null = null;
  for (const line of lines) {
    const step = STEP_LINE.exec(line);
    if (step) {
      const text = (step[2] as string).trim();
      if (text === 'bisync' || text.startsWith('bisync ')) {
        const outcome = { step: text, succeeded: false, errors: [] };
        log.bisyncs.push(outcome);
        current = { kind: 'bisync', outcome };
      } else if (text.startsWith('list-dirs ')) {
        const dirs: string[] = [];
        log.listDirs.push(dirs);
        current = { kind: 'list-dirs', dirs };
      } else {
        current = null;
      }
      continue;
    }
    if (!current) continue;
    if (current.kind === 'bisync') {
      if (line.includes('Bisync successful')) current.outcome.succeeded = true;
      if (line.startsWith('ERROR')) current.outcome.errors.push(line.replace(/^ERROR\s*:\s*/, ''));
    } else {
      const dir = /^(.*)\/ - filename hash: /.exec(line);
      if (dir) current.dirs.push(dir[1] as string);
    }
  }
  return log;
}
