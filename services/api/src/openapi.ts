// The OpenAPI document, generated from the route registrations (routes/route.ts) and the zod schemas they
// validate with, and a plain docs page.
import { z } from 'zod';
import type { Operation, Reply } from './routes/route.js';
import { responseObjects } from './schemas/objects.js';

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

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  503: 'Unavailable',
};

const EVENTS: Record<NonNullable<Reply['events']>, string> = {
  assistants:
    'with `stream: true`, server-sent events in the Assistants dialect (`thread.run.created` … `done`)',
  simple:
    'server-sent events in the simple dialect (`thread_id`, `text`, `tool`, `products`, `done`, `error`; see docs/chat-api.md)',
  'chat-completions':
    'with `stream: true`, `chat.completion.chunk` objects as `data:` lines, then `data: [DONE]` (Chat Completions streaming)',
};

type JsonSchema = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

/** A request schema as clients write it (before defaults and transforms). */
function requestSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

/** A response schema whose named objects (`responseObjects`) are references to components.schemas. */
function responseSchema(schema: z.ZodType): JsonSchema {
  const converted = z.toJSONSchema(schema, {
    io: 'output',
    unrepresentable: 'any',
    metadata: responseObjects,
  });
  const {
    $schema: _dialect,
    $defs: _named,
    ...rest
  } = JSON.parse(JSON.stringify(converted).replaceAll('"#/$defs/', `"${COMPONENTS}`)) as JsonSchema;
  return rest;
}

/** The named response objects, each once. */
function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(responseObjects, {
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `${COMPONENTS}${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]),
  );
}

/** `/v1/threads/:threadId` → `/v1/threads/{thread_id}`: OpenAPI's template, with the wire's snake_case names. */
export function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, (_match, name: string) => `{${toSnakeCase(name)}}`);
}

function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function parametersOf(operation: Operation) {
  const path = [...operation.path.matchAll(/:(\w+)/g)].map((match) => ({
    name: toSnakeCase(match[1] ?? ''),
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (!operation.query) return path;
  const query = requestSchema(operation.query) as { properties?: JsonSchema; required?: string[] };
  return [
    ...path,
    ...Object.entries(query.properties ?? {}).map(([name, schema]) => ({
      name,
      in: 'query',
      required: query.required?.includes(name) ?? false,
      schema,
    })),
  ];
}

function requestBodyOf(operation: Operation) {
  if (operation.multipartBody) {
    const schema = requestSchema(operation.multipartBody);
    return { requestBody: { required: true, content: { 'multipart/form-data': { schema } } } };
  }
  if (!operation.body) return {};
  const content: Record<string, { schema: JsonSchema }> = {
    'application/json': { schema: requestSchema(operation.body) },
  };
  for (const mediaType of operation.textBody ?? []) content[mediaType] = { schema: { type: 'string' } };
  return { requestBody: { required: !operation.isBodyOptional, content } };
}

function responseOf(status: number, reply: Reply) {
  const content: Record<string, { schema: JsonSchema }> = {};
  if (reply.json) content['application/json'] = { schema: responseSchema(reply.json) };
  if (reply.events) content['text/event-stream'] = { schema: { type: 'string' } };
  if (reply.text) content[reply.text] = { schema: { type: 'string' } };
  if (reply.binary) content[reply.binary] = { schema: { type: 'string', format: 'binary' } };
  const description = [STATUS_TEXT[status] ?? String(status), reply.events && EVENTS[reply.events]]
    .filter(Boolean)
    .join('; ');
  return { description, content };
}

function toOperationObject(operation: Operation) {
  const responses: Record<string, unknown> = {};
  for (const [status, reply] of Object.entries(operation.responses)) {
    responses[status] = responseOf(Number(status), reply);
  }
  return {
    summary: operation.summary,
    tags: [operation.tag],
    parameters: parametersOf(operation),
    ...requestBodyOf(operation),
    responses: {
      ...responses,
      default: {
        description: 'Error',
        content: { 'application/json': { schema: { $ref: `${COMPONENTS}Error` } } },
      },
    },
  };
}

export type OperationObject = ReturnType<typeof toOperationObject>;

// A type, not an interface: it must fit the loose schema below (a type alias has an implicit index signature).
export type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string; description: string };
  components: Record<string, unknown>;
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, OperationObject>>;
};

/** The document's own shape, for the operation that serves it. */
export const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.object({ title: z.string(), version: z.string(), description: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.looseObject({ summary: z.string() }))),
});

export function openApiDocument(operations: readonly Operation[]): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const operation of operations) {
    const path = toOpenApiPath(operation.path);
    paths[path] = { ...paths[path], [operation.method]: toOperationObject(operation) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Threadwork',
      version: '0.1.0',
      description: 'A self-hosted, OpenAI-Assistants-compatible assistant runtime.',
    },
    components: {
      schemas: { ...componentSchemas(), Error: errorSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
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

export function docsPage(document: OpenApiDocument): string {
  const rows = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const summary = operation.summary;
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
