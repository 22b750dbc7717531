// Starts a Threadwork service as a child process on a test stack's databases and prefix (for kill tests).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Stack } from './stack.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const readyLines = {
  'run-worker': 'run worker started',
  'tool-worker': 'tool worker started',
  'ingest-worker': 'ingest worker started',
} as const;

export type WorkerService = keyof typeof readyLines;

/** Resolves once the child logged that it consumes jobs; rejects if it exits first. */
export function startServiceProcess(stack: Stack, service: WorkerService): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', `services/${service}/src/main.ts`], {
    cwd: root,
    env: { ...process.env, ...stack.env, LOG_LEVEL: 'info', PRETTY_LOGS: 'false' },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(readyLines[service])) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${service} exited with ${code}: ${output}`)));
  });
}
