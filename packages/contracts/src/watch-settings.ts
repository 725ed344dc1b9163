/**
 * The defaults and limits of a pair's watch settings, apart from the schemas that check them
 * (in pair.ts). Imports nothing, so the command line's `watch` options load without zod.
 */

/** SPEC §12 defaults of a pair's watch settings. */
export const WATCH_DEFAULTS = {
  enabled: false,
  debounceMs: 1_000,
  rescanMinutes: 60,
  pollSeconds: 60,
} as const;

/**
 * Limits of each watch setting, inclusive: the one source for the API, the dashboard's
 * form, the CLI's options and the watcher itself.
 */
export const WATCH_SETTING_LIMITS = {
  debounceMs: { min: 50, max: 600_000 },
  rescanMinutes: { min: 1, max: 10_080 },
  pollSeconds: { min: 5, max: 86_400 },
} as const;
