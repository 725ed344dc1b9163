export { createPathGuard, isWithin, PathNotAllowedError } from '@syncengine/locations';
export { API_PREFIX, buildServer, type ServerDeps, type SyncEngineServer } from './app.js';
export { EnvError, parseEnv, type ServerConfig } from './env.js';
export { AppError } from './errors.js';
export { createRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
