export * from './apply.js';
export * from './file-state-store.js';
export * from './memory-state-store.js';
