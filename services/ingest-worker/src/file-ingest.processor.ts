// The BullMQ processor of the ingest queue: `file.ingest` (parse, bind a logger, delegate to ingestFile) and
// `file.sweep` (queue again the files still waiting, so a job lost with Redis is not lost for good; delete expired
// files).
import { enqueueIngestion, ingestJobs, type Queues } from '@threadwork/shared';
import { deleteExpiredFiles } from '@threadwork/shared/files/file-store';
import { waitingIngestions } from '@threadwork/shared/files/vector-store-files';
import { type Job, UnrecoverableError } from 'bullmq';
import { failIngestion, type IngestDeps, ingestFile } from './ingest-file.js';

/** Files queued again per sweep; the rest wait for the next one. */
const SWEEP_BATCH = 1000;

export interface IngestProcessorDeps extends IngestDeps {
  queues: Pick<Queues, 'ingest'>;
}

async function processIngest(deps: IngestProcessorDeps, job: Job): Promise<string> {
  const parsed = ingestJobs['file.ingest'].safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed file.ingest payload: ${parsed.error.message}`);
  const log = deps.log.child({ vectorStoreId: parsed.data.vectorStoreId, fileId: parsed.data.fileId });
  try {
    const outcome = await ingestFile({ ...deps, log }, parsed.data);
    log.info({ outcome }, 'file ingestion ended');
    return outcome;
  } catch (error) {
    const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (isLastAttempt) await failIngestion(deps, parsed.data, error);
    throw error;
  }
}

/** Adding a job whose id is still kept is a no-op: only lost jobs come back. */
async function sweep(deps: IngestProcessorDeps): Promise<string> {
  const waiting = await waitingIngestions(deps.db, SWEEP_BATCH);
  for (const key of waiting) await enqueueIngestion(deps.queues, key);
  const expired = await deleteExpiredFiles(deps.db, SWEEP_BATCH);
  return `queued ${waiting.length}, deleted ${expired} expired`;
}

export function createIngestProcessor(deps: IngestProcessorDeps) {
  return (job: Job): Promise<string> => {
    if (job.name === 'file.sweep') return sweep(deps);
    if (job.name === 'file.ingest') return processIngest(deps, job);
    throw new UnrecoverableError(`unknown ingest job '${job.name}'`);
  };
}
