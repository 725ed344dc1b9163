import type {
  PruneVersions,
  PruneVersionsResult,
  RestoreVersionResult,
  Side,
  VersionList,
} from '@syncengine/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { API_BASE, api, query } from './client.js';

/** Which of a pair's versions to list. */
export interface VersionFilters {
  side?: Side | undefined;
  path?: string | undefined;
  q?: string | undefined;
}

const versionsKey = (pairId: string) => ['pairs', pairId, 'versions'] as const;

export function useVersions(pairId: string, filters: VersionFilters) {
  return useQuery({
    queryKey: [...versionsKey(pairId), filters],
    queryFn: () =>
      api<VersionList>(
        'GET',
        `/pairs/${pairId}/versions${query({ side: filters.side, path: filters.path, q: filters.q })}`,
      ),
  });
}

/** Where the browser downloads a version from (same origin: the session cookie goes along). */
export const versionContentUrl = (pairId: string, versionId: string) =>
  `${API_BASE}/pairs/${pairId}/versions/${versionId}/content`;

export function useRestoreVersion(pairId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (versionId: string) =>
      api<RestoreVersionResult>('POST', `/pairs/${pairId}/versions/${versionId}/restore`),
    onSettled: () => client.invalidateQueries({ queryKey: versionsKey(pairId) }),
  });
}

export function useDeleteVersion(pairId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (versionId: string) => api<void>('DELETE', `/pairs/${pairId}/versions/${versionId}`),
    onSettled: () => client.invalidateQueries({ queryKey: versionsKey(pairId) }),
  });
}

export function usePruneVersions(pairId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: PruneVersions) =>
      api<PruneVersionsResult>('POST', `/pairs/${pairId}/versions/prune`, body),
    onSettled: () => client.invalidateQueries({ queryKey: versionsKey(pairId) }),
  });
}
