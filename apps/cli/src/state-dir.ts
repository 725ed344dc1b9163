import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Identity of a pair: a shortened sha256 of the two roots. The same two roots in the
 * same order always give the same id, so the state of one pair is found again by every
 * later run and never confused with another pair's.
 */
export function pairIdFor(sourceRoot: string, destinationRoot: string): string {
  return createHash('sha256').update(`${sourceRoot}\n${destinationRoot}`).digest('hex').slice(0, 16);
}

/** `$XDG_STATE_HOME/syncengine`, falling back to `~/.local/state/syncengine` (XDG Base Directory spec). */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // The spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  const base = xdg?.startsWith('/') ? xdg : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'syncengine');
}

/** Where a pair's last-known state lives unless `--state-dir` says otherwise. */
export function defaultStateDir(pairId: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateHome(env), 'pairs', pairId);
}
