import { subscribe } from 'node:diagnostics_channel';
import { setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

// How large the command lets V8's heap grow. Imported first by the command's entry, so that
// it holds before the rest of the command is loaded.
//
// A sync of many small files makes much short-lived garbage; by default V8 lets the heap
// grow to several times what is live before it collects, so the process would hold far
// more memory than it uses. Growing it by 30 % over the live size at each full collection
// keeps the footprint near what is live, without capping how large a heap may get.
setFlagsFromString('--heap-growing-percent=30');

// The young generation stays at the size it has once the command is loaded (a few MB),
// rather than doubling up to 32 MB as objects survive into it: the trees, the plan and the
// state a run builds live long anyway, and every doubling adds its size to the footprint
// for the rest of the run. V8 resets this flag whenever a worker thread's heap is set up
// (the local disk backend's folder workers), so it is set again once each has started.
const keepYoungGenerationSize = () => setFlagsFromString('--semi-space-growth-factor=1');
keepYoungGenerationSize();
subscribe('worker_threads', (message) => {
  (message as { worker: Worker }).worker.once('online', keepYoungGenerationSize);
});
