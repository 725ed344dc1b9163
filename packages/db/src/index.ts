export * from './database.js';
export * from './pair-lock.js';
export * from './repos/index.js';
export * as schema from './schema/index.js';
export * from './state-store.js';
export * from './unavailable.js';
