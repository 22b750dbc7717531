// The API process: start-up and shutdown only.
import { createLogger, handleSignals, loadConfig } from '@threadwork/shared';
import { startApi } from './server.js';

const config = loadConfig();
const log = createLogger({ name: 'api', level: config.LOG_LEVEL, pretty: config.PRETTY_LOGS });
const api = await startApi(config, log);
handleSignals(api, log, config.SHUTDOWN_TIMEOUT_MS);
