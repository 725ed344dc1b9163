import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BusEvent, Run } from '@syncengine/contracts';
import {
  canReachPostgres,
  canReachRedis,
  requireService,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from '@syncengine/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ServersOnRedis, startServersOnRedis } from '../test/testing/servers-on-redis.js';
import type { TestServer } from '../test/testing/test-server.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));

describe.skipIf(!hasPostgres || !hasRedis)('server with REDIS_URL (BullMQ queue, Redis event bus)', () => {
  let deployment: ServersOnRedis;
  let server: TestServer;
  beforeAll(async () => {
    deployment = await startServersOnRedis(1, { name: 'server' });
    [server] = deployment.servers as [TestServer];
  });
  afterAll(async () => {
    await deployment?.close();
  });

  it('reports the BullMQ queue on /health', async () => {
    const response = await server.runtime.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(response.json()).toMatchObject({ status: 'ok', queue: { status: 'up', driver: 'bullmq' } });
  });

  it('runs a sync through BullMQ and relays its events from Redis to a WebSocket client', async () => {
    const address = await server.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const socket = new WebSocket(`${address.replace(/^http/, 'ws')}/api/v1/ws`, {
      headers: { cookie: server.cookie },
    });
    const messages: BusEvent[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));

    const { source, destination } = await server.folders('redis-run');
    await writeFile(join(source, 'queued.txt'), 'through bullmq');
    const pair = await server.createPair({
      name: 'redis',
      source: { type: 'local', path: source },
      destination: { type: 'local', path: destination },
    });
    const started = await server.runtime.app.inject({
      method: 'POST',
      url: `/api/v1/pairs/${pair.id}/runs`,
      headers: { cookie: server.cookie },
      payload: {},
    });
    expect(started.statusCode).toBe(202);
    const runId = (started.json() as Run).id;
    const deadline = Date.now() + 20_000;
    while (!messages.some((event) => event.type === 'run.completed' && event.run.id === runId)) {
      if (Date.now() > deadline)
        throw new Error(`run did not complete; got ${messages.map((e) => e.type).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await readFile(join(destination, 'queued.txt'), 'utf8')).toBe('through bullmq');
    const types = messages.map((event) => event.type);
    expect(types).toContain('run.queued');
    expect(types).toContain('run.started');
    socket.close();
  });
});
