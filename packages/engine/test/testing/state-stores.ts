import type { StateStore } from '../../src/state-store.js';

/**
 * The same store, as a run sees it without a recorded fingerprint (`SyncMetadata.treeFingerprint`):
 * it lists both trees. Metadata the run saves is dropped, so the fingerprint stays recorded.
 */
export function withoutFingerprint(store: StateStore): StateStore {
  return {
    load: () => store.load(),
    save: (state) => store.save(state),
    update: (changes) => store.update(changes),
    loadMetadata: async () => {
      const metadata = await store.loadMetadata();
      if (metadata) delete metadata.treeFingerprint;
      return metadata;
    },
    saveMetadata: async () => {},
  };
}
