import type {
  ActionType,
  ChangeList,
  Conflict,
  ConflictList,
  ConflictResolution,
  CreatedToken,
  CreatePairInput,
  CreateRun,
  FolderListing,
  Pair,
  PairList,
  PairSyncStatus,
  PlanPreview,
  Run,
  RunActionPage,
  RunActionStatus,
  RunList,
  ServerInfo,
  TokenList,
  UpdatePair,
  User,
} from '@syncengine/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, query } from './client.js';

/** Query keys, in one place so that invalidation matches what is cached. */
export const keys = {
  me: ['me'] as const,
  pairs: ['pairs'] as const,
  pair: (id: string) => ['pairs', id] as const,
  plan: (id: string) => ['pairs', id, 'plan'] as const,
  pairStatus: (id: string) => ['pairs', id, 'status'] as const,
  pairRuns: (id: string) => ['pairs', id, 'runs'] as const,
  run: (id: string) => ['runs', id] as const,
  runActions: (id: string, filters: RunActionFilters, cursor: string | null, limit: number) =>
    ['runs', id, 'actions', filters, cursor, limit] as const,
  conflicts: (pairId?: string) => ['conflicts', pairId ?? 'all'] as const,
  tokens: ['tokens'] as const,
  /** Everything the overview reads across pairs; refetched when a run ends. */
  overview: ['overview'] as const,
};

export function useMe() {
  return useQuery({ queryKey: keys.me, queryFn: () => api<User>('GET', '/auth/me'), retry: false });
}

export function useLogin() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { username: string; password: string }) => api<User>('POST', '/auth/login', body),
    onSuccess: (user) => {
      client.clear();
      client.setQueryData(keys.me, user);
    },
  });
}

export function useLogout() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<void>('POST', '/auth/logout'),
    onSettled: () => {
      client.clear();
      client.setQueryData(keys.me, null);
    },
  });
}

export function usePairs() {
  return useQuery({ queryKey: keys.pairs, queryFn: () => api<PairList>('GET', '/pairs') });
}

export function usePair(id: string | undefined) {
  return useQuery({
    queryKey: keys.pair(id ?? ''),
    queryFn: () => api<Pair>('GET', `/pairs/${id}`),
    enabled: Boolean(id),
  });
}

/** How often a shown pair is checked again (the server keeps a check for a few seconds). */
const PAIR_STATUS_REFRESH_MS = 30_000;

/** Where the pair stands (in sync, items out of sync, error...), checked on a short timer. */
export function usePairSyncStatus(id: string) {
  return useQuery({
    queryKey: keys.pairStatus(id),
    queryFn: () => api<PairSyncStatus>('GET', `/pairs/${id}/status`),
    refetchInterval: PAIR_STATUS_REFRESH_MS,
  });
}

/** Subfolders of `path` under the allowed roots, or the roots without a path. */
export function useFolders(path: string | undefined, isEnabled = true) {
  return useQuery({
    queryKey: ['folders', path ?? null],
    queryFn: () => api<FolderListing>('GET', `/folders${query({ path })}`),
    enabled: isEnabled,
    staleTime: 0,
  });
}

export function useSavePair(id: string | undefined) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({
      body,
      createFolders = false,
    }: {
      body: CreatePairInput | UpdatePair;
      createFolders?: boolean;
    }) => {
      const search = createFolders ? '?createFolders=true' : '';
      return id
        ? api<Pair>('PATCH', `/pairs/${id}${search}`, body)
        : api<Pair>('POST', `/pairs${search}`, body);
    },
    onSuccess: (pair) => {
      client.setQueryData(keys.pair(pair.id), pair);
      void client.invalidateQueries({ queryKey: keys.pairs });
    },
  });
}

export function useDeletePair() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>('DELETE', `/pairs/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.pairs }),
  });
}

export function usePlan(pairId: string) {
  return useQuery({
    queryKey: keys.plan(pairId),
    queryFn: () => api<PlanPreview>('GET', `/pairs/${pairId}/plan`),
    staleTime: 0,
    gcTime: 0,
    refetchOnWindowFocus: false,
  });
}

export function useStartRun(pairId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Partial<CreateRun> = {}) => api<Run>('POST', `/pairs/${pairId}/runs`, body),
    onSuccess: (run) => {
      client.setQueryData(keys.run(run.id), run);
      void client.invalidateQueries({ queryKey: keys.pairRuns(pairId) });
      void client.invalidateQueries({ queryKey: keys.pairs });
    },
  });
}

export function usePairRuns(pairId: string) {
  return useQuery({
    queryKey: keys.pairRuns(pairId),
    queryFn: () => api<RunList>('GET', `/pairs/${pairId}/runs`),
  });
}

export function useRun(runId: string) {
  return useQuery({ queryKey: keys.run(runId), queryFn: () => api<Run>('GET', `/runs/${runId}`) });
}

/** Filters of a run's action log, applied by the server before it pages. */
export interface RunActionFilters {
  types?: readonly ActionType[];
  statuses?: readonly RunActionStatus[];
  /** Substring of the path, matched ignoring case. */
  path?: string;
}

/** The `GET /runs/:id/actions` path for one page of the filtered log. */
export function runActionsPath(
  runId: string,
  filters: RunActionFilters,
  cursor: string | null,
  limit: number,
): string {
  const path = filters.path?.trim();
  return `/runs/${runId}/actions${query({
    cursor,
    limit,
    type: filters.types?.join(','),
    status: filters.statuses?.join(','),
    path,
  })}`;
}

export function useRunActions(
  runId: string,
  filters: RunActionFilters,
  cursor: string | null,
  limit: number,
  isLive = false,
) {
  return useQuery({
    queryKey: keys.runActions(runId, filters, cursor, limit),
    queryFn: () => api<RunActionPage>('GET', runActionsPath(runId, filters, cursor, limit)),
    placeholderData: (previous) => previous,
    // While the run is active the log grows; the socket streams the newest actions meanwhile.
    refetchInterval: isLive ? 3_000 : false,
  });
}

export function useRunControl(runId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (command: 'pause' | 'resume' | 'cancel') => api<Run>('POST', `/runs/${runId}/${command}`),
    onSuccess: (run) => {
      if (run && typeof run === 'object' && 'id' in run) client.setQueryData(keys.run(runId), run);
      else void client.invalidateQueries({ queryKey: keys.run(runId) });
    },
  });
}

export function useConflicts(pairId?: string) {
  return useQuery({
    queryKey: keys.conflicts(pairId),
    queryFn: () => api<ConflictList>('GET', `/conflicts${query({ status: 'pending', pairId })}`),
  });
}

export function useResolveConflict() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, resolution }: { id: string; resolution: ConflictResolution }) =>
      api<Conflict>('POST', `/conflicts/${id}/resolve`, { resolution }),
    onSettled: () => client.invalidateQueries({ queryKey: ['conflicts'] }),
  });
}

export function useTokens() {
  return useQuery({ queryKey: keys.tokens, queryFn: () => api<TokenList>('GET', '/tokens') });
}

export function useCreateToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api<CreatedToken>('POST', '/tokens', { name }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.tokens }),
  });
}

export function useDeleteToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>('DELETE', `/tokens/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.tokens }),
  });
}

/** How often the overview reads recent runs, changes and the server's state again. */
const OVERVIEW_REFRESH_MS = 30_000;

export function useRecentRuns(limit = 10) {
  return useQuery({
    queryKey: [...keys.overview, 'runs', limit],
    queryFn: () => api<RunList>('GET', `/runs${query({ limit })}`),
    refetchInterval: OVERVIEW_REFRESH_MS,
  });
}

export function useRecentChanges(limit = 20) {
  return useQuery({
    queryKey: [...keys.overview, 'changes', limit],
    queryFn: () => api<ChangeList>('GET', `/changes${query({ limit })}`),
    refetchInterval: OVERVIEW_REFRESH_MS,
  });
}

export function useServerInfo() {
  return useQuery({
    queryKey: [...keys.overview, 'system'],
    queryFn: () => api<ServerInfo>('GET', '/system'),
    refetchInterval: OVERVIEW_REFRESH_MS,
  });
}
