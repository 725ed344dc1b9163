import {
  ChangeListSchema,
  IdParamsSchema,
  RecentQuerySchema,
  RunActionPageSchema,
  RunActionQuerySchema,
  RunListSchema,
  RunSchema,
} from '@syncengine/contracts';
import type { RunService } from '../services/run.service.js';
import { errorResponses, type ZodApp } from './types.js';

export function runRoutes(app: ZodApp, deps: { runs: RunService }) {
  app.get(
    '/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'The newest runs of every pair, newest first',
        querystring: RecentQuerySchema,
        response: { 200: RunListSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => ({ items: await deps.runs.listRecent(request.query.limit) }),
  );
  app.get(
    '/changes',
    {
      schema: {
        tags: ['runs'],
        summary: 'The newest changes of every pair: files synced, deleted, renamed, conflicts; newest first',
        description: 'Actions that runs carried out or that failed; dry runs are left out.',
        querystring: RecentQuerySchema,
        response: { 200: ChangeListSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => ({ items: await deps.runs.recentChanges(request.query.limit) }),
  );
  app.get(
    '/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'Get a run',
        params: IdParamsSchema,
        response: { 200: RunSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => deps.runs.get(request.params.id),
  );
  app.get(
    '/runs/:id/actions',
    {
      schema: {
        tags: ['runs'],
        summary: "A run's per-file log, oldest first; pass nextCursor as cursor for the next page",
        description:
          'Filters: `type` (action types, repeated or comma-separated), `status` (done, failed, planned; likewise), `path` (a substring, ignoring case).',
        params: IdParamsSchema,
        querystring: RunActionQuerySchema,
        response: { 200: RunActionPageSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => deps.runs.actions(request.params.id, request.query),
  );
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/runs/:id/${action}`,
      {
        schema: {
          tags: ['runs'],
          summary: {
            pause: 'Pause a running run: running operations finish, no new one starts',
            resume: 'Resume a paused run',
            cancel: 'Cancel a run: a queued one at once, a running one after its running operations',
          }[action],
          params: IdParamsSchema,
          response: { 202: RunSchema, ...errorResponses(400, 401, 404, 409) },
        },
      },
      async (request, reply) => reply.code(202).send(await deps.runs[action](request.params.id)),
    );
  }
}
