export { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.js';
export { type WebdavMtimeMode, WebdavStorage, type WebdavStorageOptions } from './webdav-storage.js';
