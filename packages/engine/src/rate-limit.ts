import { sleep } from './backends/util.js';
import type { Clock } from './clock.js';

/** How much unused time a limit may bank: bytes that came after a pause go at once, up to this much of the rate. */
const BURST_MS = 250;

/** Milliseconds that only go forward, whatever the wall clock does. */
const monotonic: Clock = { now: () => performance.now() };

export interface RateLimitOptions {
  /** Elapsed time (default: monotonic). */
  clock?: Clock;
  /** How a wait is made (a test records the waits instead). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A bandwidth limit shared by every transfer of a run: each caller reserves its bytes in
 * turn and waits until the limit has room for them, so that the transfers together move at
 * most `bytesPerSecond` (averaged over a quarter of a second).
 */
export class RateLimit {
  readonly #msPerByte: number;
  readonly #clock: Clock;
  readonly #sleep: (ms: number) => Promise<void>;
  /** When the bytes reserved so far will have gone at the limit's rate. */
  #freeAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly bytesPerSecond: number,
    options: RateLimitOptions = {},
  ) {
    if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
      throw new RangeError(
        `a bandwidth limit must be a positive number of bytes per second, got ${bytesPerSecond}`,
      );
    }
    this.#msPerByte = 1000 / bytesPerSecond;
    this.#clock = options.clock ?? monotonic;
    this.#sleep = options.sleep ?? sleep;
  }

  /**
   * Reserves `bytes` and resolves when they may go. A wait is not cut short by a pause or a
   * cancel: the transfer under way finishes (SPEC §9), at the limit's rate.
   */
  take(bytes: number): Promise<void> {
    const now = this.#clock.now();
    this.#freeAt = Math.max(this.#freeAt, now - BURST_MS) + bytes * this.#msPerByte;
    const wait = this.#freeAt - now;
    return wait > 0 ? this.#sleep(wait) : Promise.resolve();
  }
}
