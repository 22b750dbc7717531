// The tool worker process: start-up and shutdown only.
import { runService } from '@threadwork/shared';
import { startToolWorker } from './worker.js';

await runService('tool-worker', startToolWorker);
