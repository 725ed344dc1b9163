import type { Location } from '@syncengine/contracts';
import type { Storage } from '@syncengine/engine';
import { LocalStorage, type LocalStorageOptions } from '@syncengine/storage-local';

/** Settings for opening a location's storage that are not part of the location itself. */
export interface OpenStorageOptions {
  /** Environment for credentials and defaults (AWS_*, SSH_AUTH_SOCK, HOME). Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Local locations: told about each path a listing skips (symlinks, special files), with the reason. */
  onSkip?: LocalStorageOptions['onSkip'];
  /** Local locations: create the root folder on the first write when it is missing. */
  createRoot?: boolean;
  /**
   * SFTP: whether a location without credentials may use the identity of the user running
   * this process (`SSH_AUTH_SOCK`, `~/.ssh` keys). Default true, as for `ssh`; the server
   * and workers pass false unless SYNCENGINE_SFTP_USE_SERVER_IDENTITY is set.
   */
  isAmbientIdentityAllowed?: boolean;
  /** SFTP: known_hosts file for host-key checks. Default: `~/.ssh/known_hosts`. */
  knownHostsPath?: string;
  /** Remote backends: connections (SFTP) or sockets (S3, WebDAV) kept open at most. */
  connections?: number;
  /** Remote backends: how often a transient failure is tried before giving up. */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
}

/**
 * Opens the storage backend for a location. Remote backends are loaded on demand, so a
 * purely local sync never loads an SSH, S3 or WebDAV client. Call `storage.close?.()` when done.
 */
export async function openStorage(location: Location, options: OpenStorageOptions = {}): Promise<Storage> {
  switch (location.type) {
    case 'local': {
      const localOptions: LocalStorageOptions = {};
      if (options.onSkip) localOptions.onSkip = options.onSkip;
      if (options.createRoot !== undefined) localOptions.createRoot = options.createRoot;
      return new LocalStorage(location.path, localOptions);
    }
    case 'sftp': {
      const { SftpStorage } = await import('@syncengine/storage-sftp');
      return new SftpStorage({
        host: location.host,
        port: location.port,
        username: location.username,
        password: location.password,
        privateKey: location.privateKey,
        privateKeyPath: location.privateKeyPath,
        passphrase: location.passphrase,
        root: location.path,
        hostKey: location.hostKey,
        knownHostsPath: options.knownHostsPath,
        isAmbientIdentityAllowed: options.isAmbientIdentityAllowed,
        connections: options.connections,
        retry: options.retry,
        env: options.env,
      });
    }
    case 's3': {
      const { S3Storage } = await import('@syncengine/storage-s3');
      return new S3Storage({
        bucket: location.bucket,
        prefix: location.prefix,
        endpoint: location.endpoint,
        region: location.region,
        forcePathStyle: location.forcePathStyle,
        // Without credentials in the location: those of `options.env` when given, else the
        // SDK's own chain (AWS_* variables, profiles, instance roles).
        accessKeyId: location.accessKeyId ?? options.env?.AWS_ACCESS_KEY_ID,
        secretAccessKey: location.secretAccessKey ?? options.env?.AWS_SECRET_ACCESS_KEY,
        sessionToken: location.sessionToken ?? options.env?.AWS_SESSION_TOKEN,
        connections: options.connections,
        retry: options.retry,
      });
    }
    case 'webdav': {
      const { WebdavStorage } = await import('@syncengine/storage-webdav');
      const storage = new WebdavStorage({
        url: location.url,
        username: location.username,
        password: location.password,
        connections: options.connections,
        retry: options.retry,
      });
      // Finds out whether the server keeps mtimes, so the capabilities are true before planning.
      await storage.probe();
      return storage;
    }
  }
}
