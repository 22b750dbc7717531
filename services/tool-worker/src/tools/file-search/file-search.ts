// file_search: hybrid search over the vector stores of the run's assistant and thread, each passage with its marker.
import {
  citationMarker,
  type Db,
  type Embedder,
  type FileSearchOutput,
  searchChunks,
} from '@threadwork/shared';
import { ToolError } from '../../tool-error.js';
import type { ToolArgs, ToolCallContext } from '../registry.js';
import { loadSearchScope } from './search-scope.js';

export interface FileSearchDeps {
  db: Db;
  embedder: Embedder;
}

export async function fileSearch(
  deps: FileSearchDeps,
  args: ToolArgs<'file_search'>,
  context: ToolCallContext,
): Promise<FileSearchOutput> {
  const scope = await loadSearchScope(deps.db, context);
  if (!scope) throw new ToolError('not_found', 'The run of this call was not found.');
  if (scope.vectorStoreIds.length === 0) {
    throw new ToolError(
      'not_found',
      'No vector store is attached: give the assistant or the thread tool_resources.file_search.vector_store_ids.',
    );
  }
  const [queryEmbedding = []] = await deps.embedder.embed([args.query], context.signal);
  const matches = await searchChunks(deps.db, {
    projectId: context.ownerId,
    vectorStoreIds: scope.vectorStoreIds,
    query: args.query,
    queryEmbedding,
    maxResults: scope.maxResults,
    scoreThreshold: scope.scoreThreshold,
  });
  return {
    ranking_options: {
      ranker: scope.ranker === 'auto' ? 'default_2024_08_21' : scope.ranker,
      score_threshold: scope.scoreThreshold,
    },
    results: matches.map((match, index) => ({
      citation: citationMarker(scope.callOrdinal, index),
      file_id: match.fileId,
      file_name: match.filename,
      score: match.score,
      content: match.text,
    })),
  };
}
