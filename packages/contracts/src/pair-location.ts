import type { z } from 'zod';
import { LocationSchema } from './location.js';

/**
 * A pair's source or destination: a location config discriminated on `type` (`local`
 * with an absolute `path`, or a remote backend). A local path must also lie under one of
 * the server's allowed roots (checked by the server). In answers, secret fields are
 * never included.
 */
export const PairLocationSchema = LocationSchema;
export type PairLocation = z.infer<typeof PairLocationSchema>;
