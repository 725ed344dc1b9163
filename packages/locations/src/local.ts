/**
 * What a command line needs to name and open locations without the location schemas (zod,
 * which `parseLocationUrl` validates with): local folders parsed, the confinement checks,
 * descriptions, and opening any location. Everything here is also in the package's index.
 */
export type { LocalLocation, Location } from '@syncengine/contracts';
export { describeLocation, redactLocation } from '@syncengine/contracts/location-info';
export {
  confineLocation,
  confineOpening,
  createPathGuard,
  isOverlapping,
  isWithin,
  type PathGuard,
  PathNotAllowedError,
  type ProtectedFolder,
} from './confinement.js';
export { parseLocalLocation } from './local-location.js';
export { type OpenStorageOptions, openStorage } from './open-storage.js';
export type { ParseLocationOptions } from './parse-location-url.js';
