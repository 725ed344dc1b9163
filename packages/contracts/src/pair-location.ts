import { z } from 'zod';

/**
 * A pair's source or destination, discriminated on `type`. A local folder's path must be
 * absolute and lie under one of the server's allowed roots (checked by the server).
 * Remote types (sftp, s3, webdav) join this union with the storage backends.
 */
export const PairLocationSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('local'),
    path: z.string().min(1, 'path must not be empty').max(4096),
  }),
]);
export type PairLocation = z.infer<typeof PairLocationSchema>;
