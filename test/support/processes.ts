// Starts a Threadwork service as a child process on a given environment (for kill tests and many-process tests).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Stack } from './stack.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const readyLines = {
  api: 'api listening',
  'run-worker': 'run worker started',
  'tool-worker': 'tool worker started',
  'ingest-worker': 'ingest worker started',
} as const;

export type ServiceName = keyof typeof readyLines;
export type WorkerService = Exclude<ServiceName, 'api'>;

export interface ServiceProcess {
  child: ChildProcess;
  /** The ready line as logged (pino JSON): the API's has its `port`. */
  ready: Record<string, unknown>;
  /** Everything the child printed (pino JSON lines), for failure messages. */
  output: string[];
}

/** Resolves once the child logged that it serves; rejects if it exits first. */
export function startService(env: Record<string, string>, service: ServiceName): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', `services/${service}/src/main.ts`], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: 'info', PRETTY_LOGS: 'false' },
  });
  const output: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes(readyLines[service])) continue;
        resolve({ child, ready: JSON.parse(line) as Record<string, unknown>, output });
      }
    });
    child.once('exit', (code) => reject(new Error(`${service} exited with ${code}: ${output.join('')}`)));
  });
}

/** A worker on a test stack's databases and prefix. */
export async function startServiceProcess(stack: Stack, service: WorkerService): Promise<ChildProcess> {
  return (await startService(stack.env, service)).child;
}
