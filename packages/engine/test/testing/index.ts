export * from './local-folders.js';
export * from './processes.js';
export * from './state-stores.js';
export * from './storage-contract.js';
export * from './unreadable-folders.js';
