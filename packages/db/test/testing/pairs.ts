import { CreatePairSchema } from '@syncengine/contracts';
import type { NewPairRecord } from '../../src/repos/index.js';

/** A pair to store in a test, between `/a` and `/b`: every setting at its default but those given. */
export function newPairRecord(settings: Partial<NewPairRecord> = {}): NewPairRecord {
  return {
    ...CreatePairSchema.parse({
      name: 'p',
      source: { type: 'local', path: '/a' },
      destination: { type: 'local', path: '/b' },
    }),
    ...settings,
  };
}
