// The OpenAPI document, generated from the same zod schemas the API validates with, and a plain docs page.
import { z } from 'zod';
import { chatInputSchema, feedbackInputSchema, threadInputSchema } from './schemas/chat.js';
import { createMessageSchema } from './schemas/common.js';
import {
  createRunSchema,
  createThreadAndRunSchema,
  modifyRunSchema,
  submitToolOutputsSchema,
} from './schemas/runs.js';

type Method = 'get' | 'post' | 'delete';

interface Operation {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  streams?: boolean;
}

const MAX_CHARS = 256_000;

const operations: Operation[] = [
  { method: 'post', path: '/v1/assistants', summary: 'Create an assistant', tag: 'Assistants' },
  { method: 'get', path: '/v1/assistants', summary: 'List assistants', tag: 'Assistants' },
  {
    method: 'get',
    path: '/v1/assistants/{assistant_id}',
    summary: 'Retrieve an assistant',
    tag: 'Assistants',
  },
  {
    method: 'post',
    path: '/v1/assistants/{assistant_id}',
    summary: 'Modify an assistant',
    tag: 'Assistants',
  },
  {
    method: 'delete',
    path: '/v1/assistants/{assistant_id}',
    summary: 'Delete an assistant',
    tag: 'Assistants',
  },
  { method: 'post', path: '/v1/threads', summary: 'Create a thread', tag: 'Threads' },
  { method: 'get', path: '/v1/threads/{thread_id}', summary: 'Retrieve a thread', tag: 'Threads' },
  { method: 'post', path: '/v1/threads/{thread_id}', summary: 'Modify a thread', tag: 'Threads' },
  { method: 'delete', path: '/v1/threads/{thread_id}', summary: 'Delete a thread', tag: 'Threads' },
  {
    method: 'post',
    path: '/v1/threads/{thread_id}/messages',
    summary: 'Create a message',
    tag: 'Messages',
    body: createMessageSchema(MAX_CHARS),
  },
  { method: 'get', path: '/v1/threads/{thread_id}/messages', summary: 'List messages', tag: 'Messages' },
  {
    method: 'get',
    path: '/v1/threads/{thread_id}/messages/{message_id}',
    summary: 'Retrieve a message',
    tag: 'Messages',
  },
  {
    method: 'post',
    path: '/v1/threads/{thread_id}/messages/{message_id}',
    summary: 'Modify a message',
    tag: 'Messages',
  },
  {
    method: 'delete',
    path: '/v1/threads/{thread_id}/messages/{message_id}',
    summary: 'Delete a message',
    tag: 'Messages',
  },
  {
    method: 'post',
    path: '/v1/threads/runs',
    summary: 'Create a thread and run it (stream: true answers SSE)',
    tag: 'Runs',
    body: createThreadAndRunSchema(MAX_CHARS),
    streams: true,
  },
  {
    method: 'post',
    path: '/v1/threads/{thread_id}/runs',
    summary: 'Create a run (stream: true answers SSE)',
    tag: 'Runs',
    body: createRunSchema(MAX_CHARS),
    streams: true,
  },
  { method: 'get', path: '/v1/threads/{thread_id}/runs', summary: 'List runs', tag: 'Runs' },
  { method: 'get', path: '/v1/threads/{thread_id}/runs/{run_id}', summary: 'Retrieve a run', tag: 'Runs' },
  {
    method: 'post',
    path: '/v1/threads/{thread_id}/runs/{run_id}',
    summary: 'Modify a run',
    tag: 'Runs',
    body: modifyRunSchema,
  },
  {
    method: 'post',
    path: '/v1/threads/{thread_id}/runs/{run_id}/cancel',
    summary: 'Cancel a run',
    tag: 'Runs',
  },
  {
    method: 'post',
    path: '/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs',
    summary: 'Submit tool outputs (stream: true answers SSE)',
    tag: 'Runs',
    body: submitToolOutputsSchema,
    streams: true,
  },
  {
    method: 'get',
    path: '/v1/threads/{thread_id}/runs/{run_id}/steps',
    summary: 'List run steps',
    tag: 'Runs',
  },
  {
    method: 'get',
    path: '/v1/threads/{thread_id}/runs/{run_id}/steps/{step_id}',
    summary: 'Retrieve a run step',
    tag: 'Runs',
  },
  {
    method: 'post',
    path: '/api/chat',
    summary: 'Send a message and wait for the reply (wait: false answers 202 with poll and stream URLs)',
    tag: 'Chat',
    body: chatInputSchema(MAX_CHARS),
  },
  {
    method: 'post',
    path: '/api/chat/stream',
    summary: 'Send a message and stream the reply (simple SSE dialect)',
    tag: 'Chat',
    body: chatInputSchema(MAX_CHARS),
    streams: true,
  },
  { method: 'get', path: '/api/runs/{run_id}', summary: 'Poll a chat run', tag: 'Chat' },
  {
    method: 'get',
    path: '/api/runs/{run_id}/events',
    summary: 'Stream (or resume with Last-Event-ID) a run in the simple dialect',
    tag: 'Chat',
    streams: true,
  },
  {
    method: 'get',
    path: '/api/threads',
    summary: "List the caller's threads, newest activity first",
    tag: 'Chat',
  },
  {
    method: 'post',
    path: '/api/threads',
    summary: 'Create a thread, or get the one per user and assistant (reuse: true)',
    tag: 'Chat',
    body: threadInputSchema,
  },
  { method: 'get', path: '/api/threads/{thread_id}/messages', summary: "A thread's history", tag: 'Chat' },
  { method: 'delete', path: '/api/threads/{thread_id}', summary: 'Clear (delete) a thread', tag: 'Chat' },
  {
    method: 'post',
    path: '/api/messages/{message_id}/feedback',
    summary: 'Rate an assistant message',
    tag: 'Chat',
    body: feedbackInputSchema,
  },
  { method: 'get', path: '/admin/feedback', summary: 'List message feedback (admin)', tag: 'Admin' },
  { method: 'post', path: '/admin/keys', summary: 'Create an API key (admin)', tag: 'Admin' },
  { method: 'get', path: '/admin/keys', summary: 'List API keys (admin)', tag: 'Admin' },
  { method: 'delete', path: '/admin/keys/{key_id}', summary: 'Revoke an API key (admin)', tag: 'Admin' },
  { method: 'get', path: '/healthz', summary: 'Liveness', tag: 'Operations' },
  { method: 'get', path: '/readyz', summary: 'Readiness (Postgres and Redis)', tag: 'Operations' },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', tag: 'Operations' },
];

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'param', 'code'],
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        param: { type: ['string', 'null'] },
        code: { type: ['string', 'null'] },
      },
    },
  },
};

function toOperation(operation: Operation) {
  const parameters = [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => ({
    name: match[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const content: Record<string, unknown> = { 'application/json': {} };
  if (operation.streams) content['text/event-stream'] = {};
  return {
    summary: operation.summary,
    tags: [operation.tag],
    parameters,
    ...(operation.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: z.toJSONSchema(operation.body, { io: 'input', unrepresentable: 'any' }),
              },
            },
          },
        }
      : {}),
    responses: {
      '200': { description: 'OK', content },
      default: { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
    },
  };
}

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    paths[operation.path] ??= {};
    const entry = paths[operation.path];
    if (entry) entry[operation.method] = toOperation(operation);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Threadwork',
      version: '0.1.0',
      description: 'A self-hosted, OpenAI-Assistants-compatible assistant runtime.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

export function docsPage(document: ReturnType<typeof openApiDocument>): string {
  const rows = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const summary = (operation as { summary: string }).summary;
      return `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(summary)}</td></tr>`;
    }),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Threadwork API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}td{padding:.25rem .75rem;border-bottom:1px solid #ddd}</style>
</head><body><h1>Threadwork API</h1>
<p>The machine-readable document is at <a href="/openapi.json">/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>`;
}
