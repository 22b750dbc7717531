// One session: a Python process in its sandbox, kept between calls, spoken to one JSON line each way per call.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { SandboxFile } from '@threadwork/shared';
import { z } from 'zod';
import type { SpawnSpec } from './sandbox-command.js';

/** What repl.py answers for a call. */
const replAnswer = z.object({
  id: z.string(),
  logs: z.string(),
  logs_truncated: z.boolean(),
  failed: z.boolean(),
  images: z.array(z.string()),
  files: z.array(z.object({ name: z.string(), data: z.string() })),
  files_left_out: z.array(z.string()),
});
export type ReplAnswer = z.infer<typeof replAnswer>;

/** How a call ended: answered, or the session ended with it (and why). */
export type CallOutcome =
  | { kind: 'answered'; answer: ReplAnswer }
  | { kind: 'timed_out' }
  | { kind: 'exited'; detail: string }
  | { kind: 'answer_too_large' };

export class SessionStartError extends Error {
  override name = 'SessionStartError';
}

/** The most of the process's stderr kept, to say why a session could not start or ended. */
const STDERR_KEPT = 4096;

export class PythonSession {
  private partial: string[] = [];
  private partialLength = 0;
  private isTooLarge = false;
  private stderr = '';
  private exitDetail: string | null = null;
  private readonly lines: string[] = [];
  private wake: (() => void) | null = null;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly maxLineBytes: number,
  ) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.take(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (this.stderr.length < STDERR_KEPT) this.stderr += chunk.slice(0, STDERR_KEPT - this.stderr.length);
    });
    child.stdin.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      this.exitDetail = signal ? `killed by ${signal}` : `exited with code ${code}`;
      this.notify();
    });
    child.on('error', (error) => {
      this.exitDetail = error.message;
      this.notify();
    });
  }

  /** Starts the process and waits until repl.py says it is ready. */
  static async start(spec: SpawnSpec, maxLineBytes: number, timeoutMs: number): Promise<PythonSession> {
    const child = spawn(spec.command, spec.args, {
      env: {},
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(spec.uid === null ? {} : { uid: spec.uid, gid: spec.uid }),
    });
    const session = new PythonSession(child, maxLineBytes);
    const first = await session.nextLine(timeoutMs);
    if (first.kind === 'line' && first.line.includes('"ready"')) return session;
    session.kill();
    const why = first.kind === 'line' ? 'it answered something else' : first.kind;
    throw new SessionStartError(
      `the sandbox did not start (${why}${session.stderr ? `: ${session.stderr.trim().split('\n')[0]}` : ''})`,
    );
  }

  get isAlive(): boolean {
    return this.exitDetail === null;
  }

  /** What the process wrote on stderr (bubblewrap's and Python's own errors), cut to a few KiB. */
  get diagnostics(): string {
    return this.stderr;
  }

  async run(code: string, files: SandboxFile[], timeoutMs: number): Promise<CallOutcome> {
    const id = randomUUID();
    this.child.stdin.write(`${JSON.stringify({ id, code, files })}\n`);
    for (;;) {
      const next = await this.nextLine(timeoutMs);
      if (next.kind === 'timed_out' || next.kind === 'answer_too_large') {
        this.kill();
        return { kind: next.kind };
      }
      if (next.kind === 'exited') return { kind: 'exited', detail: this.exitDetail ?? 'ended' };
      if (next.kind !== 'line') continue;
      const parsed = replAnswer.safeParse(parseJson(next.line));
      // Lines that are not this call's answer were written by the code itself on the protocol's descriptor.
      if (parsed.success && parsed.data.id === id) return { kind: 'answered', answer: parsed.data };
    }
  }

  kill(): void {
    if (this.isAlive) this.child.kill('SIGKILL');
  }

  /** Splits the stream into lines, looking for line ends in each new chunk only (an answer may be megabytes). */
  private take(chunk: string): void {
    let rest = chunk;
    for (let end = rest.indexOf('\n'); end >= 0; end = rest.indexOf('\n')) {
      this.partial.push(rest.slice(0, end));
      if (!this.isTooLarge) this.lines.push(this.partial.join(''));
      this.partial = [];
      this.partialLength = 0;
      this.isTooLarge = false;
      rest = rest.slice(end + 1);
    }
    this.partialLength += rest.length;
    if (this.partialLength > this.maxLineBytes && !this.isTooLarge) {
      this.isTooLarge = true;
      this.lines.push(TOO_LARGE);
    }
    if (this.isTooLarge) this.partial = [];
    else if (rest.length > 0) this.partial.push(rest);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async nextLine(
    timeoutMs: number,
  ): Promise<{ kind: 'line'; line: string } | { kind: 'timed_out' | 'exited' | 'answer_too_large' }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line === TOO_LARGE) return { kind: 'answer_too_large' };
      if (line !== undefined) return { kind: 'line', line };
      if (!this.isAlive) return { kind: 'exited' };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timed_out' };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** Stands in the line queue for an answer longer than any the limits allow. */
const TOO_LARGE = '\0too-large';

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}
