// Where a thread's code_interpreter session is recorded, so that its calls reach the sandbox worker that holds it
// (the sandbox's jobs are in queues.ts).
import { z } from 'zod';
import { SANDBOX_QUEUE, sandboxWorkerQueue } from './queues.js';

/** What reading session records takes of a Redis client (ioredis's, or the one a BullMQ queue holds). */
export interface SessionReader {
  get(key: string): Promise<string | null>;
}

/** The record of a thread's session: the worker that holds it, kept while the session lives. */
export const sandboxSession = z.object({ workerId: z.string().min(1), startedAt: z.number().int() });
export type SandboxSession = z.infer<typeof sandboxSession>;

export function sandboxSessionKey(prefix: string, threadId: string): string {
  return `${prefix}:sandbox-session:${threadId}`;
}

/** Present while the worker lives (it renews it); gone a few seconds after it stops. */
export function sandboxWorkerAliveKey(prefix: string, workerId: string): string {
  return `${prefix}:sandbox-worker:${workerId}`;
}

export async function findSandboxSession(
  redis: SessionReader,
  prefix: string,
  threadId: string,
): Promise<SandboxSession | null> {
  const stored = await redis.get(sandboxSessionKey(prefix, threadId));
  if (!stored) return null;
  const parsed = sandboxSession.safeParse(JSON.parse(stored));
  return parsed.success ? parsed.data : null;
}

/** The queue a thread's next call goes to: its session's worker while that worker lives, else any worker. */
export async function sandboxQueueFor(
  redis: SessionReader,
  prefix: string,
  threadId: string,
): Promise<string> {
  const session = await findSandboxSession(redis, prefix, threadId);
  if (!session) return SANDBOX_QUEUE;
  const isAlive = (await redis.get(sandboxWorkerAliveKey(prefix, session.workerId))) !== null;
  return isAlive ? sandboxWorkerQueue(session.workerId) : SANDBOX_QUEUE;
}

/** Present while any sandbox worker lives: each one renews it with its own mark. */
export function sandboxWorkersAliveKey(prefix: string): string {
  return `${prefix}:sandbox-workers`;
}

export async function isAnySandboxWorkerAlive(redis: SessionReader, prefix: string): Promise<boolean> {
  return (await redis.get(sandboxWorkersAliveKey(prefix))) !== null;
}

/** Every sandbox worker that started and whose queue nobody has taken over yet. */
export function sandboxWorkerIdsKey(prefix: string): string {
  return `${prefix}:sandbox-worker-ids`;
}
