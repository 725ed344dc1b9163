export { DEFAULT_RETRY, type RetryPolicy, withRetry } from '@syncengine/engine';
export { type WebdavMtimeMode, WebdavStorage, type WebdavStorageOptions } from './webdav-storage.js';
