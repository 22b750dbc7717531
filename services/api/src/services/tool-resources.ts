// What an assistant's or thread's `tool_resources` hold once stored: the vector stores that `vector_stores` asks to
// be made from files (as OpenAI's helper did), and a thread's store for the files its messages attach for
// file_search.
import { AUTO_CHUNKING } from '@threadwork/shared/files/vector-store-wire';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { CreateMessageInput, ToolResourcesInput } from '../schemas/common.js';
import { addFilesToStore, storeOf } from './vector-store-files.js';
import { createVectorStore } from './vector-stores.js';

/** Tool resources as stored: a free record whose `file_search` names its stores by id only. */
export type StoredToolResources = Record<string, unknown>;

function storeIdsOf(resources: StoredToolResources): string[] {
  const fileSearch = resources.file_search as { vector_store_ids?: string[] } | undefined;
  return fileSearch?.vector_store_ids ?? [];
}

/**
 * The tool resources to store: the named vector stores checked to be the project's (404 otherwise), and each of
 * `file_search.vector_stores` made into a new store of its files, named by its id. Null clears them.
 */
export async function resolveToolResources(
  deps: AppDeps,
  principal: Principal,
  input: ToolResourcesInput,
): Promise<StoredToolResources | undefined> {
  if (input === undefined) return undefined;
  if (input === null) return {};
  const { file_search: fileSearch, ...others } = input;
  if (!fileSearch) return input;
  const { vector_stores: inline = [], vector_store_ids: named = [], ...rest } = fileSearch;
  for (const storeId of named) await storeOf(deps, principal, storeId);
  const made = [];
  for (const store of inline) {
    const created = await createVectorStore(deps, principal, {
      file_ids: store.file_ids,
      chunking_strategy: store.chunking_strategy,
      metadata: store.metadata,
    });
    made.push(created.id);
  }
  return { ...others, file_search: { ...rest, vector_store_ids: [...named, ...made] } };
}

/** The files that messages attach for file_search. */
export function fileSearchAttachments(messages: CreateMessageInput[]): string[] {
  const attached = messages.flatMap((message) =>
    (message.attachments ?? [])
      .filter((attachment) => attachment.tools?.some((tool) => tool.type === 'file_search'))
      .flatMap((attachment) => (attachment.file_id ? [attachment.file_id] : [])),
  );
  return [...new Set(attached)];
}

/**
 * A thread's tool resources with the files its messages attach for file_search in its vector store: added to the
 * first store it names, or to a new store made for them. Answers the resources unchanged when nothing is attached.
 */
export async function withAttachedFiles(
  deps: AppDeps,
  principal: Principal,
  resources: StoredToolResources,
  fileIds: string[],
): Promise<StoredToolResources> {
  if (fileIds.length === 0) return resources;
  const [storeId] = storeIdsOf(resources);
  if (storeId) {
    const store = await storeOf(deps, principal, storeId);
    await addFilesToStore(
      deps,
      principal,
      store,
      fileIds.map((fileId) => ({ fileId, attributes: null, chunkingStrategy: AUTO_CHUNKING })),
    );
    return resources;
  }
  const created = await createVectorStore(deps, principal, { file_ids: fileIds });
  const fileSearch = (resources.file_search ?? {}) as Record<string, unknown>;
  return { ...resources, file_search: { ...fileSearch, vector_store_ids: [created.id] } };
}
