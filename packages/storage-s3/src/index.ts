export { DEFAULT_RETRY, type RetryPolicy, withRetry } from '@syncengine/engine';
export { MTIME_METADATA_KEY, S3Storage, type S3StorageOptions } from './s3-storage.js';
