// What fault tests check after the fault: the runs and messages Postgres stored, a worker child process that can be
// killed and started again, and Prometheus text read back as numbers.
import type { ChildProcess } from 'node:child_process';
import { type Db, schema } from '@threadwork/shared';
import { waitFor } from '@threadwork/testing';
import { eq, inArray } from 'drizzle-orm';
import { startServiceProcess, type WorkerService } from './processes.js';
import type { Stack } from './stack.js';

const terminal = new Set(['completed', 'incomplete', 'failed', 'cancelled', 'expired']);

export function isTerminalStatus(status: string): boolean {
  return terminal.has(status);
}

export async function runRows(db: Db, runIds: string[]) {
  if (runIds.length === 0) return [];
  return db.select().from(schema.runs).where(inArray(schema.runs.id, runIds));
}

/** Waits until every run is terminal; answers the rows and when the last one got there. */
export async function allTerminal(db: Db, runIds: string[], timeoutMs: number) {
  let last = '';
  const rows = await waitFor(
    async () => {
      const found = await runRows(db, runIds);
      last = found
        .filter((row) => !isTerminalStatus(row.status))
        .map((row) => `${row.id}:${row.status}`)
        .join(', ');
      return found.length === runIds.length && found.every((row) => isTerminalStatus(row.status)) && found;
    },
    { timeoutMs, intervalMs: 100, what: () => `every run to be terminal (still: ${last})` },
  );
  return { rows, at: Date.now() };
}

export async function threadMessages(db: Db, threadId: string) {
  return db.select().from(schema.messages).where(eq(schema.messages.threadId, threadId));
}

export function textOf(message: { content: Array<{ type: string; text?: { value: string } }> }): string {
  return message.content.map((part) => (part.type === 'text' ? (part.text?.value ?? '') : '')).join('');
}

/** A worker service run as a child process of the test, which the test may SIGKILL and start again. */
export class ChildWorker {
  private child: ChildProcess | null = null;
  /** What the children printed after they started (pino JSON lines), for failure messages. */
  readonly output: string[] = [];

  constructor(
    private readonly stack: Stack,
    private readonly service: WorkerService,
  ) {}

  async start(): Promise<void> {
    const child = await startServiceProcess(this.stack, this.service);
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    this.child = child;
  }

  /** SIGKILL: no shutdown, no lease released, no job handed back. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** The samples of one metric in Prometheus text, by their label string (`{status="completed"}`, or `` for none). */
export function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = (match[2] ?? '').replace(/,?service="[^"]*"/, '').replace('{,', '{');
    found.set(labels === '{}' ? '' : labels, Number(match[3]));
  }
  return found;
}

/** The sum of a metric's samples whose labels include every `key="value"` in `including`. */
export function sampleSum(text: string, name: string, including: string[] = []): number {
  let sum = 0;
  for (const [labels, value] of samples(text, name)) {
    if (including.every((label) => labels.includes(label))) sum += value;
  }
  return sum;
}

/** Prints what a fault test measured (recovery times, outcome counts), so a run of the suite shows the figures. */
export function reportFigures(test: string, figures: Record<string, unknown>): void {
  // biome-ignore lint/suspicious/noConsole: the measured figures are the point of the output, not debugging.
  console.info(`[faults] ${test}: ${JSON.stringify(figures)}`);
}
