import { describe, expect, it } from 'vitest';
import { DEFAULT_WATCH_SETTINGS, resolveWatchSettings } from './settings.js';

describe('resolveWatchSettings', () => {
  it('fills in the defaults (1000 ms, 60 min, 60 s)', () => {
    expect(resolveWatchSettings()).toEqual({ debounceMs: 1000, rescanMinutes: 60, pollSeconds: 60 });
    expect(resolveWatchSettings({ debounceMs: 300 })).toEqual({ ...DEFAULT_WATCH_SETTINGS, debounceMs: 300 });
  });

  it('names the field of a value out of range or not a number', () => {
    expect(() => resolveWatchSettings({ debounceMs: -1 })).toThrow(/^debounceMs must be/);
    expect(() => resolveWatchSettings({ rescanMinutes: 0 })).toThrow(/^rescanMinutes must be/);
    expect(() => resolveWatchSettings({ pollSeconds: Number.NaN })).toThrow(/^pollSeconds must be/);
  });
});
