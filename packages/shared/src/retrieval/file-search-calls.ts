// file_search calls: the output the tool stores (what the model reads), its wire shape on run steps, and the
// file_citation annotations an answer gets from the markers it quotes.
import { z } from 'zod';
import type { RunStepRow } from '../objects.js';
import type {
  FileCitationAnnotation,
  FileSearchRankingOptions,
  FileSearchToolCall,
  RunStepObject,
  StepToolCall,
} from '../wire.js';

export const FILE_SEARCH_TOOL = 'file_search';

/** The include[] value that asks for the results' content on run steps. */
export const FILE_SEARCH_CONTENT_INCLUDE = 'step_details.tool_calls[*].file_search.results[*].content';

const fileSearchOutputSchema = z.object({
  ranking_options: z.object({
    ranker: z.enum(['auto', 'default_2024_08_21']),
    score_threshold: z.number(),
  }),
  results: z.array(
    z.object({
      citation: z.string(),
      file_id: z.string(),
      file_name: z.string(),
      score: z.number(),
      content: z.string(),
    }),
  ),
});

/** What a file_search call outputs: the ranking it used and each passage found, with the marker that cites it. */
export type FileSearchOutput = z.infer<typeof fileSearchOutputSchema>;

/** The marker that cites result `result` of the run's `call`th file_search call, in OpenAI's form. */
export function citationMarker(call: number, result: number): string {
  return `【${call}:${result}†source】`;
}

function parseOutput(output: string | null): FileSearchOutput | null {
  if (output === null) return null;
  try {
    const parsed = fileSearchOutputSchema.safeParse(JSON.parse(output));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function isFileSearchCall(call: StepToolCall): boolean {
  return call.function.name === FILE_SEARCH_TOOL;
}

/**
 * A stored file_search call as OpenAI's API shows it: the ranking options and results once it has run (the content
 * only when asked for), nothing before; a call that failed shows no results.
 */
export function toFileSearchToolCall(call: StepToolCall, withContent: boolean): FileSearchToolCall {
  if (call.function.output === null) return { id: call.id, type: 'file_search', file_search: {} };
  const output = parseOutput(call.function.output);
  const rankingOptions: FileSearchRankingOptions = output?.ranking_options ?? {
    ranker: 'default_2024_08_21',
    score_threshold: 0,
  };
  const results = (output?.results ?? []).map((result) => ({
    file_id: result.file_id,
    file_name: result.file_name,
    score: result.score,
    ...(withContent ? { content: [{ type: 'text' as const, text: result.content }] } : {}),
  }));
  return {
    id: call.id,
    type: 'file_search',
    file_search: { ranking_options: rankingOptions, results },
  };
}

/** The file each citation marker of the run's file_search results stands for. */
export function citationSources(toolSteps: readonly RunStepRow[]): Map<string, string> {
  const sources = new Map<string, string>();
  for (const step of toolSteps) {
    if (step.stepDetails.type !== 'tool_calls') continue;
    for (const call of step.stepDetails.tool_calls) {
      if (!isFileSearchCall(call)) continue;
      for (const result of parseOutput(call.function.output)?.results ?? []) {
        sources.set(result.citation, result.file_id);
      }
    }
  }
  return sources;
}

const MARKER = /【[^】]{1,200}】/g;

/** A file_citation annotation for each marker in `text` that names a known result; indices are UTF-16 offsets. */
export function fileCitations(text: string, sources: ReadonlyMap<string, string>): FileCitationAnnotation[] {
  if (sources.size === 0) return [];
  return [...text.matchAll(MARKER)].flatMap((match) => {
    const fileId = sources.get(match[0]);
    if (!fileId) return [];
    return [
      {
        type: 'file_citation' as const,
        text: match[0],
        start_index: match.index,
        end_index: match.index + match[0].length,
        file_citation: { file_id: fileId },
      },
    ];
  });
}

/** A step as a request that did not ask for the file_search results' content sees it. */
export function withoutFileSearchContent(step: RunStepObject): RunStepObject {
  const details = step.step_details;
  if (details.type !== 'tool_calls' || !details.tool_calls.some((call) => call.type === 'file_search'))
    return step;
  const toolCalls = details.tool_calls.map((call) => {
    if (call.type !== 'file_search' || !call.file_search.results) return call;
    const results = call.file_search.results.map(({ content: _content, ...result }) => result);
    return { ...call, file_search: { ...call.file_search, results } };
  });
  return { ...step, step_details: { type: 'tool_calls', tool_calls: toolCalls } };
}
