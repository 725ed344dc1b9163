import { HealthSchema, ServerInfoSchema } from '@syncengine/contracts';
import { z } from 'zod';
import type { SystemService } from '../services/system.service.js';
import { errorResponses, type ZodApp } from './types.js';

/** `GET /health` (public). */
export function healthRoutes(app: ZodApp, deps: { system: SystemService }) {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Database and queue state (no authentication); 503 when degraded',
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      const health = await deps.system.health();
      return reply.code(health.status === 'ok' ? 200 : 503).send(health);
    },
  );
}

/** `GET /metrics` (authenticated: scrape with a bearer token). */
export function metricsRoutes(app: ZodApp, deps: { system: SystemService }) {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (text format)',
        response: { 200: z.string(), ...errorResponses(401) },
      },
    },
    async (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(await deps.system.metrics()),
  );
}

/** `GET /system` (authenticated): what the overview's server panel shows. */
export function serverInfoRoutes(app: ZodApp, deps: { system: SystemService }) {
  app.get(
    '/system',
    {
      schema: {
        tags: ['system'],
        summary:
          'Version, mode, data directory, allowed roots with their free space, runs waiting, workers online',
        response: { 200: ServerInfoSchema, ...errorResponses(401) },
      },
    },
    async () => deps.system.info(),
  );
}
