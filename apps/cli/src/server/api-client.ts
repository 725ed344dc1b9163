import {
  type Conflict,
  ConflictListSchema,
  type ConflictResolution,
  ConflictSchema,
  type CreatePairInput,
  type CreateRun,
  ErrorResponseSchema,
  type Pair,
  PairListSchema,
  PairSchema,
  type ResolveConflict,
  type RestoreVersionResult,
  RestoreVersionResultSchema,
  type Run,
  RunListSchema,
  RunSchema,
  type User,
  UserSchema,
  type VersionList,
  type VersionListQuery,
  VersionListSchema,
} from '@syncengine/contracts';
import type { z } from 'zod';
import { CliError, EXIT } from '../exit-codes.js';
import type { Credentials } from './credentials.js';

const API = '/api/v1';

/**
 * The server's REST API, typed by the contracts package that the server's routes declare:
 * every answer is parsed with the same zod schema, so client and server cannot drift
 * unnoticed. Failures become CliErrors: 401 and other 4xx are the user's to fix (exit 2),
 * the rest runtime errors (exit 1).
 */
export function createApiClient(credentials: Credentials, fetchImpl: typeof fetch = fetch) {
  const call = async <Schema extends z.ZodType>(
    method: string,
    path: string,
    schema: Schema,
    body?: unknown,
  ): Promise<z.output<Schema>> => {
    let response: Response;
    try {
      response = await fetchImpl(`${credentials.url}${API}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${credentials.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new CliError(EXIT.runtimeError, `cannot reach the server at ${credentials.url}: ${cause}`);
    }
    const text = await response.text();
    const json = text ? safeJson(text) : null;
    if (!response.ok) throw apiError(credentials.url, response.status, json);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new CliError(
        EXIT.runtimeError,
        `the server at ${credentials.url} answered ${method} ${path} with something unexpected (is it another version?): ${parsed.error.issues[0]?.message ?? ''}`,
      );
    }
    return parsed.data;
  };

  return {
    url: credentials.url,
    me: (): Promise<User> => call('GET', '/auth/me', UserSchema),
    listPairs: async (): Promise<Pair[]> => (await call('GET', '/pairs', PairListSchema)).items,
    getPair: (id: string): Promise<Pair> => call('GET', `/pairs/${id}`, PairSchema),
    createPair: (body: CreatePairInput): Promise<Pair> => call('POST', '/pairs', PairSchema, body),
    triggerRun: (pairId: string, body: Partial<CreateRun>): Promise<Run> =>
      call('POST', `/pairs/${pairId}/runs`, RunSchema, body),
    listRuns: async (pairId: string): Promise<Run[]> =>
      (await call('GET', `/pairs/${pairId}/runs`, RunListSchema)).items,
    getRun: (id: string): Promise<Run> => call('GET', `/runs/${id}`, RunSchema),
    controlRun: (id: string, action: 'pause' | 'resume' | 'cancel'): Promise<Run> =>
      call('POST', `/runs/${id}/${action}`, RunSchema),
    listConflicts: async (query: {
      pairId?: string;
      status?: 'pending' | 'resolved';
    }): Promise<Conflict[]> => {
      const search = new URLSearchParams(
        Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
      );
      const suffix = search.size > 0 ? `?${search}` : '';
      return (await call('GET', `/conflicts${suffix}`, ConflictListSchema)).items;
    },
    listVersions: (pairId: string, query: Partial<VersionListQuery>): Promise<VersionList> => {
      const search = new URLSearchParams(
        Object.entries(query)
          .filter((entry) => entry[1] !== undefined)
          .map(([key, value]): [string, string] => [key, String(value)]),
      );
      const suffix = search.size > 0 ? `?${search}` : '';
      return call('GET', `/pairs/${pairId}/versions${suffix}`, VersionListSchema);
    },
    restoreVersion: (pairId: string, versionId: string): Promise<RestoreVersionResult> =>
      call('POST', `/pairs/${pairId}/versions/${versionId}/restore`, RestoreVersionResultSchema),
    resolveConflict: (id: string, resolution: ConflictResolution): Promise<Conflict> =>
      call('POST', `/conflicts/${id}/resolve`, ConflictSchema, { resolution } satisfies ResolveConflict),
  };
}
export type ApiClient = ReturnType<typeof createApiClient>;

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function apiError(url: string, status: number, body: unknown): CliError {
  const parsed = ErrorResponseSchema.safeParse(body);
  const message = parsed.success ? parsed.data.message : `HTTP ${status}`;
  if (status === 401) {
    return new CliError(
      EXIT.usage,
      `the server at ${url} refused the token (revoked, expired or mistyped): ${message}. Create a token on the dashboard's Tokens page and run syncengine login ${url}`,
    );
  }
  // 409: the pair or run is busy (a run already active, a run already over): not a usage error.
  if (status >= 400 && status < 500 && status !== 409) return new CliError(EXIT.usage, message);
  return new CliError(EXIT.runtimeError, `the server at ${url} failed: ${message}`);
}
