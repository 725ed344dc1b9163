export { DEFAULT_RETRY, type RetryPolicy, withRetry } from '@syncengine/engine';
export { fingerprint, knownHostsName, lookupKnownHosts, parsePinnedHostKey } from './known-hosts.js';
export {
  hostKeyFingerprint,
  readPrivateKeyFile,
  SftpStorage,
  type SftpStorageOptions,
} from './sftp-storage.js';
