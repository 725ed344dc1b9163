import { RunActionQuerySchema } from '@syncengine/contracts';
import { describe, expect, it } from 'vitest';
import { runActionsPath } from './hooks.js';

const RUN = '11111111-1111-4111-8111-111111111111';

/** The query the server would parse from a path the dashboard builds. */
const parsed = (path: string) =>
  RunActionQuerySchema.parse(Object.fromEntries(new URL(path, 'http://x').searchParams));

describe('runActionsPath', () => {
  it('asks for the first page without filters when none is set', () => {
    expect(runActionsPath(RUN, {}, null, 50)).toBe(`/runs/${RUN}/actions?limit=50`);
  });

  it('sends every filter with the cursor, comma-separating several values, as the server parses them', () => {
    const path = runActionsPath(
      RUN,
      { types: ['UPLOAD_NEW', 'DELETE_DESTINATION'], statuses: ['failed'], path: '  Photos/ ' },
      '120',
      50,
    );
    expect(path.startsWith(`/runs/${RUN}/actions?`)).toBe(true);
    expect(parsed(path)).toEqual({
      cursor: '120',
      limit: 50,
      type: ['UPLOAD_NEW', 'DELETE_DESTINATION'],
      status: ['failed'],
      path: 'Photos/',
    });
  });

  it('leaves out empty filters, which the server would reject or treat as no filter', () => {
    const path = runActionsPath(RUN, { types: [], statuses: [], path: '   ' }, null, 10);
    expect(path).toBe(`/runs/${RUN}/actions?limit=10`);
  });
});
