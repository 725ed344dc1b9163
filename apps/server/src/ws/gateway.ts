import type { BusEvent, WsEvent } from '@syncengine/contracts';
import { createThrottle, type EventBus } from '@syncengine/runs';
import type { WebSocket } from 'ws';

interface Client {
  socket: WebSocket;
  /** Events that arrived while the snapshot was being read; null once live. */
  backlog: string[] | null;
}

/**
 * Relays bus events to WebSocket clients. A client first gets a snapshot (active runs,
 * pending conflicts), then every event, in order; events that happen while the snapshot
 * is read are held back and sent after it. `run.progress` goes out at most every
 * `progressIntervalMs` per run (the latest wins).
 */
export function createWsGateway(deps: {
  bus: Pick<EventBus, 'subscribe'>;
  snapshot(): Promise<Extract<WsEvent, { type: 'snapshot' }>>;
  progressIntervalMs?: number;
  log?: { warn(message: string): void };
}) {
  const clients = new Set<Client>();
  const progress = new Map<string, ReturnType<typeof createThrottle<BusEvent>>>();
  const interval = deps.progressIntervalMs ?? 100;

  const broadcast = (event: BusEvent) => {
    const text = JSON.stringify(event);
    for (const client of clients) {
      if (client.backlog) client.backlog.push(text);
      else if (client.socket.readyState === client.socket.OPEN) client.socket.send(text);
    }
  };

  const unsubscribe = deps.bus.subscribe((event) => {
    if (event.type === 'run.progress') {
      let throttle = progress.get(event.runId);
      if (!throttle) {
        throttle = createThrottle(interval, broadcast);
        progress.set(event.runId, throttle);
      }
      throttle.push(event);
      return;
    }
    if ('run' in event && ['run.completed', 'run.failed', 'run.cancelled'].includes(event.type)) {
      // The last progress goes out before the terminal event; then the run's throttle is dropped.
      progress.get(event.run.id)?.flush();
      progress.delete(event.run.id);
    }
    broadcast(event);
  });

  return {
    async attach(socket: WebSocket): Promise<void> {
      const client: Client = { socket, backlog: [] };
      clients.add(client);
      socket.on('close', () => clients.delete(client));
      socket.on('error', () => clients.delete(client));
      // Clients only listen; anything they send is ignored.
      socket.on('message', () => {});
      try {
        const snapshot = await deps.snapshot();
        if (socket.readyState !== socket.OPEN) return;
        socket.send(JSON.stringify(snapshot));
        for (const text of client.backlog ?? []) socket.send(text);
        client.backlog = null;
      } catch (error) {
        deps.log?.warn(
          `could not send the WebSocket snapshot: ${error instanceof Error ? error.message : String(error)}`,
        );
        clients.delete(client);
        socket.close(1011, 'snapshot failed');
      }
    },
    get clientCount() {
      return clients.size;
    },
    close() {
      unsubscribe();
      for (const throttle of progress.values()) throttle.cancel();
      for (const client of clients) client.socket.close(1001, 'server shutting down');
      clients.clear();
    },
  };
}
export type WsGateway = ReturnType<typeof createWsGateway>;
