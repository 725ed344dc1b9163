import { z } from 'zod';

/** `GET /folders` query: the folder to list (absolute); without it, the allowed roots. */
export const FolderQuerySchema = z.object({
  path: z
    .string()
    .min(1, 'path must not be empty')
    .max(4_096, 'path must be at most 4096 characters')
    .optional(),
});
export type FolderQuery = z.infer<typeof FolderQuerySchema>;

/** `GET /folders`: subfolders of one folder under the allowed roots (never files). */
export const FolderListingSchema = z.object({
  /** The folder listed; null for the list of allowed roots. */
  path: z.string().nullable(),
  /** The folder above, while it is still under an allowed root; null otherwise. */
  parent: z.string().nullable(),
  /** The allowed roots (SYNCENGINE_ALLOWED_ROOTS). */
  roots: z.array(z.string()),
  folders: z.array(z.object({ name: z.string(), path: z.string() })),
  /** More subfolders exist than were listed. */
  isTruncated: z.boolean(),
});
export type FolderListing = z.infer<typeof FolderListingSchema>;
