import {
  CreatePairSchema,
  CreateRunSchema,
  IdParamsSchema,
  type Pair,
  PairListSchema,
  PairSchema,
  PairSyncStatusSchema,
  PlanPreviewSchema,
  RunListSchema,
  RunSchema,
  SavePairQuerySchema,
  TERMINAL_RUN_STATUSES,
  TriggerRunQuerySchema,
  UpdatePairSchema,
} from '@syncengine/contracts';
import { z } from 'zod';
import { type SerializedBody, sendSerialized, serializedBody } from '../http-cache.js';
import type { PairService } from '../services/pair.service.js';
import type { PairStatusService } from '../services/pair-status.service.js';
import type { RunService } from '../services/run.service.js';
import { errorResponses, type ZodApp } from './types.js';

export function pairRoutes(
  app: ZodApp,
  deps: { pairs: PairService; runs: RunService; pairStatus: PairStatusService },
) {
  const listBodies = new WeakMap<Pair[], SerializedBody>();
  app.get(
    '/pairs',
    {
      schema: {
        tags: ['pairs'],
        summary: 'List pairs',
        description:
          'Answered with an `ETag`: a request whose `If-None-Match` names it gets 304 and no body while the list reads the same.',
        response: {
          200: PairListSchema,
          304: z.null().describe('Not modified: the list reads as the ETag sent'),
          ...errorResponses(401),
        },
      },
    },
    async (request, reply) => {
      const items = await deps.pairs.list();
      // The service answers the same array while the list is unchanged: written once.
      let body = listBodies.get(items);
      if (!body) {
        // The compiled serialiser of this route writes a string.
        body = serializedBody(String(reply.serialize({ items })));
        listBodies.set(items, body);
      }
      return sendSerialized(request, reply, body);
    },
  );
  app.post(
    '/pairs',
    {
      schema: {
        tags: ['pairs'],
        summary: 'Create a pair',
        description:
          'Local paths must lie under SYNCENGINE_ALLOWED_ROOTS and exist (or pass `createFolders=true` to create them). Optional fields take the SPEC defaults.',
        querystring: SavePairQuerySchema,
        body: CreatePairSchema,
        response: { 201: PairSchema, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => reply.code(201).send(await deps.pairs.create(request.body, request.query)),
  );
  app.get(
    '/pairs/:id',
    {
      schema: {
        tags: ['pairs'],
        summary: 'Get a pair',
        params: IdParamsSchema,
        response: { 200: PairSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => deps.pairs.get(request.params.id),
  );
  app.get(
    '/pairs/:id/status',
    {
      schema: {
        tags: ['pairs'],
        summary: 'Where the pair stands: in sync, N items out of sync, syncing, paused, error or disabled',
        description:
          'A cheap check (an active run answers at once; local roots must exist; then a dry-run plan, which stops early on unchanged local trees), cached for a few seconds. `sides` counts files, folders and bytes per side as the last run left them.',
        params: IdParamsSchema,
        response: { 200: PairSyncStatusSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => deps.pairStatus.status(request.params.id),
  );
  app.patch(
    '/pairs/:id',
    {
      schema: {
        tags: ['pairs'],
        summary: 'Change a pair',
        params: IdParamsSchema,
        querystring: SavePairQuerySchema,
        body: UpdatePairSchema,
        response: { 200: PairSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => deps.pairs.update(request.params.id, request.body, request.query),
  );
  app.delete(
    '/pairs/:id',
    {
      schema: {
        tags: ['pairs'],
        summary: 'Delete a pair with its state, runs and conflicts (refused with 409 while a run is active)',
        params: IdParamsSchema,
        response: { 204: z.null(), ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      await deps.pairs.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/pairs/:id/runs',
    {
      schema: {
        tags: ['runs'],
        summary:
          'Start a run (202). One run at a time per pair: 409 while another is queued, running or paused',
        description:
          'Runs are asynchronous: the answer is the queued run. With `?wait=true` the answer comes when the run has ended (200, with its status and stats), or after `timeout` seconds (default 300) with the run still active (202).',
        params: IdParamsSchema,
        querystring: TriggerRunQuerySchema,
        // The body is optional: a bare POST starts a normal run.
        body: CreateRunSchema.nullish(),
        response: { 200: RunSchema, 202: RunSchema, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const run = await deps.runs.trigger(request.params.id, request.body ?? { dryRun: false, force: false });
      if (!request.query.wait) return reply.code(202).send(run);
      const current = await deps.runs.waitForEnd(run.id, request.query.timeout * 1_000);
      return reply.code(TERMINAL_RUN_STATUSES.includes(current.status) ? 200 : 202).send(current);
    },
  );
  app.get(
    '/pairs/:id/runs',
    {
      schema: {
        tags: ['runs'],
        summary: "A pair's runs, newest first (last 100)",
        params: IdParamsSchema,
        response: { 200: RunListSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => ({ items: await deps.runs.listByPair(request.params.id) }),
  );
  app.get(
    '/pairs/:id/plan',
    {
      schema: {
        tags: ['runs'],
        summary: 'Dry-run preview: what a run would do now (changes nothing)',
        params: IdParamsSchema,
        response: { 200: PlanPreviewSchema, ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request) => deps.runs.plan(request.params.id),
  );
}
