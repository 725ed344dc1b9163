export { fingerprint, knownHostsName, lookupKnownHosts, parsePinnedHostKey } from './known-hosts.js';
export { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.js';
export { hostKeyFingerprint, SftpStorage, type SftpStorageOptions } from './sftp-storage.js';
