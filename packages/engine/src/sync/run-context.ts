import type { ConflictHandler } from '../api.js';
import type { Clock } from '../clock.js';
import type { SyncConfig } from '../config.js';
import type { SyncController } from '../controller.js';
import type { SyncEvent } from '../events.js';
import type { HashAlgorithm, Side } from '../model.js';
import type { StateStore } from '../state-store.js';
import type { Storage } from '../storage.js';

export const SIDES = ['source', 'destination'] as const;

/**
 * What every step of one run shares: the pair's two sides and saved state, its resolved
 * settings, the controls of the run and where it reports. Built once when a run starts.
 */
export interface RunContext {
  readonly storages: Record<Side, Storage>;
  readonly config: SyncConfig;
  /** Where the pair's last-known state and metadata are kept. */
  readonly state: StateStore;
  /** Pause and cancel; its signal aborts listings and reads. */
  readonly controller: SyncController;
  readonly clock: Clock;
  /** When the run started, by `clock`. */
  readonly startedAt: number;
  /** The hash algorithm both sides offer (one hashable here first), or null when they share none. */
  readonly hashAlgorithm: HashAlgorithm | null;
  /** The paths an incremental run looks at; undefined for a full run. */
  readonly changedPaths: readonly string[] | undefined;
  /** Decides MANUAL conflicts; without one they are left pending. */
  readonly onConflict: ConflictHandler | undefined;
  /** Tells the caller's event sink; never throws. */
  readonly emit: (event: SyncEvent) => void;
  /** Reports a warning: emitted, and kept (in order) in `warnings` for the result. */
  readonly warn: (message: string, path?: string) => void;
  /** Every warning of the run so far. */
  readonly warnings: string[];
}

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
