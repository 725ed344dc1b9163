import { WATCH_DEFAULTS, WATCH_SETTING_LIMITS } from '@syncengine/contracts/watch-settings';

/** How a watched pair is watched (SPEC §12). */
export interface WatchSettings {
  /** Quiet time after the last change before a run starts (a burst waits at most 10 × this). */
  debounceMs: number;
  /** A full run every so many minutes catches what notifications miss. */
  rescanMinutes: number;
  /** Remote sides (and local ones whose notifications failed) are listed every so many seconds. */
  pollSeconds: number;
}

export const DEFAULT_WATCH_SETTINGS: WatchSettings = Object.freeze({
  debounceMs: WATCH_DEFAULTS.debounceMs,
  rescanMinutes: WATCH_DEFAULTS.rescanMinutes,
  pollSeconds: WATCH_DEFAULTS.pollSeconds,
});

/** A burst of changes waits at most this many debounce periods before its run. */
export const MAX_WAIT_FACTOR = 10;

/** Limits of each setting, inclusive (the API's, the form's and the CLI's). */
export { WATCH_SETTING_LIMITS };

/**
 * The settings with defaults filled in. Throws a RangeError naming the field for a value that
 * is not a finite number within its limits.
 */
export function resolveWatchSettings(settings: Partial<WatchSettings> = {}): WatchSettings {
  const resolved = { ...DEFAULT_WATCH_SETTINGS };
  for (const key of Object.keys(WATCH_SETTING_LIMITS) as (keyof WatchSettings)[]) {
    const value = settings[key];
    if (value === undefined) continue;
    const { min, max } = WATCH_SETTING_LIMITS[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new RangeError(`${key} must be a number from ${min} to ${max}`);
    }
    resolved[key] = value;
  }
  return resolved;
}
