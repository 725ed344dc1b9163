export * from './processes.js';
export * from './storage-contract.js';
