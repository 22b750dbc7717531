// The default assistant of the chat API: shared (no owner), read-only SQL and product tools, on DEFAULT_MODEL.

import {
  type AssistantRow,
  type Config,
  type Db,
  newId,
  schema,
  type ToolDefinition,
} from '@threadwork/shared';
import { eq } from 'drizzle-orm';

const { assistants } = schema;

const DEFAULT_ASSISTANT_TOOLS: ToolDefinition[] = [
  { type: 'list_tables' },
  { type: 'get_schema' },
  { type: 'run_sql' },
  { type: 'search_products' },
  { type: 'show_products' },
];

const INSTRUCTIONS = [
  'You are the Threadwork chat assistant.',
  'Answer questions about the connected database with the read-only tools list_tables, get_schema and run_sql.',
  'Help shoppers with search_products, then show the best matches to them with show_products.',
  'Be brief and say so when a tool finds nothing.',
].join(' ');

async function findDefaultAssistant(db: Db): Promise<AssistantRow | null> {
  const [row] = await db.select().from(assistants).where(eq(assistants.isDefault, true));
  return row ?? null;
}

/**
 * Answers the default assistant, creating it when missing. Concurrent callers (several API replicas starting
 * at once) meet on the unique index of `is_default`: one insert wins and everyone reads that row.
 */
export async function ensureDefaultAssistant(
  db: Db,
  config: Pick<Config, 'defaultModel'>,
): Promise<AssistantRow> {
  const existing = await findDefaultAssistant(db);
  if (existing) return existing;
  await db
    .insert(assistants)
    .values({
      id: newId('assistant'),
      ownerId: null,
      name: 'Threadwork chat',
      description: 'The default assistant of the chat API.',
      model: config.defaultModel,
      instructions: INSTRUCTIONS,
      tools: DEFAULT_ASSISTANT_TOOLS,
      isDefault: true,
    })
    .onConflictDoNothing();
  const created = await findDefaultAssistant(db);
  if (!created) throw new Error('the default assistant could not be created');
  return created;
}
