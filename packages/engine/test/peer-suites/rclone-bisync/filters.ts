/**
 * Translation of an rclone filter file (`--filter-from` / bisync's `--filters-file`) into
 * the engine's gitignore-syntax ignore patterns.
 *
 * rclone: rules are tried in order and the FIRST match decides (`+` include, `-` exclude);
 * no match means included. A pattern starting with `/` is anchored at the root, any other
 * pattern matches the end of the path (so `a/b` also matches `x/a/b`); a trailing `/`
 * matches directories only; `*` and `?` stop at `/`, `**` crosses it; `{a,b}` alternates.
 * An excluded directory is not descended into, and each include rule also includes the
 * directories leading to it, so `+ /dir/**` before `- **` reaches inside `dir`.
 *
 * gitignore: the LAST matching pattern decides, `!` re-includes, and a path below an
 * ignored directory cannot be re-included. So the translation reverses the rule order,
 * turns `+ p` into `!p` (plus `!` rules for the directories leading to `p`, mirroring
 * rclone's derived directory rules) and `- p` into `p`, prefixes unanchored patterns that
 * contain a `/` with `**\/`, and expands `{a,b}` alternations.
 *
 * Known approximation: an rclone file rule without `/` at the end and without `**` does not
 * apply to directories, while its gitignore counterpart does. A re-included directory with
 * nothing included below it is at most an empty folder, never a file.
 */

export interface FilterRule {
  include: boolean;
  pattern: string;
  /** 1-based line in the filter file. */
  line: number;
}

export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
}

/** Parses rclone filter-file text: `+ pattern`, `- pattern`, `#`/`;` comments, blank lines. */
export function parseRcloneFilters(text: string): FilterRule[] {
  const rules: FilterRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    if (line === '!') {
      throw new FilterSyntaxError(`filter line ${index + 1}: "!" (clear all rules) is not supported`);
    }
    const sign = line[0];
    if ((sign !== '+' && sign !== '-') || line[1] !== ' ') {
      throw new FilterSyntaxError(
        `filter line ${index + 1}: expected "+ pattern" or "- pattern", got "${line}"`,
      );
    }
    const pattern = line.slice(2).trim();
    if (pattern === '') throw new FilterSyntaxError(`filter line ${index + 1}: empty pattern`);
    rules.push({ include: sign === '+', pattern, line: index + 1 });
  });
  return rules;
}

/** Expands `{a,b}` alternations (nested ones too) into every combination. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let start = -1;
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '\\') {
      index++;
      continue;
    }
    if (char === '{') {
      if (depth === 0) start = index;
      depth++;
    } else if (char === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const body = pattern.slice(start + 1, index);
        const alternatives: string[] = [];
        let level = 0;
        let from = 0;
        for (let at = 0; at < body.length; at++) {
          if (body[at] === '\\') at++;
          else if (body[at] === '{') level++;
          else if (body[at] === '}') level--;
          else if (body[at] === ',' && level === 0) {
            alternatives.push(body.slice(from, at));
            from = at + 1;
          }
        }
        alternatives.push(body.slice(from));
        const head = pattern.slice(0, start);
        const tail = pattern.slice(index + 1);
        return alternatives.flatMap((alternative) => expandBraces(`${head}${alternative}${tail}`));
      }
    }
  }
  return [pattern];
}

/** gitignore form of one rclone glob (no braces left): anchoring and special first characters. */
function toGitignoreGlob(pattern: string): string {
  const anchored = pattern.startsWith('/');
  const body = anchored ? pattern.slice(1) : pattern;
  const withoutTrailing = body.endsWith('/') ? body.slice(0, -1) : body;
  // gitignore anchors any pattern with an inner `/`; rclone matches it at any depth.
  const needsAnyDepth = !anchored && withoutTrailing.includes('/') && !withoutTrailing.startsWith('**/');
  let result = anchored ? `/${body}` : needsAnyDepth ? `**/${body}` : body;
  if (result.startsWith('!') || result.startsWith('#')) result = `\\${result}`;
  return result;
}

/**
 * The directories an include rule implies (rclone's derived directory rules): for
 * `/a/b/*.txt` these are `/a/` and `/a/b/`; a `**` component ends the walk, because
 * `**` already matches directories.
 */
export function parentDirectoryGlobs(pattern: string): string[] {
  const anchored = pattern.startsWith('/');
  let body = anchored ? pattern.slice(1) : pattern;
  if (body.endsWith('/')) body = body.slice(0, -1);
  const parts = body.split('/');
  parts.pop();
  const globs: string[] = [];
  for (let count = 1; count <= parts.length; count++) {
    const part = parts[count - 1] as string;
    if (part.includes('**')) break;
    globs.push(`${anchored ? '/' : ''}${parts.slice(0, count).join('/')}/`);
  }
  return globs;
}

/** Translates rclone filter rules into gitignore patterns with the same outcome (see the module note). */
export function rcloneFiltersToGitignore(rules: FilterRule[]): string[] {
  const output: string[] = [];
  for (const rule of [...rules].reverse()) {
    const variants = expandBraces(rule.pattern);
    for (const variant of variants) {
      if (rule.include) {
        // Listed after the rule itself, so that (reading last-match-wins) the directories
        // leading to an included path are re-included whatever later excludes say.
        output.push(`!${toGitignoreGlob(variant)}`);
        for (const dir of parentDirectoryGlobs(variant).reverse()) output.push(`!${toGitignoreGlob(dir)}`);
      } else {
        output.push(toGitignoreGlob(variant));
      }
    }
  }
  return output;
}

/** Parses and translates an rclone filter file in one go. */
export function translateRcloneFilterFile(text: string): string[] {
  return rcloneFiltersToGitignore(parseRcloneFilters(text));
}
