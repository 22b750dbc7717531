// The ingest worker process: start-up and shutdown only.
import { runService } from '@threadwork/shared';
import { startIngestWorker } from './worker.js';

await runService('ingest-worker', startIngestWorker);
