// The tool worker process: start-up and shutdown on signals only.
import { createLogger, loadConfig } from '@threadwork/shared';
import { startToolWorker } from './worker.js';

const config = loadConfig();
const log = createLogger({ name: 'tool-worker', level: config.LOG_LEVEL, pretty: config.PRETTY_LOGS });

try {
  const worker = await startToolWorker(config, log);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    worker.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (error) {
  log.fatal({ err: error }, 'tool worker failed to start');
  process.exit(1);
}
