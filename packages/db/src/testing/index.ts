export * from './own-services.js';
export * from './services.js';
