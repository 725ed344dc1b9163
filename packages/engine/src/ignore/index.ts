export * from './ignore-matcher.js';
