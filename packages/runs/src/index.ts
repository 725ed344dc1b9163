export * from './bus.js';
export * from './executor.js';
export * from './file-preview.js';
export * from './launcher.js';
export * from './preview.js';
export * from './progress.js';
export * from './queue.js';
export * from './secrets.js';
