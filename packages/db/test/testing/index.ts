export * from './own-services.js';
export * from './pairs.js';
export * from './redis.js';
export * from './services.js';
