import type { StateChange, StateStore } from '@syncengine/engine';

/**
 * `store`, telling `onRecorded` every change a run records through it (`update`), so the
 * watcher can tell the run's own writes from other changes (`WatchRunResult.recorded`).
 */
export function recordingStateStore(
  store: StateStore,
  onRecorded: (changes: readonly StateChange[]) => void,
): StateStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'update') {
        return async (changes: StateChange[]) => {
          onRecorded(changes);
          await target.update(changes);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
