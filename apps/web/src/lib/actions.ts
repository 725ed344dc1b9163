import type { ActionType, ComparisonMode, ConflictStrategy, SyncMode } from '@syncengine/contracts';

/** How each action reads in the dashboard, and the colour of its badge. */
export const ACTION_INFO: Record<ActionType, { label: string; color: string }> = {
  RENAME_SOURCE: { label: 'Rename at source', color: 'grape' },
  RENAME_DESTINATION: { label: 'Rename at destination', color: 'grape' },
  UPLOAD_NEW: { label: 'Copy new file to destination', color: 'blue' },
  UPLOAD_UPDATE: { label: 'Update destination', color: 'blue' },
  UPLOAD_RESTORE: { label: 'Restore at destination', color: 'cyan' },
  DOWNLOAD_NEW: { label: 'Copy new file to source', color: 'teal' },
  DOWNLOAD_UPDATE: { label: 'Update source', color: 'teal' },
  DOWNLOAD_RESTORE: { label: 'Restore at source', color: 'cyan' },
  DELETE_SOURCE: { label: 'Delete at source', color: 'red' },
  DELETE_DESTINATION: { label: 'Delete at destination', color: 'red' },
  CONFLICT: { label: 'Conflict', color: 'orange' },
  NO_ACTION: { label: 'No change', color: 'gray' },
};

/** Labels of the actions that read differently for a folder. */
const FOLDER_LABELS: Partial<Record<ActionType, string>> = {
  UPLOAD_NEW: 'Create folder at destination',
  DOWNLOAD_NEW: 'Create folder at source',
  UPLOAD_RESTORE: 'Restore folder at destination',
  DOWNLOAD_RESTORE: 'Restore folder at source',
  DELETE_SOURCE: 'Delete folder at source',
  DELETE_DESTINATION: 'Delete folder at destination',
  RENAME_SOURCE: 'Rename folder at source',
  RENAME_DESTINATION: 'Rename folder at destination',
};

/** The one label of an action wherever it is shown; its code goes in a tooltip. */
export function actionLabel(type: ActionType, isDir = false): string {
  return (isDir ? FOLDER_LABELS[type] : undefined) ?? ACTION_INFO[type].label;
}

/** The order in which the executor carries actions out (SPEC §9), then what it does not carry out. */
export const ACTION_ORDER: readonly ActionType[] = [
  'RENAME_SOURCE',
  'RENAME_DESTINATION',
  'UPLOAD_NEW',
  'UPLOAD_UPDATE',
  'UPLOAD_RESTORE',
  'DOWNLOAD_NEW',
  'DOWNLOAD_UPDATE',
  'DOWNLOAD_RESTORE',
  'DELETE_SOURCE',
  'DELETE_DESTINATION',
  'CONFLICT',
  'NO_ACTION',
];

/** One line of explanation per sync mode, shown beside the choice. */
export const SYNC_MODE_INFO: Record<SyncMode, { label: string; description: string }> = {
  TWO_WAY: {
    label: 'Two-way',
    description: 'Changes on either side are copied to the other; edits on both sides become conflicts.',
  },
  SOURCE_TO_DESTINATION: {
    label: 'Mirror source → destination',
    description: 'The destination becomes an exact copy of the source, deletions included.',
  },
  SOURCE_BACKUP: {
    label: 'Backup source → destination',
    description: 'New and changed source files are copied; nothing is ever deleted at the destination.',
  },
  DESTINATION_TO_SOURCE: {
    label: 'Mirror destination → source',
    description: 'The source becomes an exact copy of the destination, deletions included.',
  },
  DESTINATION_BACKUP: {
    label: 'Backup destination → source',
    description: 'New and changed destination files are copied; nothing is ever deleted at the source.',
  },
};

export const COMPARISON_MODE_INFO: Record<ComparisonMode, { label: string; description: string }> = {
  HASH_THEN_MTIME: {
    label: 'Hash, then modified time',
    description: 'Same size and same hash (or same modified time where no hash is available).',
  },
  SIZE_ONLY: { label: 'Size only', description: 'Files of equal size count as identical. Fast, least safe.' },
  HASH_ONLY: {
    label: 'Hash only',
    description: 'Content hashes must match; fails clearly where a side offers no hash.',
  },
  MTIME_ONLY: { label: 'Modified time only', description: 'Same modified time (±2 s) counts as identical.' },
  SIZE_AND_MTIME: {
    label: 'Size and modified time',
    description: 'Same size and same modified time (±2 s), like rsync’s quick check.',
  },
};

export const CONFLICT_STRATEGY_INFO: Record<ConflictStrategy, { label: string; description: string }> = {
  NEWEST_WINS: {
    label: 'Newest wins',
    description: 'The more recently modified version wins; both are kept when the times are too close.',
  },
  SOURCE_WINS: { label: 'Source wins', description: 'The source version always wins.' },
  DESTINATION_WINS: { label: 'Destination wins', description: 'The destination version always wins.' },
  MANUAL: {
    label: 'Ask me',
    description: 'Conflicts wait in the inbox until you decide; neither side changes meanwhile.',
  },
};

/** Options for a select input, in a stable order. */
export function optionsOf<K extends string>(
  info: Record<K, { label: string }>,
): { value: K; label: string }[] {
  return (Object.keys(info) as K[]).map((value) => ({ value, label: info[value].label }));
}
