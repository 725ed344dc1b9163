export * from './conflict.repo.js';
export { isUniqueViolation } from './errors.js';
export * from './kept-version.repo.js';
export * from './pair.repo.js';
export * from './run.repo.js';
export * from './run-action.repo.js';
export * from './session.repo.js';
export * from './token.repo.js';
export * from './user.repo.js';
