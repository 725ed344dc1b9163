export * from './servers-on-redis.js';
export * from './test-server.js';
