import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Identity of a pair: the engine's `pairIdFor` of the two roots. The state store is bound to
 * it, so the engine records it too, also when it rewrites damaged metadata.
 */
export { pairIdFor } from '@syncengine/engine';

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
