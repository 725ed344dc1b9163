export * from './bull-queue.js';
export * from './bull-worker.js';
export * from './connection.js';
export * from './redis-event-bus.js';
export * from './redis-watch-leases.js';
