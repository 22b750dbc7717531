// A real OpenAI-compatible HTTP server for tests: scripted replies over both wire protocols, every request recorded.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface ScriptedToolCall {
  /** The call id the model gives; generated when absent. */
  id?: string;
  name: string;
  /** JSON text; sent split across several deltas. */
  arguments: string;
}

interface StreamReply {
  kind: 'stream';
  /** Text deltas, one per event or chunk. */
  text: string[];
  toolCalls: ScriptedToolCall[];
  /** `cachedTokens`: the part of the prompt read from OpenAI's prompt cache. */
  usage: { promptTokens: number; completionTokens: number; cachedTokens?: number };
  /** Why the model stopped (tool calls imply `tool_calls` in Chat Completions unless this says otherwise). */
  finish: 'stop' | 'length' | 'content_filter';
  /** Wait after the stream has opened, before the first text or tool call. */
  firstTokenDelayMs?: number;
  /** Destroy the connection after this many stream events (the opening event counts). */
  cutAfterEvents?: number;
  /** Stop sending after this many stream events and hold the connection until the client leaves. */
  stallAfterEvents?: number;
  /** Leave usage out even when asked for it, as some compatible servers do. */
  omitUsage?: boolean;
  /** Fail inside the stream after the text, with `response.failed` (Responses) or an error chunk (Chat). */
  streamError?: { code: string; message: string };
}

interface ErrorReply {
  kind: 'error';
  status: number;
  message: string;
  type: string;
  code: string | null;
  headers: Record<string, string>;
}

interface EmbeddingsReply {
  kind: 'embeddings';
  vectors: number[][];
  promptTokens: number;
}

type ScriptedReply = StreamReply | ErrorReply | EmbeddingsReply;

type StreamOptions = Partial<Omit<StreamReply, 'kind' | 'text' | 'toolCalls'>>;

/** Splits text into word-sized deltas that concatenate back to it. */
function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function defaults(options: StreamOptions): Omit<StreamReply, 'kind' | 'text' | 'toolCalls'> {
  return { usage: { promptTokens: 11, completionTokens: 7 }, finish: 'stop', ...options };
}

/** A streamed text answer: a string is sent word by word, an array chunk by chunk. */
export function textReply(text: string | string[], options: StreamOptions = {}): StreamReply {
  return {
    kind: 'stream',
    text: typeof text === 'string' ? words(text) : text,
    toolCalls: [],
    ...defaults(options),
  };
}

/** A streamed answer that calls tools (in parallel when there are several), with optional text before them. */
export function toolCallsReply(
  calls: ScriptedToolCall[],
  options: StreamOptions & { text?: string } = {},
): StreamReply {
  const { text = '', ...rest } = options;
  return { kind: 'stream', text: words(text), toolCalls: calls, ...defaults(rest) };
}

/** An HTTP error with OpenAI's error body; put `retry-after` or `retry-after-ms` in headers. */
export function errorReply(
  status: number,
  options: Partial<Pick<ErrorReply, 'message' | 'type' | 'code' | 'headers'>> = {},
): ErrorReply {
  return {
    kind: 'error',
    status,
    message: options.message ?? `Scripted error ${status}`,
    type:
      options.type ??
      (status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error'),
    code: options.code ?? null,
    headers: options.headers ?? {},
  };
}

/** An embeddings answer (`POST /v1/embeddings`): one vector per input, in order. */
export function embeddingsReply(vectors: number[][], promptTokens = 5): EmbeddingsReply {
  return { kind: 'embeddings', vectors, promptTokens };
}

/** How a reply ended for the server: sent whole, cut on purpose, or abandoned by the client. */
type ReplyOutcome = 'completed' | 'cut' | 'client_closed';

export interface RecordedRequest {
  method: string;
  /** e.g. `/v1/responses`, `/v1/chat/completions`. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Resolves when the connection for this request is over. */
  outcome: Promise<ReplyOutcome>;
  /** performance.now() when the request's body had arrived. */
  receivedAt: number;
  /** performance.now() when the reply's first text or tool call was written (after the scripted delay). */
  firstTokenAt: number | null;
}

export interface OpenAITestServer {
  /** Base URL with `/v1`, for OPENAI_BASE_URL or the SDK's `baseURL`. */
  url: string;
  /** Queues replies; each request takes the next one, whichever API it calls. */
  script(...replies: ScriptedReply[]): void;
  /** Replies scripted but not taken yet. */
  readonly pending: number;
  /** Requests in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Resolves once at least `count` requests have arrived. */
  waitForRequests(count: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

type Frame = { event?: string; data: unknown };

/** Writes SSE frames, cutting or stalling where the script says; false once the reply must stop. */
class FrameWriter {
  private sent = 0;
  /** Set when the script cut the connection, so the outcome says `cut` rather than `client_closed`. */
  isCut = false;
  readonly clientGone: Promise<void>;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly reply: StreamReply,
    private readonly request: RecordedRequest,
  ) {
    this.clientGone = new Promise((resolve) => res.once('close', () => resolve()));
  }

  async write(frame: Frame | '[DONE]'): Promise<boolean> {
    if (this.res.destroyed) return false;
    if (this.sent === this.reply.stallAfterEvents) {
      await this.clientGone;
      return false;
    }
    const text =
      frame === '[DONE]'
        ? 'data: [DONE]\n\n'
        : `${frame.event ? `event: ${frame.event}\n` : ''}data: ${JSON.stringify(frame.data)}\n\n`;
    await new Promise<void>((resolve) => this.res.write(text, () => resolve()));
    this.sent += 1;
    if (this.sent === this.reply.cutAfterEvents) {
      this.isCut = true;
      this.res.socket?.destroy();
      return false;
    }
    return true;
  }

  /** The scripted first-token delay, cut short if the client leaves; notes when the first token goes out. */
  async delay(): Promise<boolean> {
    const ms = this.reply.firstTokenDelayMs ?? 0;
    if (ms > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), this.clientGone]);
      clearTimeout(timer);
    }
    this.request.firstTokenAt = performance.now();
    return !this.res.destroyed;
  }
}

function splitInThree(text: string): string[] {
  if (text.length < 3) return [text];
  const third = Math.ceil(text.length / 3);
  return [text.slice(0, third), text.slice(third, 2 * third), text.slice(2 * third)];
}

function callIds(reply: StreamReply): Required<ScriptedToolCall>[] {
  return reply.toolCalls.map((call, index) => ({ ...call, id: call.id ?? `call_scripted_${index}` }));
}

async function writeResponsesStream(
  writer: FrameWriter,
  reply: StreamReply,
  model: string,
): Promise<boolean> {
  let sequence = 0;
  const send = (type: string, fields: Record<string, unknown>) =>
    writer.write({ event: type, data: { type, sequence_number: sequence++, ...fields } });
  const base = { id: 'resp_scripted', object: 'response', created_at: 1_700_000_000, model };
  if (
    !(await send('response.created', {
      response: { ...base, status: 'in_progress', output: [], usage: null },
    }))
  ) {
    return false;
  }
  if (!(await writer.delay())) return false;
  const output: Record<string, unknown>[] = [];
  const fullText = reply.text.join('');
  if (reply.text.length > 0) {
    const item = {
      id: 'msg_scripted',
      type: 'message',
      role: 'assistant',
      status: 'in_progress',
      content: [],
    };
    const at = { item_id: item.id, output_index: 0, content_index: 0 };
    if (!(await send('response.output_item.added', { output_index: 0, item }))) return false;
    for (const delta of reply.text) {
      if (!(await send('response.output_text.delta', { ...at, delta, logprobs: [] }))) return false;
    }
    if (!(await send('response.output_text.done', { ...at, text: fullText, logprobs: [] }))) return false;
    const done = {
      ...item,
      status: 'completed',
      content: [{ type: 'output_text', text: fullText, annotations: [] }],
    };
    output.push(done);
    if (!(await send('response.output_item.done', { output_index: 0, item: done }))) return false;
  }
  for (const call of callIds(reply)) {
    const outputIndex = output.length;
    const item = {
      id: `fc_${outputIndex}`,
      type: 'function_call',
      status: 'in_progress',
      call_id: call.id,
      name: call.name,
    };
    if (
      !(await send('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, arguments: '' },
      }))
    ) {
      return false;
    }
    for (const delta of splitInThree(call.arguments)) {
      const fields = { item_id: item.id, output_index: outputIndex, delta };
      if (!(await send('response.function_call_arguments.delta', fields))) return false;
    }
    const fields = {
      item_id: item.id,
      output_index: outputIndex,
      name: call.name,
      arguments: call.arguments,
    };
    if (!(await send('response.function_call_arguments.done', fields))) return false;
    const done = { ...item, status: 'completed', arguments: call.arguments };
    output.push(done);
    if (!(await send('response.output_item.done', { output_index: outputIndex, item: done }))) return false;
  }
  if (reply.streamError) {
    const response = { ...base, status: 'failed', output, usage: null, error: reply.streamError };
    return send('response.failed', { response });
  }
  const { promptTokens, completionTokens } = reply.usage;
  const usage = reply.omitUsage
    ? null
    : {
        input_tokens: promptTokens,
        input_tokens_details: { cached_tokens: reply.usage.cachedTokens ?? 0 },
        output_tokens: completionTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: promptTokens + completionTokens,
      };
  if (reply.finish !== 'stop') {
    const reason = reply.finish === 'length' ? 'max_output_tokens' : 'content_filter';
    const response = { ...base, status: 'incomplete', incomplete_details: { reason }, output, usage };
    return send('response.incomplete', { response });
  }
  return send('response.completed', { response: { ...base, status: 'completed', output, usage } });
}

async function writeChatStream(
  writer: FrameWriter,
  reply: StreamReply,
  model: string,
  includeUsage: boolean,
): Promise<boolean> {
  const withUsage = includeUsage && !reply.omitUsage;
  const head = { id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 1_700_000_000, model };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    writer.write({
      data: {
        ...head,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(withUsage ? { usage: null } : {}),
      },
    });
  if (!(await chunk({ role: 'assistant', content: '' }))) return false;
  if (!(await writer.delay())) return false;
  for (const content of reply.text) {
    if (!(await chunk({ content }))) return false;
  }
  const calls = callIds(reply);
  for (const [index, call] of calls.entries()) {
    const opening = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    if (!(await chunk({ tool_calls: [opening] }))) return false;
    for (const piece of splitInThree(call.arguments)) {
      if (!(await chunk({ tool_calls: [{ index, function: { arguments: piece } }] }))) return false;
    }
  }
  if (reply.streamError) {
    return writer.write({ data: { error: { ...reply.streamError, type: 'server_error', param: null } } });
  }
  const finish = calls.length > 0 && reply.finish === 'stop' ? 'tool_calls' : reply.finish;
  if (!(await chunk({}, finish))) return false;
  if (withUsage) {
    const { promptTokens, completionTokens } = reply.usage;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      ...(reply.usage.cachedTokens
        ? { prompt_tokens_details: { cached_tokens: reply.usage.cachedTokens } }
        : {}),
    };
    if (!(await writer.write({ data: { ...head, choices: [], usage } }))) return false;
  }
  return writer.write('[DONE]');
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  return text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function sendError(res: http.ServerResponse, reply: ErrorReply): void {
  const body = { error: { message: reply.message, type: reply.type, param: null, code: reply.code } };
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
  res.end(JSON.stringify(body));
}

function sendEmbeddings(res: http.ServerResponse, reply: ScriptedReply, model: string): void {
  if (reply.kind !== 'embeddings') {
    sendError(res, errorReply(500, { message: `openai-server: a ${reply.kind} reply for /v1/embeddings` }));
    return;
  }
  const data = reply.vectors.map((embedding, index) => ({ object: 'embedding', index, embedding }));
  const usage = { prompt_tokens: reply.promptTokens, total_tokens: reply.promptTokens };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ object: 'list', model, data, usage }));
}

const ROUTES = ['/v1/responses', '/v1/chat/completions', '/v1/embeddings'];

/** Starts the server on 127.0.0.1 at a random port. */
export async function startOpenAIServer(): Promise<OpenAITestServer> {
  const queue: ScriptedReply[] = [];
  const requests: RecordedRequest[] = [];
  const waiters: Array<() => void> = [];
  const writers = new WeakMap<http.ServerResponse, FrameWriter>();

  async function serve(req: http.IncomingMessage, res: http.ServerResponse, request: RecordedRequest) {
    const { body } = request;
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!ROUTES.includes(path) || req.method !== 'POST') {
      sendError(res, errorReply(404, { message: `openai-server: no route ${req.method} ${path}` }));
      return;
    }
    const reply = queue.shift();
    if (!reply) {
      sendError(res, errorReply(500, { message: `openai-server: no scripted reply for ${path}` }));
      return;
    }
    if (reply.kind === 'error') {
      sendError(res, reply);
      return;
    }
    if (reply.kind === 'embeddings' || path === '/v1/embeddings') {
      sendEmbeddings(res, reply, String(body.model ?? 'scripted-model'));
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const writer = new FrameWriter(res, reply, request);
    writers.set(res, writer);
    const model = String(body.model ?? 'scripted-model');
    const includeUsage =
      (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const isComplete =
      path === '/v1/responses'
        ? await writeResponsesStream(writer, reply, model)
        : await writeChatStream(writer, reply, model, includeUsage);
    if (isComplete) res.end();
  }

  const server = http.createServer((req, res) => {
    const outcome = new Promise<ReplyOutcome>((resolve) => {
      res.on('close', () => {
        if (res.writableFinished) resolve('completed');
        else resolve(writers.get(res)?.isCut ? 'cut' : 'client_closed');
      });
    });
    readJson(req)
      .then((body) => {
        const request: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          outcome,
          receivedAt: performance.now(),
          firstTokenAt: null,
        };
        requests.push(request);
        for (const wake of waiters.splice(0)) wake();
        return serve(req, res, request);
      })
      .catch((error: unknown) => {
        if (!res.headersSent) sendError(res, errorReply(400, { message: `openai-server: ${String(error)}` }));
      });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    script: (...replies) => {
      queue.push(...replies);
    },
    get pending() {
      return queue.length;
    },
    requests,
    async waitForRequests(count) {
      while (requests.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return requests.slice(0, count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
