import type { BusEvent, RunControlMessage } from '@syncengine/contracts';

/**
 * Carries run events from whoever executes a run to every server process (which relays
 * them to WebSocket clients), and control messages (pause/resume/cancel) from the API to
 * whoever executes the run. In-process for the embedded
 * server; Redis pub/sub when runs execute on BullMQ workers.
 *
 * Delivery is best-effort and at-most-once: anything that must survive (terminal run
 * states, conflicts, decisions) is written to the database first.
 */
export interface EventBus {
  publish(event: BusEvent): Promise<void>;
  /** Returns an unsubscribe function. Listeners must not throw. */
  subscribe(listener: (event: BusEvent) => void): () => void;
  sendControl(message: RunControlMessage): Promise<void>;
  onControl(listener: (message: RunControlMessage) => void): () => void;
  close(): Promise<void>;
}

/** An event bus inside one process. */
export function createInProcessEventBus(): EventBus {
  const listeners = new Set<(event: BusEvent) => void>();
  const controlListeners = new Set<(message: RunControlMessage) => void>();
  const deliver = <T>(targets: Set<(value: T) => void>, value: T) => {
    for (const listener of [...targets]) {
      try {
        listener(value);
      } catch {
        // One broken listener must not stop the others.
      }
    }
  };
  return {
    async publish(event) {
      deliver(listeners, event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async sendControl(message) {
      deliver(controlListeners, message);
    },
    onControl(listener) {
      controlListeners.add(listener);
      return () => controlListeners.delete(listener);
    },
    async close() {
      listeners.clear();
      controlListeners.clear();
    },
  };
}
