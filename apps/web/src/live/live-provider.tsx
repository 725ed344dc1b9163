import type { WsEvent } from '@syncengine/contracts';
import { WsEventSchema } from '@syncengine/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useReducer, useRef } from 'react';
import { API_BASE } from '../api/client.js';
import { keys } from '../api/hooks.js';
import { initialLiveState, type LiveState, liveReducer, reconnectDelay } from './live-state.js';

/** How long events are gathered before the view updates (at most 10 updates a second). */
const BATCH_MS = 100;

const LiveContext = createContext<LiveState>(initialLiveState);

/** The live state fed by the WebSocket: active runs, their progress and actions, pending conflicts. */
export function useLive(): LiveState {
  return useContext(LiveContext);
}

function socketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}${API_BASE}/ws`;
}

/**
 * Keeps one WebSocket open while signed in and reconnects with backoff when it drops.
 * Each (re)connection brings a snapshot, and cached queries are refetched, so nothing that
 * happened while disconnected is missed.
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const [state, dispatch] = useReducer(liveReducer, initialLiveState);
  const client = useQueryClient();
  const attemptRef = useRef(0);

  useEffect(() => {
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    let pending: WsEvent[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      flushTimer = null;
      const events = pending;
      pending = [];
      if (events.length === 0) return;
      dispatch({ type: 'events', events, receivedAt: Date.now() });
      for (const event of events) onEvent(event);
    };

    const onEvent = (event: WsEvent) => {
      switch (event.type) {
        case 'run.queued':
        case 'run.started':
        case 'run.completed':
        case 'run.failed':
        case 'run.cancelled':
          client.setQueryData(keys.run(event.run.id), event.run);
          void client.invalidateQueries({ queryKey: keys.pairRuns(event.run.pairId) });
          void client.invalidateQueries({ queryKey: keys.overview });
          // The list and the pair itself carry the last run.
          void client.invalidateQueries({ queryKey: keys.pairs, exact: true });
          void client.invalidateQueries({ queryKey: keys.pair(event.run.pairId), exact: true });
          if (event.type !== 'run.queued' && event.type !== 'run.started') {
            void client.invalidateQueries({ queryKey: ['runs', event.run.id, 'actions'] });
            void client.invalidateQueries({ queryKey: keys.pairStatus(event.run.pairId) });
          }
          break;
        case 'run.paused':
        case 'run.resumed':
          void client.invalidateQueries({ queryKey: keys.run(event.runId) });
          break;
        case 'conflict.created':
        case 'conflict.resolved':
          void client.invalidateQueries({ queryKey: ['conflicts'] });
          break;
        case 'pair.updated':
          client.setQueryData(keys.pair(event.pair.id), event.pair);
          void client.invalidateQueries({ queryKey: keys.pairs, exact: true });
          void client.invalidateQueries({ queryKey: keys.pairStatus(event.pair.id) });
          break;
        case 'pair.deleted':
          void client.invalidateQueries({ queryKey: keys.pairs, exact: true });
          break;
        case 'watch.run_started':
          // The pair's history lists the run the watch started.
          void client.invalidateQueries({ queryKey: keys.pairRuns(event.pairId) });
          break;
        default:
          break;
      }
    };

    const connect = () => {
      if (stopped) return;
      dispatch({ type: 'socket.connecting' });
      socket = new WebSocket(socketUrl());
      socket.onopen = () => {
        const isReconnect = attemptRef.current > 0;
        attemptRef.current = 0;
        dispatch({ type: 'socket.open' });
        // Whatever finished while the socket was down is in the database: refetch it.
        if (isReconnect) void client.invalidateQueries();
      };
      socket.onmessage = (message) => {
        let data: unknown;
        try {
          data = JSON.parse(String(message.data));
        } catch {
          return;
        }
        const parsed = WsEventSchema.safeParse(data);
        if (!parsed.success) return;
        pending.push(parsed.data);
        // A busy run sends hundreds of actions a second: render them in batches.
        flushTimer ??= setTimeout(flush, BATCH_MS);
      };
      socket.onclose = () => {
        socket = null;
        flush();
        if (stopped) return;
        dispatch({ type: 'socket.closed' });
        const delay = reconnectDelay(attemptRef.current);
        attemptRef.current += 1;
        timer = setTimeout(connect, delay);
      };
    };

    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (flushTimer) clearTimeout(flushTimer);
      socket?.close();
    };
  }, [client]);

  return <LiveContext.Provider value={state}>{children}</LiveContext.Provider>;
}
