// A real HTTP server that speaks Anthropic's Messages wire protocol for tests: scripted SSE replies, requests recorded.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface ScriptedToolUse {
  /** The tool_use id the model gives; generated when absent. */
  id?: string;
  name: string;
  /** JSON text; sent as several `input_json_delta`s. */
  input: string;
}

interface ScriptedUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

interface MessageReply {
  kind: 'stream';
  /** One `text_delta` per element. */
  text: string[];
  toolUses: ScriptedToolUse[];
  usage: ScriptedUsage;
  stopReason: 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal' | 'stop_sequence';
  /** Destroy the connection after this many events (message_start counts). */
  cutAfterEvents?: number;
  /** Stop sending after this many events and hold the connection until the client leaves. */
  stallAfterEvents?: number;
  /** Send `event: error` after the content, instead of message_delta and message_stop. */
  streamError?: { type: string; message: string };
}

interface ErrorReply {
  kind: 'error';
  status: number;
  type: string;
  message: string;
  headers: Record<string, string>;
}

type ScriptedReply = MessageReply | ErrorReply;

type ReplyOptions = Partial<Omit<MessageReply, 'kind' | 'text' | 'toolUses' | 'usage'>> & {
  usage?: Partial<ScriptedUsage>;
};

function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function reply(text: string[], toolUses: ScriptedToolUse[], options: ReplyOptions): MessageReply {
  const { usage, ...rest } = options;
  return {
    kind: 'stream',
    text,
    toolUses,
    usage: { inputTokens: 11, outputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0, ...usage },
    stopReason: toolUses.length > 0 ? 'tool_use' : 'end_turn',
    ...rest,
  };
}

/** A streamed text answer: a string is sent word by word, an array one delta per element. */
export function messageReply(text: string | string[], options: ReplyOptions = {}): MessageReply {
  return reply(typeof text === 'string' ? words(text) : text, [], options);
}

/** A streamed answer that uses tools (in parallel when there are several), with optional text before them. */
export function toolUseReply(
  toolUses: ScriptedToolUse[],
  options: ReplyOptions & { text?: string } = {},
): MessageReply {
  const { text = '', ...rest } = options;
  return reply(words(text), toolUses, rest);
}

/** An HTTP error with Anthropic's error body; 529 is `overloaded_error`. */
export function anthropicError(
  status: number,
  options: Partial<Pick<ErrorReply, 'type' | 'message' | 'headers'>> = {},
): ErrorReply {
  const type =
    options.type ??
    (status === 429
      ? 'rate_limit_error'
      : status === 529
        ? 'overloaded_error'
        : status >= 500
          ? 'api_error'
          : 'invalid_request_error');
  return {
    kind: 'error',
    status,
    type,
    message: options.message ?? `Scripted error ${status}`,
    headers: options.headers ?? {},
  };
}

type ReplyOutcome = 'completed' | 'cut' | 'client_closed';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  outcome: Promise<ReplyOutcome>;
}

export interface AnthropicTestServer {
  /** The base URL, for ANTHROPIC_BASE_URL or the SDK's `baseURL` (the SDK adds `/v1/messages`). */
  url: string;
  script(...replies: ScriptedReply[]): void;
  readonly pending: number;
  readonly requests: readonly RecordedRequest[];
  waitForRequests(count: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

/** Writes SSE events, cutting or stalling where the script says; false once the reply must stop. */
class EventWriter {
  private sent = 0;
  isCut = false;
  private readonly clientGone: Promise<void>;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly reply: MessageReply,
  ) {
    this.clientGone = new Promise((resolve) => res.once('close', () => resolve()));
  }

  async send(type: string, fields: Record<string, unknown> = {}): Promise<boolean> {
    if (this.res.destroyed) return false;
    if (this.sent === this.reply.stallAfterEvents) {
      await this.clientGone;
      return false;
    }
    const frame = `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
    await new Promise<void>((resolve) => this.res.write(frame, () => resolve()));
    this.sent += 1;
    if (this.sent === this.reply.cutAfterEvents) {
      this.isCut = true;
      this.res.socket?.destroy();
      return false;
    }
    return true;
  }
}

function splitInThree(text: string): string[] {
  if (text.length < 3) return [text];
  const third = Math.ceil(text.length / 3);
  return [text.slice(0, third), text.slice(third, 2 * third), text.slice(2 * third)];
}

/** The events of one message, in the order Anthropic sends them. */
async function writeMessage(writer: EventWriter, reply: MessageReply, model: string): Promise<boolean> {
  const { usage } = reply;
  const message = {
    id: 'msg_scripted',
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: {
      input_tokens: usage.inputTokens,
      output_tokens: 1,
      cache_creation_input_tokens: usage.cacheWriteTokens,
      cache_read_input_tokens: usage.cacheReadTokens,
    },
  };
  if (!(await writer.send('message_start', { message }))) return false;
  if (!(await writer.send('ping'))) return false;
  let index = 0;
  if (reply.text.length > 0) {
    if (!(await writer.send('content_block_start', { index, content_block: { type: 'text', text: '' } }))) {
      return false;
    }
    for (const text of reply.text) {
      if (!(await writer.send('content_block_delta', { index, delta: { type: 'text_delta', text } })))
        return false;
    }
    if (!(await writer.send('content_block_stop', { index }))) return false;
    index += 1;
  }
  for (const [position, use] of reply.toolUses.entries()) {
    const block = { type: 'tool_use', id: use.id ?? `toolu_scripted_${position}`, name: use.name, input: {} };
    if (!(await writer.send('content_block_start', { index, content_block: block }))) return false;
    // Anthropic opens each tool's input with an empty partial_json.
    for (const partial_json of ['', ...splitInThree(use.input)]) {
      const delta = { type: 'input_json_delta', partial_json };
      if (!(await writer.send('content_block_delta', { index, delta }))) return false;
    }
    if (!(await writer.send('content_block_stop', { index }))) return false;
    index += 1;
  }
  if (reply.streamError) return writer.send('error', { error: reply.streamError });
  const delta = { stop_reason: reply.stopReason, stop_sequence: null };
  if (!(await writer.send('message_delta', { delta, usage: { output_tokens: usage.outputTokens } })))
    return false;
  return writer.send('message_stop');
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  return text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function sendError(res: http.ServerResponse, reply: ErrorReply): void {
  const body = { type: 'error', error: { type: reply.type, message: reply.message } };
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'request-id': 'req_scripted',
    ...reply.headers,
  });
  res.end(JSON.stringify(body));
}

/** Starts the server on 127.0.0.1 at a random port. */
export async function startAnthropicServer(): Promise<AnthropicTestServer> {
  const queue: ScriptedReply[] = [];
  const requests: RecordedRequest[] = [];
  const waiters: Array<() => void> = [];
  const writers = new WeakMap<http.ServerResponse, EventWriter>();

  async function serve(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>) {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path !== '/v1/messages' || req.method !== 'POST') {
      sendError(
        res,
        anthropicError(404, { type: 'not_found_error', message: `no route ${req.method} ${path}` }),
      );
      return;
    }
    const next = queue.shift();
    if (!next) {
      sendError(res, anthropicError(500, { message: 'anthropic-server: no scripted reply' }));
      return;
    }
    if (next.kind === 'error') {
      sendError(res, next);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const writer = new EventWriter(res, next);
    writers.set(res, writer);
    if (await writeMessage(writer, next, String(body.model ?? 'scripted-model'))) res.end();
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
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, outcome });
        for (const wake of waiters.splice(0)) wake();
        return serve(req, res, body);
      })
      .catch((error: unknown) => {
        if (!res.headersSent)
          sendError(res, anthropicError(400, { message: `anthropic-server: ${String(error)}` }));
      });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
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
