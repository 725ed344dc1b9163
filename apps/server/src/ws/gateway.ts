import type { BusEvent, WsEvent } from '@syncengine/contracts';
import { createThrottle, type EventBus } from '@syncengine/runs';
import type { WebSocket } from 'ws';

/** What a socket was opened with: checked again whenever credentials may have been revoked. */
export interface SocketCredentials {
  userId: string;
  sessionToken?: string | undefined;
  bearer?: string | undefined;
}

/** Close code of a socket whose session or token no longer holds (the 4000s are the application's). */
export const CLOSE_CREDENTIALS_REVOKED = 4001;

interface Client {
  socket: WebSocket;
  credentials: SocketCredentials;
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
  /** Whether the credentials still hold (a session not logged out or expired, a token not deleted). */
  isStillValid(credentials: SocketCredentials): Promise<boolean>;
  progressIntervalMs?: number;
  /** How often every socket's credentials are checked again, for sessions that expire. */
  recheckIntervalMs?: number;
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

  /** Closes the sockets (of `userId`, or all) whose credentials no longer hold. */
  const recheck = async (userId?: string) => {
    for (const client of [...clients]) {
      if (userId !== undefined && client.credentials.userId !== userId) continue;
      const isValid = await deps.isStillValid(client.credentials).catch(() => true);
      if (isValid) continue;
      clients.delete(client);
      client.socket.close(CLOSE_CREDENTIALS_REVOKED, 'credentials revoked or expired');
    }
  };
  const recheckTimer = setInterval(() => void recheck(), deps.recheckIntervalMs ?? 60_000);
  recheckTimer.unref();

  const unsubscribe = deps.bus.subscribe((event) => {
    if (event.type === 'credentials.revoked') {
      void recheck(event.userId);
      return;
    }
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
    async attach(socket: WebSocket, credentials: SocketCredentials): Promise<void> {
      const client: Client = { socket, credentials, backlog: [] };
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
      clearInterval(recheckTimer);
      for (const throttle of progress.values()) throttle.cancel();
      for (const client of clients) client.socket.close(1001, 'server shutting down');
      clients.clear();
    },
  };
}
export type WsGateway = ReturnType<typeof createWsGateway>;
