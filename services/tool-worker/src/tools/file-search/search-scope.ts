// Where a run's file_search looks: the vector stores of its assistant and thread, and the options of its tool.
import { type Db, FILE_SEARCH_TOOL, schema } from '@threadwork/shared';
import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';

const { assistants, runSteps, runs, threads } = schema;

/** OpenAI's defaults: 20 results, every score. */
const DEFAULT_MAX_RESULTS = 20;
const DEFAULT_SCORE_THRESHOLD = 0;

const fileSearchResources = z.object({
  file_search: z.object({ vector_store_ids: z.array(z.string()).max(100) }).optional(),
});

const fileSearchOptions = z.object({
  max_num_results: z.number().int().min(1).max(50).optional(),
  ranking_options: z
    .object({
      ranker: z.enum(['auto', 'default_2024_08_21']).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
});

export interface SearchScope {
  vectorStoreIds: string[];
  maxResults: number;
  ranker: 'auto' | 'default_2024_08_21';
  scoreThreshold: number;
  /** Which file_search call of the run this is (0 first): the first number of its citation markers. */
  callOrdinal: number;
}

function vectorStoreIdsIn(resources: unknown): string[] {
  const parsed = fileSearchResources.safeParse(resources);
  return parsed.success ? (parsed.data.file_search?.vector_store_ids ?? []) : [];
}

/** The run's file_search calls before `callId`, in the order the model made them. */
async function callOrdinal(db: Db, runId: string, callId: string): Promise<number> {
  const steps = await db
    .select({ details: runSteps.stepDetails })
    .from(runSteps)
    .where(and(eq(runSteps.runId, runId), eq(runSteps.type, 'tool_calls')))
    .orderBy(asc(runSteps.id));
  const calls = steps.flatMap(({ details }) =>
    details.type === 'tool_calls'
      ? details.tool_calls.filter((call) => call.function.name === FILE_SEARCH_TOOL).map((call) => call.id)
      : [],
  );
  const index = calls.indexOf(callId);
  return index === -1 ? calls.length : index;
}

/** The scope of a call of the run `runId` of project `ownerId`, or null when the run is not the project's. */
export async function loadSearchScope(
  db: Db,
  call: { runId: string; ownerId: string; callId: string },
): Promise<SearchScope | null> {
  const [row] = await db
    .select({
      tools: runs.tools,
      threadResources: threads.toolResources,
      assistantResources: assistants.toolResources,
    })
    .from(runs)
    .innerJoin(threads, eq(threads.id, runs.threadId))
    .leftJoin(assistants, eq(assistants.id, runs.assistantId))
    .where(and(eq(runs.id, call.runId), eq(runs.ownerId, call.ownerId)));
  if (!row) return null;
  const tool = row.tools.find((item) => item.type === FILE_SEARCH_TOOL);
  const parsedOptions = fileSearchOptions.safeParse(
    tool && 'file_search' in tool ? (tool.file_search ?? {}) : {},
  );
  const options = parsedOptions.success ? parsedOptions.data : {};
  const vectorStoreIds = [
    ...new Set([...vectorStoreIdsIn(row.assistantResources), ...vectorStoreIdsIn(row.threadResources)]),
  ];
  return {
    vectorStoreIds,
    maxResults: options.max_num_results ?? DEFAULT_MAX_RESULTS,
    ranker: options.ranking_options?.ranker ?? 'auto',
    scoreThreshold: options.ranking_options?.score_threshold ?? DEFAULT_SCORE_THRESHOLD,
    callOrdinal: await callOrdinal(db, call.runId, call.callId),
  };
}
