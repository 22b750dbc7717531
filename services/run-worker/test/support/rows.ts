// Row factories: a queued run on a new thread that holds one user message, and a tool step of a run.
import { type Db, newId, type StepToolCall, schema } from '@threadwork/shared';

type NewRun = typeof schema.runs.$inferInsert;

export interface QueuedRun {
  runId: string;
  threadId: string;
  ownerId: string;
  assistantId: string;
}

export async function insertQueuedRun(db: Db, overrides: Partial<NewRun> = {}): Promise<QueuedRun> {
  const ownerId = newId('project');
  await db.insert(schema.projects).values({ id: ownerId, name: 'test' });
  const threadId = newId('thread');
  await db.insert(schema.threads).values({ id: threadId, ownerId });
  await db.insert(schema.messages).values({
    id: newId('message'),
    threadId,
    role: 'user',
    content: [{ type: 'text', text: { value: 'Hello?', annotations: [] } }],
    status: 'completed',
  });
  const runId = newId('run');
  const assistantId = newId('assistant');
  await db.insert(schema.runs).values({
    id: runId,
    threadId,
    ownerId,
    assistantId,
    status: 'queued',
    model: 'offline',
    instructions: '',
    truncationStrategy: { type: 'auto', last_messages: null },
    toolChoice: 'auto',
    responseFormat: 'auto',
    // As the API names a run's first job.
    jobId: runId,
    ...overrides,
  });
  return { runId, threadId, ownerId, assistantId };
}

/** An open tool_calls step of `run` whose calls have no output yet. */
export async function insertToolStep(db: Db, run: QueuedRun, calls: StepToolCall[]): Promise<string> {
  const stepId = newId('step');
  await db.insert(schema.runSteps).values({
    id: stepId,
    runId: run.runId,
    threadId: run.threadId,
    assistantId: run.assistantId,
    type: 'tool_calls',
    status: 'in_progress',
    stepDetails: { type: 'tool_calls', tool_calls: calls },
  });
  return stepId;
}
