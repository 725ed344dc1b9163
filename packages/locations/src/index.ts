export {
  describeLocation,
  LOCATION_SECRET_FIELDS,
  type Location,
  LocationSchema,
  type LocationType,
  locationSecretFields,
  redactLocation,
} from '@syncengine/contracts';
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
export { type ParseLocationOptions, parseLocationUrl } from './parse-location-url.js';
