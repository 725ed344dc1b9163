import type { LastKnownState } from '../model.js';
import type { StateChange, StateStore, SyncMetadata } from '../state-store.js';
import { applyStateChanges, cloneState, emptyState } from './apply.js';

/** A `StateStore` held in memory, for tests. Returns and keeps copies, never shared objects. */
export class MemoryStateStore implements StateStore {
  private state: LastKnownState | null;
  private metadata: SyncMetadata | null;
  /** Number of `update()` calls, to see whether a run recorded progress. */
  updateCount = 0;
  /** Number of `save()` calls. */
  saveCount = 0;

  constructor(initial?: { state?: LastKnownState | null; metadata?: SyncMetadata | null }) {
    this.state = initial?.state ? cloneState(initial.state) : null;
    this.metadata = initial?.metadata ? structuredClone(initial.metadata) : null;
  }

  async load(): Promise<LastKnownState | null> {
    return this.state ? cloneState(this.state) : null;
  }

  async save(state: LastKnownState): Promise<void> {
    this.saveCount++;
    this.state = cloneState(state);
  }

  async update(changes: StateChange[]): Promise<void> {
    this.updateCount++;
    if (!this.state) this.state = emptyState();
    applyStateChanges(this.state, changes);
  }

  async loadMetadata(): Promise<SyncMetadata | null> {
    return this.metadata ? structuredClone(this.metadata) : null;
  }

  async saveMetadata(metadata: SyncMetadata): Promise<void> {
    this.metadata = structuredClone(metadata);
  }
}
