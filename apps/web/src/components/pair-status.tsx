import { Badge, Table, Text, Tooltip } from '@mantine/core';
import type { Pair, PairSyncStatus, SideTotals } from '@syncengine/contracts';
import { Link } from 'react-router';
import { usePairSyncStatus } from '../api/hooks.js';
import { ACTION_INFO, actionLabel } from '../lib/actions.js';
import { formatBytes } from '../lib/format.js';
import { PAIR_STATUS_INFO, type PairStatus, pairStatus, pairStatusLabel } from '../lib/status.js';
import { pairWatchState } from '../lib/watch.js';
import { useLive } from '../live/live-provider.js';
import { activeRunOfPair, pendingConflictsByPair } from '../live/live-state.js';

/** A pair's status from the live state (active run, conflicts) and the server's check. */
export function usePairHealth(pair: Pair) {
  const live = useLive();
  const check = usePairSyncStatus(pair.id);
  const activeRun = activeRunOfPair(live, pair.id);
  const conflicts = pendingConflictsByPair(live)[pair.id] ?? 0;
  const status = pairStatus(pair, activeRun, conflicts, check.data);
  return {
    status,
    activeRun,
    conflicts,
    check: check.data,
    /** Where the pair's watch stands; null when the pair is not watched. */
    watch: pairWatchState(
      pair,
      live,
      check.data ? { status: check.data, receivedAt: check.dataUpdatedAt } : undefined,
    ),
    label: pairStatusLabel(status, { conflicts, outOfSync: check.data?.outOfSync ?? 0 }),
  };
}

/** The status badge; "N items out of sync" links to the list of those items. */
export function PairStatusBadge({
  pairId,
  status,
  label,
  check,
}: {
  pairId: string;
  status: PairStatus;
  label: string;
  check: PairSyncStatus | undefined;
}) {
  const badge = (
    <Badge color={PAIR_STATUS_INFO[status].color} data-testid="pair-status" style={{ flexShrink: 0 }}>
      {label}
    </Badge>
  );
  const checked = check ? `Checked ${new Date(check.checkedAt).toLocaleTimeString()}` : 'Not checked yet';
  if (status === 'out_of_sync') {
    return (
      <Tooltip label={`${checked}. Show the items.`}>
        <Link to={`/pairs/${pairId}#out-of-sync`} aria-label={`${label}: show the items`}>
          {badge}
        </Link>
      </Tooltip>
    );
  }
  return <Tooltip label={checked}>{badge}</Tooltip>;
}

const plural = (count: number, word: string) => `${count.toLocaleString()} ${word}${count === 1 ? '' : 's'}`;

/** "12 files, 3 folders, 4.5 MiB". */
export function describeTotals(totals: SideTotals): string {
  return `${plural(totals.files, 'file')}, ${plural(totals.folders, 'folder')}, ${formatBytes(totals.bytes)}`;
}

/** Files, folders and bytes per side as the last run left them. */
export function SideTotalsLine({ check }: { check: PairSyncStatus | undefined }) {
  if (!check?.sides) return null;
  return (
    <Text size="xs" c="dimmed" data-testid="side-totals">
      Source: {describeTotals(check.sides.source)} · Destination: {describeTotals(check.sides.destination)}
    </Text>
  );
}

/** Syncthing's "Out of Sync Items": what a run would change now. */
export function OutOfSyncItems({ check }: { check: PairSyncStatus }) {
  return (
    <Table.ScrollContainer minWidth={480}>
      <Table aria-label="Out of sync items" data-testid="out-of-sync-items">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Item</Table.Th>
            <Table.Th scope="col">What a run would do</Table.Th>
            <Table.Th scope="col">Size</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {check.items.map((item) => (
            <Table.Tr key={`${item.type}:${item.path}`}>
              <Table.Td style={{ wordBreak: 'break-all' }}>
                {item.path}
                {item.isDir ? '/' : ''}
                {item.to ? ` → ${item.to}` : ''}
              </Table.Td>
              <Table.Td>
                <Tooltip label={item.type}>
                  <Badge variant="light" color={ACTION_INFO[item.type].color} tt="none">
                    {actionLabel(item.type, item.isDir)}
                  </Badge>
                </Tooltip>
              </Table.Td>
              <Table.Td>{item.isDir ? '—' : formatBytes(item.bytes)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {check.outOfSync > check.items.length && (
        <Text size="sm" c="dimmed">
          The first {check.items.length} of {check.outOfSync} items; the preview lists them all.
        </Text>
      )}
    </Table.ScrollContainer>
  );
}
