// The BullMQ processor of `file.ingest` jobs: parse the payload, bind a logger, delegate to ingestFile.
import { ingestJobs } from '@threadwork/shared';
import { type Job, UnrecoverableError } from 'bullmq';
import { failIngestion, type IngestDeps, ingestFile } from './ingest-file.js';

export function createFileIngestProcessor(deps: IngestDeps) {
  return async (job: Job): Promise<string> => {
    const parsed = ingestJobs['file.ingest'].safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`malformed file.ingest payload: ${parsed.error.message}`);
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
  };
}
