// The run worker process: start-up and shutdown only.
import { runService } from '@threadwork/shared';
import { startRunWorker } from './worker.js';

await runService('run-worker', startRunWorker);
