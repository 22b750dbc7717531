// The sandbox worker process: start-up and shutdown only. It reads only its own settings (no database, no keys).
import { loadSandboxConfig, runServiceWith } from '@threadwork/shared';
import { startSandboxWorker } from './worker.js';

await runServiceWith('sandbox-worker', () => loadSandboxConfig(), startSandboxWorker);
