import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';
import { SideSchema } from './enums.js';

/**
 * Why a version was kept: a sync overwrote (`overwritten`) or deleted (`deleted`) the file,
 * it lost a conflict (`conflict`), or a restore put an older version in its place
 * (`restore`). `unknown` for versions kept where no record says why (by the command line).
 */
export const VersionReasonSchema = z.enum(['overwritten', 'deleted', 'conflict', 'restore', 'unknown']);
export type VersionReason = z.infer<typeof VersionReasonSchema>;

/**
 * A version id: opaque to clients, URL-safe (base64url). It names the side and the file
 * in that side's versions area.
 */
export const VersionIdSchema = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[A-Za-z0-9_-]+$/, 'versionId must be an id from the versions list');

/** One kept version of a file, in `.syncengine/versions/<UTC time>/<path>` of its side (SPEC §8). */
export const VersionSchema = z.object({
  id: VersionIdSchema,
  side: SideSchema,
  /** The path the file had, relative to the side's root. */
  path: z.string(),
  /** When the run (or restore) that kept it started. */
  keptAt: TimestampSchema,
  size: z.number().nonnegative(),
  /** The file's own modification time. */
  mtime: TimestampSchema,
  reason: VersionReasonSchema,
  /** The run that kept it; null for a restore or where no record says. */
  runId: IdSchema.nullable(),
});
export type Version = z.infer<typeof VersionSchema>;

/**
 * `GET /pairs/:id/versions` query. `side`: one side only; `path`: a folder (or file) prefix,
 * the versions of it and everything below; `q`: a case-insensitive search in the path.
 */
export const VersionListQuerySchema = z.object({
  side: SideSchema.optional(),
  path: z.string().max(4096).optional(),
  q: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
export type VersionListQuery = z.output<typeof VersionListQuerySchema>;

/** `GET /pairs/:id/versions` answer: newest first. */
export const VersionListSchema = z.object({
  items: z.array(VersionSchema),
  /** More versions matched than `limit`. */
  truncated: z.boolean(),
  /** Versions older than this many days are pruned after each run; 0 keeps them forever. */
  retentionDays: z.number().int().nonnegative(),
});
export type VersionList = z.infer<typeof VersionListSchema>;

export const VersionParamsSchema = z.object({ id: IdSchema, versionId: VersionIdSchema });
export type VersionParams = z.infer<typeof VersionParamsSchema>;

/**
 * `POST /pairs/:id/versions/:versionId/restore` answer. `restored` (200): the version is
 * back at `path`, and the file that was there is kept as the version `keptAs`. `queued`
 * (202): a remote side; the `version-restore` job `jobId` does it, and `version.restored`
 * is published when it has.
 */
export const RestoreVersionResultSchema = z.object({
  status: z.enum(['restored', 'queued']),
  side: SideSchema,
  path: z.string(),
  keptAs: VersionSchema.nullable(),
  jobId: z.string().nullable(),
});
export type RestoreVersionResult = z.infer<typeof RestoreVersionResultSchema>;

/** `POST /pairs/:id/versions/prune` body: removes the versions kept more than `olderThanDays` ago. */
export const PruneVersionsSchema = z.object({
  olderThanDays: z.number().int().min(1).max(36_500),
  side: SideSchema.optional(),
});
export type PruneVersions = z.infer<typeof PruneVersionsSchema>;

export const PruneVersionsResultSchema = z.object({
  /** Versions folders removed (each holds the files one run kept). */
  removedFolders: z.number().int().nonnegative(),
});
export type PruneVersionsResult = z.infer<typeof PruneVersionsResultSchema>;
