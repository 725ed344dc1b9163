import { z } from 'zod';

/** Every id the API hands out is a UUID. */
export const IdSchema = z.uuid();
export const IdParamsSchema = z.object({ id: IdSchema });
export type IdParams = z.infer<typeof IdParamsSchema>;

/** Timestamps travel as ISO 8601 strings (UTC). */
export const TimestampSchema = z.iso.datetime();

/**
 * The one error body: `{statusCode, error, message, requestId}`. Validation errors name
 * the offending field in `message` and list every issue in `issues`.
 */
export const ErrorResponseSchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  requestId: z.string(),
  code: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** `GET /health`: no authentication; 200 when everything is up, 503 otherwise. */
export const HealthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  uptimeSeconds: z.number(),
  database: z.object({ status: z.enum(['up', 'down']), driver: z.enum(['postgres', 'pglite']) }),
  queue: z.object({ status: z.enum(['up', 'down']), driver: z.enum(['in-process', 'bullmq']) }),
});
export type Health = z.infer<typeof HealthSchema>;

/** Cursor pagination: pass the previous page's `nextCursor` to get the next one. */
export const PageQuerySchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'cursor must be a value returned as nextCursor')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;
