import type { Location } from '@syncengine/contracts';
import { type Storage, SyncError } from '@syncengine/engine';

/** Settings for opening a location's storage that are not part of the location itself. */
export interface OpenStorageOptions {
  /** Environment for credentials and defaults (AWS_*, SSH_AUTH_SOCK, HOME). Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Called for each path a local listing skips (symlinks, special files), with the reason. */
  onSkip?: (path: string, reason: string) => void;
}

/**
 * Opens the storage backend for a location. Remote backends are loaded on demand, so a
 * purely local sync never loads an SSH or S3 client. Call `storage.close?.()` when done.
 */
export async function openStorage(location: Location, options: OpenStorageOptions = {}): Promise<Storage> {
  void options;
  switch (location.type) {
    case 'local':
    case 'sftp':
    case 's3':
    case 'webdav':
      throw new SyncError('INVALID_CONFIG', `The ${location.type} storage backend is not available yet`);
  }
}
