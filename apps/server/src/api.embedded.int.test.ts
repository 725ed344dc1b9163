import { describeApi } from '../test/testing/api-suite.js';

// The embedded default: PGlite with its files in the data directory, runs in-process.
describeApi('pglite');
