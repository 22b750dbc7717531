// Assistants: create, read, list, modify and delete, with the model check runs share.
import {
  ApiError,
  type AssistantRow,
  newId,
  notFound,
  routeModel,
  schema,
  toAssistantObject,
} from '@threadwork/shared';
import { isAdmin, type Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import {
  assistantsVisibleTo,
  deleteAssistant,
  findAssistant,
  insertAssistant,
  updateAssistant,
} from '../repositories/assistants.js';
import { listRows } from '../repositories/pagination.js';
import { definedOnly } from '../repositories/patch.js';
import type { CreateAssistantInput, ModifyAssistantInput } from '../schemas/assistants.js';
import type { ListQuery } from '../schemas/common.js';
import { resolveToolResources } from './tool-resources.js';

export function checkModel(deps: AppDeps, model: string): void {
  if (!routeModel(model, deps.config)) {
    throw new ApiError(400, `The model '${model}' does not exist or you do not have access to it.`, {
      param: 'model',
      code: 'model_not_found',
    });
  }
}

function toColumns(input: ModifyAssistantInput) {
  return {
    model: input.model,
    name: input.name,
    description: input.description,
    instructions: input.instructions,
    tools: input.tools,
    metadata: input.metadata === null ? {} : input.metadata,
    temperature: input.temperature,
    topP: input.top_p,
    responseFormat: input.response_format,
    reasoningEffort: input.reasoning_effort,
  };
}

/** An assistant the caller may change: 404 when it cannot see it, 403 when it is a shared one and not an admin. */
async function writableAssistant(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
): Promise<AssistantRow> {
  const row = await findAssistant(deps.db, principal, assistantId);
  if (!row) throw notFound('assistant', assistantId);
  if (!isAdmin(principal) && row.ownerId !== principal.projectId) {
    throw new ApiError(403, `Assistant ${assistantId} is shared; only an admin key can change it.`, {
      type: 'permission_error',
    });
  }
  return row;
}

/** A deployment admin's assistants are shared (no owner); others belong to the project. */
export async function createAssistant(
  deps: AppDeps,
  principal: Principal,
  input: CreateAssistantInput,
): Promise<AssistantRow> {
  checkModel(deps, input.model);
  return insertAssistant(deps.db, {
    ...toColumns(input),
    toolResources: (await resolveToolResources(deps, principal, input.tool_resources)) ?? {},
    model: input.model,
    id: newId('assistant'),
    ownerId: isAdmin(principal) ? null : principal.projectId,
  });
}

export function listAssistants(deps: AppDeps, principal: Principal, query: ListQuery) {
  return listRows(deps.db, schema.assistants, query, assistantsVisibleTo(principal), toAssistantObject);
}

export async function retrieveAssistant(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
): Promise<AssistantRow> {
  const row = await findAssistant(deps.db, principal, assistantId);
  if (!row) throw notFound('assistant', assistantId);
  return row;
}

export async function modifyAssistant(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
  input: ModifyAssistantInput,
): Promise<AssistantRow> {
  if (input.model !== undefined) checkModel(deps, input.model);
  const existing = await writableAssistant(deps, principal, assistantId);
  const toolResources = await resolveToolResources(deps, principal, input.tool_resources);
  const patch = definedOnly({ ...toColumns(input), toolResources });
  const row = patch ? await updateAssistant(deps.db, principal, existing.id, patch) : existing;
  if (!row) throw notFound('assistant', assistantId);
  return row;
}

export async function removeAssistant(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
): Promise<void> {
  await writableAssistant(deps, principal, assistantId);
  const deleted = await deleteAssistant(deps.db, principal, assistantId);
  if (!deleted) throw notFound('assistant', assistantId);
}
