import {
  ConflictListQuerySchema,
  ConflictListSchema,
  ConflictPreviewQuerySchema,
  ConflictPreviewSchema,
  ConflictSchema,
  IdParamsSchema,
  ResolveConflictSchema,
} from '@syncengine/contracts';
import { z } from 'zod';
import type { ConflictService } from '../services/conflict.service.js';
import { currentUser, errorResponses, type ZodApp } from './types.js';

export function conflictRoutes(app: ZodApp, deps: { conflicts: ConflictService }) {
  app.get(
    '/conflicts',
    {
      schema: {
        tags: ['conflicts'],
        summary: 'List conflicts, newest first',
        querystring: ConflictListQuerySchema,
        response: { 200: ConflictListSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => ({ items: await deps.conflicts.list(request.query) }),
  );
  app.get(
    '/conflicts/:id/preview',
    {
      schema: {
        tags: ['conflicts'],
        summary: "The start (64 KiB) of one side's version of the file, as text when it is UTF-8",
        params: IdParamsSchema,
        querystring: ConflictPreviewQuerySchema,
        response: { 200: ConflictPreviewSchema, ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request) => deps.conflicts.preview(request.params.id, request.query.side),
  );
  app.get(
    '/conflicts/:id/image',
    {
      schema: {
        tags: ['conflicts'],
        summary: "One side's version of an image file (at most 10 MiB), for a thumbnail",
        params: IdParamsSchema,
        querystring: ConflictPreviewQuerySchema,
        response: {
          200: z.unknown().describe('the bytes of the image'),
          ...errorResponses(400, 401, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const file = await deps.conflicts.image(request.params.id, request.query.side);
      reply.raw.on('close', () => void file.close().catch(() => {}));
      return (
        reply
          .header('content-type', file.type)
          .header('content-length', String(file.size))
          .header('x-content-type-options', 'nosniff')
          // The file is the user's: shown as an image, never run as a page.
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('cache-control', 'private, no-store')
          .send(file.stream)
      );
    },
  );
  app.post(
    '/conflicts/:id/resolve',
    {
      schema: {
        tags: ['conflicts'],
        summary: 'Decide a conflict: applied by the live run, or by a follow-up run queued now',
        params: IdParamsSchema,
        body: ResolveConflictSchema,
        response: { 200: ConflictSchema, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request) =>
      deps.conflicts.resolve(request.params.id, request.body.resolution, currentUser(request).username),
  );
}
