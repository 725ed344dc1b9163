import { z } from 'zod';

/** What a backend reports for one path (SPEC §1); used for both sides of a conflict. */
export const EntrySchema = z.object({
  path: z.string(),
  size: z.number().int().nonnegative(),
  mtime: z.number(),
  isDir: z.boolean(),
  hash: z.string().optional(),
  hashAlgorithm: z.string().optional(),
  id: z.string().optional(),
});
export type EntryMetadata = z.infer<typeof EntrySchema>;
