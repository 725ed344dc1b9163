export * from './local.js';
export * from './memory.js';
