import {
  IdParamsSchema,
  PruneVersionsResultSchema,
  PruneVersionsSchema,
  RestoreVersionResultSchema,
  VersionListQuerySchema,
  VersionListSchema,
  VersionParamsSchema,
} from '@syncengine/contracts';
import { z } from 'zod';
import type { VersionService } from '../services/version.service.js';
import { errorResponses, type ZodApp } from './types.js';

export function versionRoutes(app: ZodApp, deps: { versions: VersionService }) {
  app.get(
    '/pairs/:id/versions',
    {
      schema: {
        tags: ['versions'],
        summary: "Kept versions of the pair's files, newest first",
        description:
          '`side`: one side only; `path`: the versions of a file or of everything below a folder; `q`: a case-insensitive search in the path.',
        params: IdParamsSchema,
        querystring: VersionListQuerySchema,
        response: { 200: VersionListSchema, ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request) => deps.versions.list(request.params.id, request.query),
  );
  app.post(
    '/pairs/:id/versions/:versionId/restore',
    {
      schema: {
        tags: ['versions'],
        summary:
          'Put a version back at its path (the file there now is kept as a version first): 200 when done, 202 with a job for a remote side',
        params: VersionParamsSchema,
        response: {
          200: RestoreVersionResultSchema,
          202: RestoreVersionResultSchema,
          ...errorResponses(400, 401, 404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const result = await deps.versions.restore(request.params.id, request.params.versionId);
      return reply.code(result.status === 'queued' ? 202 : 200).send(result);
    },
  );
  app.get(
    '/pairs/:id/versions/:versionId/content',
    {
      schema: {
        tags: ['versions'],
        summary: 'Download a version',
        params: VersionParamsSchema,
        response: {
          200: z.unknown().describe('the bytes of the file'),
          ...errorResponses(400, 401, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const file = await deps.versions.open(request.params.id, request.params.versionId);
      reply.raw.on('close', () => void file.close().catch(() => {}));
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(file.size))
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`)
        .header('x-content-type-options', 'nosniff')
        .send(file.stream);
    },
  );
  app.delete(
    '/pairs/:id/versions/:versionId',
    {
      schema: {
        tags: ['versions'],
        summary: 'Delete one kept version for good',
        params: VersionParamsSchema,
        response: { 204: z.null(), ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request, reply) => {
      await deps.versions.remove(request.params.id, request.params.versionId);
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/pairs/:id/versions/prune',
    {
      schema: {
        tags: ['versions'],
        summary: 'Delete the versions kept more than `olderThanDays` ago, now',
        params: IdParamsSchema,
        body: PruneVersionsSchema,
        response: { 200: PruneVersionsResultSchema, ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request) => deps.versions.prune(request.params.id, request.body),
  );
}
