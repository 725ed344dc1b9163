export * from './apply.js';
export * from './memory-state-store.js';
