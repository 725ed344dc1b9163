import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RelativeTime } from './relative-time.js';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('RelativeTime', () => {
  it('reads a value that arrives between two ticks against the time it arrived', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T10:00:00.000Z'));
    const { rerender } = render(<RelativeTime value="2026-01-01T09:59:00.000Z" />);
    expect(screen.getByText('1 minute ago')).toBeTruthy();

    // 20 s later, before the next tick, a change that just happened is shown.
    vi.setSystemTime(new Date('2026-01-01T10:00:20.000Z'));
    rerender(<RelativeTime value="2026-01-01T10:00:20.000Z" />);
    expect(screen.getByRole('time').textContent).toBe('now');
  });
});
