// Row factories: a run with one tool_calls step holding the calls a test asks for.
import { type Db, newId, schema } from '@threadwork/shared';

export interface CallSpec {
  name: string;
  /** An object is JSON-encoded; a string is stored as the model wrote it. */
  arguments: unknown;
}

export interface InsertedCalls {
  runId: string;
  stepId: string;
  ownerId: string;
  callIds: string[];
}

export async function insertToolCalls(
  db: Db,
  calls: CallSpec[],
  options: { ownerId?: string; runStatus?: 'in_progress' | 'cancelled' } = {},
): Promise<InsertedCalls> {
  const ownerId = options.ownerId ?? schema.DEFAULT_PROJECT_ID;
  await db.insert(schema.projects).values({ id: ownerId, name: 'test' }).onConflictDoNothing();
  const threadId = newId('thread');
  await db.insert(schema.threads).values({ id: threadId, ownerId });
  const runId = newId('run');
  await db.insert(schema.runs).values({
    id: runId,
    threadId,
    ownerId,
    assistantId: newId('assistant'),
    status: options.runStatus ?? 'in_progress',
    model: 'offline',
    instructions: '',
    truncationStrategy: { type: 'auto', last_messages: null },
    toolChoice: 'auto',
    responseFormat: 'auto',
  });
  const callIds = calls.map(() => newId('call'));
  const stepId = newId('step');
  await db.insert(schema.runSteps).values({
    id: stepId,
    runId,
    threadId,
    assistantId: newId('assistant'),
    type: 'tool_calls',
    status: 'in_progress',
    stepDetails: {
      type: 'tool_calls',
      tool_calls: calls.map((call, index) => ({
        id: callIds[index] ?? '',
        type: 'function' as const,
        function: {
          name: call.name,
          arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
          output: null,
        },
      })),
    },
  });
  return { runId, stepId, ownerId, callIds };
}
