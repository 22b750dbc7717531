// /v1 as a model gateway: Chat Completions, Embeddings and Models in OpenAI's wire shapes (docs/providers.md).
import { createProviderRegistry } from '@threadwork/run-worker/providers';
import type { Response } from 'express';
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import {
  chatCompletionRequestSchema,
  chatCompletionSchema,
  embeddingsListSchema,
  embeddingsRequestSchema,
  modelListSchema,
} from '../schemas/gateway.js';
import {
  Completion,
  createEmbeddings,
  type GatewayDeps,
  listModels,
  toChatCompletion,
  toCompletionChunks,
} from '../services/gateway.js';
import { RouteSet } from './route.js';

const tag = 'Gateway';

/** Aborts the model call when the client leaves before the answer is complete. */
function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  if (res.closed) controller.abort();
  else res.on('close', () => controller.abort());
  return controller.signal;
}

/** Streams the completion's chunks; a failure after the headers is the stream's last frame, an OpenAI error body. */
async function streamCompletion(
  res: Response,
  completion: Completion,
  includeUsage: boolean,
  deps: GatewayDeps,
) {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  try {
    for await (const chunk of toCompletionChunks(completion, includeUsage))
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    res.write('data: [DONE]\n\n');
  } catch (error) {
    if (!res.closed) {
      const message = error instanceof Error ? error.message : 'The model call failed.';
      const code = (error as { code?: unknown }).code ?? 'server_error';
      res.write(
        `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code } })}\n\n`,
      );
    }
    deps.log.warn({ err: error, callId: completion.id }, 'gateway stream failed');
  }
  res.end();
}

export function gatewayRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();
  const gateway: GatewayDeps = {
    db: deps.db,
    log: deps.log,
    models: createProviderRegistry(deps.config, deps.log),
  };

  routes.route(
    {
      method: 'post',
      path: '/chat/completions',
      summary: 'Create a chat completion with any routed model (stream: true answers SSE chunks)',
      tag,
      body: chatCompletionRequestSchema,
      responses: { 200: { json: chatCompletionSchema, events: 'chat-completions' } },
    },
    async (_req, res, { body }) => {
      const completion = await Completion.start(gateway, principalOf(res), body, clientGone(res));
      if (body.stream) {
        await streamCompletion(res, completion, body.stream_options?.include_usage === true, gateway);
        return;
      }
      res.json(toChatCompletion(completion, await completion.collect()));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/embeddings',
      summary: 'Create embeddings with an OpenAI-compatible model, or the offline embedding',
      tag,
      body: embeddingsRequestSchema,
      responses: { 200: { json: embeddingsListSchema } },
    },
    async (_req, res, { body }) => {
      res.json(await createEmbeddings(gateway, principalOf(res), body, clientGone(res)));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/models',
      summary: 'List the models this deployment routes',
      tag,
      responses: { 200: { json: modelListSchema } },
    },
    (_req, res) => {
      res.json(listModels(gateway));
    },
  );

  return routes;
}
