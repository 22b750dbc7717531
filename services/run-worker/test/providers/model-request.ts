// Fixtures shared by the provider tests: a ModelRequest with neutral settings, and a stream read to its end.
import type { ModelEvent, ModelRequest } from '../../src/providers/types.js';

/** A request with no tools, auto tool choice and no sampling, output or format settings, unless the fields say so. */
export function modelRequest(
  fields: Pick<ModelRequest, 'model' | 'messages'> & Partial<ModelRequest>,
): ModelRequest {
  return {
    instructions: '',
    tools: [],
    toolChoice: 'auto',
    parallelToolCalls: true,
    temperature: null,
    topP: null,
    maxOutputTokens: null,
    responseFormat: 'auto',
    ...fields,
  };
}

export async function collect(events: AsyncIterable<ModelEvent>): Promise<ModelEvent[]> {
  const seen: ModelEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}
