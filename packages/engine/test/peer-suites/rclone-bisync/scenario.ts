/**
 * Parser for rclone's bisync `scenario.txt` step language (see the suite's README).
 * One step a line, `#` starts a comment, blank lines are skipped; tokens are separated by
 * whitespace, and placeholders are expanded inside each token.
 */

/** The folders a scenario's placeholders point at. Every folder is absolute, without a trailing `/`. */
export interface ScenarioDirs {
  path1: string;
  path2: string;
  /** The scenario's `modfiles/`. */
  datadir: string;
  /** The (copied) scenario folder itself. */
  testdir: string;
  /** Where rclone keeps listings and where filter files are copied. */
  workdir: string;
  /** rclone's session name, `_testdir_path1.._testdir_path2`. */
  session: string;
}

export type Step =
  | { kind: 'test'; message: string }
  | { kind: 'copy-file'; src: string; dstDir: string }
  | { kind: 'copy-as'; src: string; dstDir: string; name: string; form?: 'NFC' | 'NFD' }
  | { kind: 'touch-glob'; date: string; dir: string; glob: string }
  | { kind: 'touch-copy'; date: string; src: string; dstDir: string }
  | { kind: 'delete-file'; path: string }
  | { kind: 'delete-glob'; dir: string; glob: string }
  | { kind: 'purge-children'; dir: string }
  | { kind: 'copy-dir'; src: string; dst: string }
  | { kind: 'sync-dir'; src: string; dst: string }
  | { kind: 'list-dirs'; dir: string }
  | { kind: 'list-files'; dir: string }
  | { kind: 'copy-listings'; prefix: string }
  | { kind: 'move-listings'; prefix: string }
  | { kind: 'test-func' }
  | { kind: 'concurrent-func' }
  | { kind: 'fix-names'; path: string }
  | { kind: 'bisync'; options: BisyncOption[] };

/** One `bisync` option: `resync`, `max-delete=60`, `filters-file=/abs/path`. */
export interface BisyncOption {
  name: string;
  value?: string;
}

export interface ParsedStep {
  /** 1-based line number in scenario.txt. */
  line: number;
  /** The line as written. */
  text: string;
  step: Step;
}

/**
 * Expands the in-token placeholders `{spc}`, `{tab}`, `{eol}`, `{chr:HH}` and `{/}`, and the
 * folder placeholders. `{chr:HH}` yields the byte HH (see `byteChar`).
 */
export function expandPlaceholders(token: string, dirs: ScenarioDirs): string {
  return token
    .replaceAll('{path1/}', `${dirs.path1}/`)
    .replaceAll('{path2/}', `${dirs.path2}/`)
    .replaceAll('{datadir/}', `${dirs.datadir}/`)
    .replaceAll('{testdir/}', `${dirs.testdir}/`)
    .replaceAll('{workdir/}', `${dirs.workdir}/`)
    .replaceAll('{session}', dirs.session)
    .replaceAll('{/}', '/')
    .replaceAll('{spc}', ' ')
    .replaceAll('{tab}', '\t')
    .replaceAll('{eol}', '\n')
    .replace(/\{chr:([0-9a-fA-F]{2})\}/g, (_, hex: string) => byteChar(Number.parseInt(hex, 16)));
}

/**
 * A byte of a file name as a string character: ASCII as itself, 0x80–0xFF (not valid UTF-8
 * on its own) as the lone surrogate U+DC80–U+DCFF, the "surrogateescape" convention, so
 * that `fsPath` can write it back as that raw byte.
 */
export function byteChar(byte: number): string {
  return String.fromCharCode(byte < 0x80 ? byte : 0xdc00 + byte);
}

/** The bytes of a path for the file system, turning surrogate-escaped bytes back into raw bytes. */
export function fsPath(path: string): Buffer {
  const parts: Buffer[] = [];
  let plain = '';
  for (const char of path) {
    const code = char.charCodeAt(0);
    if (char.length === 1 && code >= 0xdc80 && code <= 0xdcff) {
      parts.push(Buffer.from(plain, 'utf8'), Buffer.from([code - 0xdc00]));
      plain = '';
    } else plain += char;
  }
  parts.push(Buffer.from(plain, 'utf8'));
  return Buffer.concat(parts);
}

export class ScenarioSyntaxError extends Error {
  override readonly name = 'ScenarioSyntaxError';
}

function expectArgs(line: number, verb: string, args: string[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    throw new ScenarioSyntaxError(
      `scenario line ${line}: ${verb} takes ${min === max ? min : `${min}-${max}`} argument(s), got ${args.length}`,
    );
  }
}

function parseStep(line: number, verb: string, args: string[], rest: string): Step {
  const arg = (index: number) => args[index] as string;
  switch (verb) {
    case 'test':
      return { kind: 'test', message: rest };
    case 'copy-file':
      expectArgs(line, verb, args, 2);
      return { kind: 'copy-file', src: arg(0), dstDir: arg(1) };
    case 'copy-as':
      expectArgs(line, verb, args, 3);
      return { kind: 'copy-as', src: arg(0), dstDir: arg(1), name: arg(2) };
    case 'copy-as-NFC':
    case 'copy-as-NFD':
      expectArgs(line, verb, args, 3);
      return {
        kind: 'copy-as',
        src: arg(0),
        dstDir: arg(1),
        name: arg(2),
        form: verb === 'copy-as-NFC' ? 'NFC' : 'NFD',
      };
    case 'touch-glob':
      expectArgs(line, verb, args, 3);
      return { kind: 'touch-glob', date: arg(0), dir: arg(1), glob: arg(2) };
    case 'touch-copy':
      expectArgs(line, verb, args, 3);
      return { kind: 'touch-copy', date: arg(0), src: arg(1), dstDir: arg(2) };
    case 'delete-file':
      expectArgs(line, verb, args, 1);
      return { kind: 'delete-file', path: arg(0) };
    case 'delete-glob':
      expectArgs(line, verb, args, 2);
      return { kind: 'delete-glob', dir: arg(0), glob: arg(1) };
    case 'purge-children':
      expectArgs(line, verb, args, 1);
      return { kind: 'purge-children', dir: arg(0) };
    case 'copy-dir':
    case 'sync-dir':
      expectArgs(line, verb, args, 2);
      return { kind: verb, src: arg(0), dst: arg(1) };
    case 'list-dirs':
    case 'list-files':
      expectArgs(line, verb, args, 1);
      return { kind: verb, dir: arg(0) };
    case 'copy-listings':
    case 'move-listings':
      expectArgs(line, verb, args, 1);
      return { kind: verb, prefix: arg(0) };
    case 'test-func':
    case 'concurrent-func':
      expectArgs(line, verb, args, 0);
      return { kind: verb };
    case 'fix-names':
      expectArgs(line, verb, args, 1);
      return { kind: 'fix-names', path: arg(0) };
    case 'bisync':
      return {
        kind: 'bisync',
        options: args.map((token) => {
          const equals = token.indexOf('=');
          return equals < 0
            ? { name: token }
            : { name: token.slice(0, equals), value: token.slice(equals + 1) };
        }),
      };
    default:
      throw new ScenarioSyntaxError(`scenario line ${line}: unknown step "${verb}"`);
  }
}

/** Parses scenario.txt, expanding placeholders against `dirs`. */
export function parseScenario(text: string, dirs: ScenarioDirs): ParsedStep[] {
  const steps: ParsedStep[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const tokens = trimmed.split(/\s+/);
    const verb = tokens[0] as string;
    const args = tokens.slice(1).map((token) => expandPlaceholders(token, dirs));
    const rest = trimmed.slice(verb.length).trim();
    steps.push({ line: index + 1, text: trimmed, step: parseStep(index + 1, verb, args, rest) });
  });
  return steps;
}

/**
 * The dates a scenario pins mtimes to: 2000-01-01 (every file of `initial/`) and every date
 * given to `touch-glob` / `touch-copy`. A golden mtime on one of these days is meaningful;
 * any other golden mtime is the moment rclone's own run happened to copy a file.
 */
export function pinnedDates(steps: ParsedStep[]): Set<string> {
  const dates = new Set(['2000-01-01']);
  for (const { step } of steps) {
    if (step.kind === 'touch-glob' || step.kind === 'touch-copy') dates.add(step.date);
  }
  return dates;
}

/** Milliseconds of UTC midnight of `YYYY-MM-DD`. */
export function utcMidnight(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new ScenarioSyntaxError(`not a date: ${date}`);
  return ms;
}

/** Translates a shell glob (`*`, `?`, `[...]`) on one name to a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index] as string;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = glob.indexOf(']', index + 1);
      if (end < 0) source += '\\[';
      else {
        let body = glob.slice(index + 1, end);
        if (body.startsWith('!') || body.startsWith('^')) body = `^${body.slice(1)}`;
        source += `[${body.replaceAll('\\', '\\\\')}]`;
        index = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}
