// A service process for the bench: starts one Threadwork service from the environment and answers the bench over IPC.
import { existsSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { type Config, createLogger, type Logger, loadConfig } from '@threadwork/shared';
import { startApi } from '../../services/api/src/server.js';
import { startRunWorker } from '../../services/run-worker/src/worker.js';
import type { FromChild, ServiceName, ToChild } from './messages.js';

interface Started {
  url: string | null;
  close(): Promise<void>;
}

type StartToolWorker = (config: Config, log: Logger) => Promise<{ close(): Promise<void> }>;

const toolWorkerFile = new URL('../../services/tool-worker/src/worker.ts', import.meta.url);

/** The tool worker may not exist yet in this tree; the bench then reports the tool scenario as blocked. */
async function startToolWorker(config: Config, log: Logger): Promise<Started | string> {
  if (!existsSync(toolWorkerFile)) return 'services/tool-worker/src/worker.ts does not exist yet';
  const loaded = (await import(toolWorkerFile.href)) as { startToolWorker?: StartToolWorker };
  if (!loaded.startToolWorker) return 'services/tool-worker/src/worker.ts exports no startToolWorker';
  const handle = await loaded.startToolWorker(config, log);
  return { url: null, close: () => handle.close() };
}

async function start(name: ServiceName, config: Config, log: Logger): Promise<Started | string> {
  switch (name) {
    case 'api': {
      const api = await startApi(config, log);
      return { url: api.url, close: () => api.close() };
    }
    case 'run-worker': {
      const worker = await startRunWorker(config, log);
      return { url: null, close: () => worker.close() };
    }
    case 'tool-worker':
      return startToolWorker(config, log);
  }
}

function send(message: FromChild): void {
  process.send?.(message);
}

function memory(): FromChild {
  // --expose-gc is passed by the bench so that samples compare live memory, not garbage.
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { type: 'memory', memory: { rss, heapUsed, heapTotal, external, arrayBuffers } };
}

const name = process.argv[2] as ServiceName;
const config = loadConfig(process.env);
const log = createLogger({ name: `bench-${name}`, level: config.LOG_LEVEL, pretty: false });
const started = await start(name, config, log);
if (typeof started === 'string') {
  send({ type: 'unavailable', reason: started });
  process.exit(0);
}
let isStopping = false;
process.on('message', (message: ToChild) => {
  if (message.type === 'memory') send(memory());
  if (message.type === 'heap-snapshot')
    send({ type: 'heap-snapshot', file: writeHeapSnapshot(message.file) });
  if (message.type !== 'stop' || isStopping) return;
  isStopping = true;
  // A normal exit, so that --cpu-prof writes its profile.
  void started.close().finally(() => {
    send({ type: 'stopped' });
    process.exit(0);
  });
});
// The bench went away without stopping us: do not linger.
process.on('disconnect', () => process.exit(1));
send({ type: 'ready', url: started.url });
