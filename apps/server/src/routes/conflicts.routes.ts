import {
  ConflictListQuerySchema,
  ConflictListSchema,
  ConflictPreviewQuerySchema,
  ConflictPreviewSchema,
  ConflictSchema,
  IdParamsSchema,
  ResolveConflictSchema,
} from '@syncengine/contracts';
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
