export * from './own-services.js';
export * from './redis.js';
export * from './services.js';
