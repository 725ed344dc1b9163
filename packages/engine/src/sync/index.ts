export { previewSync, sync } from './sync.js';
export { parseVersionStamp, pruneVersions, versionStamp } from './versions.js';
