export { previewSync, sync } from './sync.js';
export { moveToVersions, parseVersionStamp, pruneVersions, versionStamp } from './versions.js';
