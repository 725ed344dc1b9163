import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';
import { EntrySchema } from './entry.js';
import { ConflictResolutionSchema, SideSchema } from './enums.js';

export const ConflictStatusSchema = z.enum(['pending', 'resolved']);
export type ConflictStatus = z.infer<typeof ConflictStatusSchema>;

/**
 * A conflict a MANUAL pair is waiting on, with both sides' metadata as seen when it was
 * detected (null: absent on that side). A pending conflict never changes either side.
 */
export const ConflictSchema = z.object({
  id: IdSchema,
  pairId: IdSchema,
  /** The run that detected it. */
  runId: IdSchema.nullable(),
  path: z.string(),
  source: EntrySchema.nullable(),
  destination: EntrySchema.nullable(),
  status: ConflictStatusSchema,
  /** The decision taken; `skip` leaves the conflict pending (SPEC §6). */
  resolution: ConflictResolutionSchema.nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: TimestampSchema.nullable(),
  detectedAt: TimestampSchema,
  /** When the decision was carried out on disk; null while it waits for that. */
  appliedAt: TimestampSchema.nullable(),
  /** What carrying it out did, in words ("kept both; the destination's copy is now …"). */
  outcome: z.string().nullable(),
});
export type Conflict = z.infer<typeof ConflictSchema>;

export const ConflictListQuerySchema = z.object({
  status: ConflictStatusSchema.optional(),
  pairId: IdSchema.optional(),
});
export type ConflictListQuery = z.infer<typeof ConflictListQuerySchema>;

export const ConflictListSchema = z.object({ items: z.array(ConflictSchema) });
export type ConflictList = z.infer<typeof ConflictListSchema>;

/** `POST /conflicts/:id/resolve` body. */
export const ResolveConflictSchema = z.object({ resolution: ConflictResolutionSchema });
export type ResolveConflict = z.infer<typeof ResolveConflictSchema>;

/** `GET /conflicts/:id/preview` and `GET /conflicts/:id/image` query: which side's file to read. */
export const ConflictPreviewQuerySchema = z.object({ side: SideSchema });
export type ConflictPreviewQuery = z.infer<typeof ConflictPreviewQuerySchema>;

/** Bytes a conflict preview reads at most from the start of the file. */
export const CONFLICT_PREVIEW_MAX_BYTES = 64 * 1024;

/**
 * `GET /conflicts/:id/preview` answer: the start of one side's file (at most
 * {@link CONFLICT_PREVIEW_MAX_BYTES}). `isText` is true for valid UTF-8 without NUL bytes;
 * `text` is null otherwise. `truncated`: the file is longer than what was read.
 */
export const ConflictPreviewSchema = z.object({
  isText: z.boolean(),
  text: z.string().nullable(),
  truncated: z.boolean(),
});
export type ConflictPreview = z.infer<typeof ConflictPreviewSchema>;

/**
 * Image files a conflict card shows as a thumbnail, by extension, with the type
 * `GET /conflicts/:id/image` serves them as. SVG is left out: it is text, and gets a diff.
 */
export const CONFLICT_IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  bmp: 'image/bmp',
};

/** The largest image `GET /conflicts/:id/image` serves. */
export const CONFLICT_IMAGE_MAX_BYTES = 10 * 1024 * 1024;

/** The image type of a path by its extension (case-insensitive); null when it is no image. */
export function conflictImageType(path: string): string | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return null;
  return CONFLICT_IMAGE_TYPES[name.slice(dot + 1).toLowerCase()] ?? null;
}
