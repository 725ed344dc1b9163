export * from './dirty-set.js';
export * from './pair-watcher.js';
export * from './recording-state.js';
export * from './settings.js';
export * from './sources.js';
