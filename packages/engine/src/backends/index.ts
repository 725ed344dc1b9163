export * from './memory.js';
