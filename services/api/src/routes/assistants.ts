// /v1/assistants: create, retrieve, modify, delete, list.

import {
  ApiError,
  type AssistantRow,
  newId,
  notFound,
  routeModel,
  schema,
  toAssistantObject,
} from '@threadwork/shared';
import { type Response, Router } from 'express';
import { z } from 'zod';
import { isAdmin, principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../errors.js';
import {
  assistantsVisibleTo,
  deleteAssistant,
  findAssistant,
  insertAssistant,
  updateAssistant,
} from '../repositories/assistants.js';
import { listRows } from '../repositories/pagination.js';
import { definedOnly } from '../repositories/patch.js';
import {
  listQuerySchema,
  metadataSchema,
  responseFormatSchema,
  toolResourcesSchema,
  toolSchema,
} from '../schemas/common.js';

const assistantFields = {
  model: z.string().min(1),
  name: z.string().max(256).nullable().optional(),
  description: z.string().max(512).nullable().optional(),
  instructions: z.string().max(256_000).nullable().optional(),
  tools: z.array(toolSchema).max(128).optional(),
  tool_resources: toolResourcesSchema,
  metadata: metadataSchema.nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  response_format: responseFormatSchema.nullable().optional(),
  reasoning_effort: z
    .enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'])
    .nullable()
    .optional(),
};

const createAssistantSchema = z.strictObject(assistantFields);
const modifyAssistantSchema = z.strictObject({ ...assistantFields, model: assistantFields.model.optional() });

type AssistantInput = z.infer<typeof modifyAssistantSchema>;

export function checkModel(deps: AppDeps, model: string): void {
  if (!routeModel(model, deps.config)) {
    throw new ApiError(400, `The model '${model}' does not exist or you do not have access to it.`, {
      param: 'model',
      code: 'model_not_found',
    });
  }
}

function toColumns(input: AssistantInput) {
  return {
    model: input.model,
    name: input.name,
    description: input.description,
    instructions: input.instructions,
    tools: input.tools,
    toolResources: input.tool_resources === null ? {} : input.tool_resources,
    metadata: input.metadata === null ? {} : input.metadata,
    temperature: input.temperature,
    topP: input.top_p,
    responseFormat: input.response_format,
    reasoningEffort: input.reasoning_effort,
  };
}

export function assistantsRouter(deps: AppDeps): Router {
  const router = Router();

  /** An assistant the caller may change: 404 when it cannot see it, 403 when it is a shared one and not an admin. */
  async function writableAssistant(res: Response, assistantId: string): Promise<AssistantRow> {
    const principal = principalOf(res);
    const row = await findAssistant(deps.db, principal, assistantId);
    if (!row) throw notFound('assistant', assistantId);
    if (!isAdmin(principal) && row.ownerId !== principal.keyId) {
      throw new ApiError(403, `Assistant ${assistantId} is shared; only an admin key can change it.`, {
        type: 'permission_error',
      });
    }
    return row;
  }

  router.post('/assistants', async (req, res) => {
    const input = parseInput(createAssistantSchema, req.body);
    checkModel(deps, input.model);
    const principal = principalOf(res);
    const row = await insertAssistant(deps.db, {
      ...toColumns(input),
      model: input.model,
      id: newId('assistant'),
      ownerId: isAdmin(principal) ? null : principal.keyId,
    });
    res.json(toAssistantObject(row));
  });

  router.get('/assistants', async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const scope = assistantsVisibleTo(principalOf(res));
    res.json(await listRows(deps.db, schema.assistants, query, scope, toAssistantObject));
  });

  router.get('/assistants/:assistantId', async (req, res) => {
    const row = await findAssistant(deps.db, principalOf(res), req.params.assistantId);
    if (!row) throw notFound('assistant', req.params.assistantId);
    res.json(toAssistantObject(row));
  });

  router.post('/assistants/:assistantId', async (req, res) => {
    const input = parseInput(modifyAssistantSchema, req.body ?? {});
    if (input.model !== undefined) checkModel(deps, input.model);
    const existing = await writableAssistant(res, req.params.assistantId);
    const patch = definedOnly(toColumns(input));
    const row = patch ? await updateAssistant(deps.db, principalOf(res), existing.id, patch) : existing;
    if (!row) throw notFound('assistant', req.params.assistantId);
    res.json(toAssistantObject(row));
  });

  router.delete('/assistants/:assistantId', async (req, res) => {
    await writableAssistant(res, req.params.assistantId);
    const deleted = await deleteAssistant(deps.db, principalOf(res), req.params.assistantId);
    if (!deleted) throw notFound('assistant', req.params.assistantId);
    res.json({ id: req.params.assistantId, object: 'assistant.deleted', deleted: true });
  });

  return router;
}
