// The run worker process: start-up and shutdown only.
import { createLogger, handleSignals, loadConfig } from '@threadwork/shared';
import { startRunWorker } from './worker.js';

const config = loadConfig();
const log = createLogger({ name: 'run-worker', level: config.LOG_LEVEL, pretty: config.PRETTY_LOGS });
const worker = await startRunWorker(config, log);
handleSignals(worker, log, config.SHUTDOWN_TIMEOUT_MS);
