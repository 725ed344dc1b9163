export {
  type ApplyDecisionsOptions,
  applyConflictDecisions,
  type ConflictDecision,
  type DecisionOutcome,
} from './decisions.js';
export { previewSync, sync } from './sync.js';
export {
  deleteVersion,
  listVersions,
  moveToVersions,
  parseVersionPath,
  parseVersionStamp,
  pruneVersions,
  type RestoredVersion,
  restoreVersion,
  type StoredVersion,
  versionStamp,
} from './versions.js';
