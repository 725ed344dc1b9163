import {
  type BusEvent,
  BusEventSchema,
  type RunControlMessage,
  RunControlMessageSchema,
} from '@syncengine/contracts';
import type { EventBus } from '@syncengine/runs';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { DEFAULT_PREFIX } from './bull-queue.js';
import {
  CONSUMER_OPTIONS,
  closeRedis,
  openRedis,
  PRODUCER_OPTIONS,
  type RedisConnection,
  RedisUnavailableError,
} from './connection.js';

export interface RedisEventBusOptions {
  connection: RedisConnection;
  /** Channel prefix; processes of one deployment share it (default as the job queue's). */
  prefix?: string;
  log?: { warn(message: string): void };
}

/** A Redis event bus; `ready()` resolves once its subscriptions are in place. */
export interface RedisEventBus extends EventBus {
  ready(): Promise<void>;
}

/**
 * The event bus over Redis pub/sub. Run events go from whichever process executes a run
 * to every server process (which relays them to WebSocket clients); control messages go
 * from the API to every worker, and the one executing the run acts on it. Pub/sub delivers
 * in milliseconds, at most once: what must survive is in Postgres first.
 *
 * Publishing an event never throws (a lost progress event is harmless, and a run must not
 * fail because Redis blinked); sending a control message does, so the API can report it.
 * Incoming messages are validated against the contracts and dropped when they do not parse.
 */
export function createRedisEventBus(options: RedisEventBusOptions): RedisEventBus {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const channels = { events: `${prefix}:bus:events`, control: `${prefix}:bus:control` };
  const warn = (message: string) => options.log?.warn(`event bus: ${message}`);
  let lastError = '';
  const onError = (error: Error) => {
    if (error.message !== lastError) warn(`Redis error: ${error.message}`);
    lastError = error.message;
  };
  const publisher = openRedis(options.connection, PRODUCER_OPTIONS, onError);
  let subscriber: Redis | null = null;
  const subscriptions = new Map<string, Promise<unknown>>();
  const listeners = new Set<(event: BusEvent) => void>();
  const controlListeners = new Set<(message: RunControlMessage) => void>();
  let isClosed = false;

  const deliver = <T>(targets: Set<(value: T) => void>, value: T) => {
    for (const listener of [...targets]) {
      try {
        listener(value);
      } catch {
        // One broken listener must not stop the others.
      }
    }
  };

  const decode = <Schema extends z.ZodType>(schema: Schema, raw: string): z.output<Schema> | null => {
    try {
      const parsed = schema.safeParse(JSON.parse(raw));
      if (parsed.success) return parsed.data;
      warn(`dropped a malformed message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    } catch {
      warn('dropped a message that is not JSON');
    }
    return null;
  };

  const listen = (channel: string) => {
    if (isClosed || subscriptions.has(channel)) return;
    if (!subscriber) {
      subscriber = openRedis(options.connection, CONSUMER_OPTIONS, onError);
      subscriber.on('message', (from: string, raw: string) => {
        if (from === channels.events) {
          const event = decode(BusEventSchema, raw);
          if (event && event.type !== 'snapshot') deliver(listeners, event);
        } else if (from === channels.control) {
          const message = decode(RunControlMessageSchema, raw);
          if (message) deliver(controlListeners, message);
        }
      });
    }
    // ioredis re-subscribes by itself after a reconnect.
    subscriptions.set(
      channel,
      subscriber.subscribe(channel).catch((error: Error) => warn(`cannot subscribe: ${error.message}`)),
    );
  };

  const send = async (channel: string, message: unknown) => {
    if (isClosed) throw new RedisUnavailableError('the event bus is closed');
    if (publisher.status !== 'ready') {
      throw new RedisUnavailableError(`Redis is unreachable (connection ${publisher.status})`);
    }
    await publisher.publish(channel, JSON.stringify(message));
  };

  const waitForPublisher = async () => {
    if (publisher.status === 'ready' || isClosed) return;
    // A new bus gets a moment to connect before its first message.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 2_000);
      function done() {
        clearTimeout(timer);
        publisher.off('ready', done);
        resolve();
      }
      publisher.once('ready', done);
    });
  };
  let isFirstConnect = true;

  return {
    async publish(event) {
      try {
        if (isFirstConnect) {
          await waitForPublisher();
          isFirstConnect = false;
        }
        await send(channels.events, event);
      } catch (error) {
        warn(`lost a ${event.type} event: ${(error as Error).message}`);
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      listen(channels.events);
      return () => listeners.delete(listener);
    },
    async sendControl(message) {
      if (isFirstConnect) {
        await waitForPublisher();
        isFirstConnect = false;
      }
      await send(channels.control, RunControlMessageSchema.parse(message));
    },
    onControl(listener) {
      controlListeners.add(listener);
      listen(channels.control);
      return () => controlListeners.delete(listener);
    },
    async ready() {
      await Promise.all([...subscriptions.values()]);
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      listeners.clear();
      controlListeners.clear();
      await closeRedis(publisher);
      if (subscriber) await closeRedis(subscriber);
    },
  };
}
