// Row factories: a queued run on a new thread that holds one user message.
import { type Db, newId, schema } from '@threadwork/shared';

type NewRun = typeof schema.runs.$inferInsert;

export interface QueuedRun {
  runId: string;
  threadId: string;
  ownerId: string;
}

export async function insertQueuedRun(db: Db, overrides: Partial<NewRun> = {}): Promise<QueuedRun> {
  const ownerId = newId('apiKey');
  await db
    .insert(schema.apiKeys)
    .values({ id: ownerId, name: 'test', keyHash: `hash-${ownerId}`, role: 'user' });
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
  await db.insert(schema.runs).values({
    id: runId,
    threadId,
    ownerId,
    assistantId: newId('assistant'),
    status: 'queued',
    model: 'offline',
    instructions: '',
    truncationStrategy: { type: 'auto', last_messages: null },
    toolChoice: 'auto',
    responseFormat: 'auto',
    ...overrides,
  });
  return { runId, threadId, ownerId };
}
