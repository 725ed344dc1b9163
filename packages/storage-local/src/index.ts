/**
 * The local disk backend: a folder as a `Storage`, with atomic, durable writes and folder
 * listings, tree digests and small-file copies on worker threads.
 */
export * from './local.js';
