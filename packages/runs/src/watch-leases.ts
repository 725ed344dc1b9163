import type { PairWatchState } from '@syncengine/contracts';

/**
 * Who watches which pair, and what each watch reports. Exactly one process watches a pair:
 * the one holding its lease. A holder renews its leases well before they expire; a lease
 * that is not renewed (its process died) expires, and another process takes the pair.
 * In-process for the embedded server; Redis when workers watch.
 */
export interface WatchLeases {
  /** Takes the pair's lease for `holder` unless another holder has it; true when `holder` holds it now. */
  acquire(pairId: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease `holder` holds; false when it no longer does (it expired and another took it). */
  renew(pairId: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if `holder` holds it. */
  release(pairId: string, holder: string): Promise<void>;
  /** Who holds the pair's lease now, or null. */
  holder(pairId: string): Promise<string | null>;
  /** The watch state the holder reports, kept for `ttlMs` (a dead holder's goes stale with its lease). */
  putState(pairId: string, state: PairWatchState, ttlMs: number): Promise<void>;
  getState(pairId: string): Promise<PairWatchState | null>;
  deleteState(pairId: string): Promise<void>;
  close(): Promise<void>;
}

/** Leases inside one process: the embedded server, which is the only watcher. */
export function createInProcessWatchLeases(now: () => number = Date.now): WatchLeases {
  const leases = new Map<string, { holder: string; expiresAt: number }>();
  const states = new Map<string, { state: PairWatchState; expiresAt: number }>();
  const current = <T extends { expiresAt: number }>(map: Map<string, T>, pairId: string): T | null => {
    const value = map.get(pairId);
    if (!value) return null;
    if (value.expiresAt > now()) return value;
    map.delete(pairId);
    return null;
  };
  return {
    async acquire(pairId, holder, ttlMs) {
      const lease = current(leases, pairId);
      if (lease && lease.holder !== holder) return false;
      leases.set(pairId, { holder, expiresAt: now() + ttlMs });
      return true;
    },
    async renew(pairId, holder, ttlMs) {
      const lease = current(leases, pairId);
      if (lease?.holder !== holder) return false;
      lease.expiresAt = now() + ttlMs;
      return true;
    },
    async release(pairId, holder) {
      if (current(leases, pairId)?.holder === holder) leases.delete(pairId);
    },
    async holder(pairId) {
      return current(leases, pairId)?.holder ?? null;
    },
    async putState(pairId, state, ttlMs) {
      states.set(pairId, { state, expiresAt: now() + ttlMs });
    },
    async getState(pairId) {
      return current(states, pairId)?.state ?? null;
    },
    async deleteState(pairId) {
      states.delete(pairId);
    },
    async close() {
      leases.clear();
      states.clear();
    },
  };
}
