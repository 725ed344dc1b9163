export {
  type Change,
  type Comparison,
  compareEntries,
  detectChange,
  hasComparableHashes,
  isNewer,
  isSameMtime,
  MTIME_TOLERANCE_MS,
} from './compare.js';
export { hashNeeds, inheritHashes } from './hash-needs.js';
export { conflictFileName, findCaseCollisions } from './names.js';
export { assertHashesAvailable, isUnchangedSinceLastSync, planSync } from './plan.js';
export { findRenames, isSameFile } from './renames.js';
