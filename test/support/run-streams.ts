// Raw SSE clients of a run for fault tests: what each client received (text, seqs, how its stream ended), read in
// the background so a test can wait on it, kill something meanwhile, and compare with what Postgres stored.

export type Dialect = 'assistants' | 'simple';

export interface SseFrame {
  id: number | null;
  event: string;
  data: string;
}

/** Parses an SSE body into frames (comments, such as keep-alives, are skipped). */
export async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    buffer += decoder.decode(read.value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const frame = parseBlock(block);
      if (frame) yield frame;
    }
  }
}

function parseBlock(block: string): SseFrame | null {
  let id: number | null = null;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) continue;
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = Number(value);
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length > 0 ? { id, event, data: data.join('\n') } : null;
}

/** How a client's stream ended: a terminal event, an `error` event saying it cannot continue, or just closed. */
export interface StreamEnding {
  kind: 'terminal' | 'interrupted' | 'closed';
  /** The run's status as the terminal event told it. */
  status: string | null;
  at: number;
}

/** What one client has received so far; `ending` resolves when its stream ends. */
export interface RunStream {
  dialect: Dialect;
  runId: string | null;
  threadId: string | null;
  /** The answer's text as the client accumulated it from deltas. */
  text: string;
  deltas: number;
  /** The run's status events seen (assistants dialect), e.g. `thread.run.in_progress`. */
  runEvents: string[];
  /** The last SSE id seen (simple dialect): where a resume starts. */
  lastId: number;
  ending: Promise<StreamEnding>;
}

const finalRunEvents = new Set([
  'thread.run.requires_action',
  'thread.run.completed',
  'thread.run.incomplete',
  'thread.run.failed',
  'thread.run.cancelled',
  'thread.run.expired',
]);

interface TextPart {
  text: { value: string };
}

function onAssistantsFrame(stream: RunStream, frame: SseFrame): StreamEnding | null {
  if (frame.event === 'error') return { kind: 'interrupted', status: null, at: Date.now() };
  if (frame.event === 'done') return null;
  const data = JSON.parse(frame.data) as Record<string, unknown>;
  if (frame.event.startsWith('thread.run.') && !frame.event.startsWith('thread.run.step.')) {
    stream.runEvents.push(frame.event);
    stream.runId ??= data.id as string;
    stream.threadId ??= data.thread_id as string;
  }
  if (frame.event === 'thread.message.delta') {
    const parts = (data.delta as { content: TextPart[] }).content;
    stream.text += parts.map((part) => part.text.value).join('');
    stream.deltas += 1;
  }
  if (finalRunEvents.has(frame.event))
    return { kind: 'terminal', status: data.status as string, at: Date.now() };
  return null;
}

function onSimpleFrame(stream: RunStream, frame: SseFrame): StreamEnding | null {
  if (frame.id !== null) stream.lastId = frame.id;
  const data = JSON.parse(frame.data) as Record<string, unknown>;
  switch (frame.event) {
    case 'thread_id':
      stream.runId ??= data.run_id as string;
      stream.threadId ??= data.thread_id as string;
      return null;
    case 'text':
      stream.text += data.content as string;
      stream.deltas += 1;
      return null;
    case 'error':
      // A failed run's error comes before its done; only a stream that cannot continue ends here.
      return data.code === 'stream_interrupted'
        ? { kind: 'interrupted', status: null, at: Date.now() }
        : null;
    case 'done':
      return { kind: 'terminal', status: data.status as string, at: Date.now() };
    default:
      return null;
  }
}

/** Reads a run's SSE response in the background. */
export function followResponse(
  response: Response,
  dialect: Dialect,
  start: Partial<RunStream> = {},
): RunStream {
  if (response.status !== 200 || !response.body) throw new Error(`stream answered ${response.status}`);
  const body = response.body;
  const stream: RunStream = {
    dialect,
    runId: null,
    threadId: null,
    text: '',
    deltas: 0,
    runEvents: [],
    lastId: 0,
    ...start,
    ending: Promise.resolve({ kind: 'closed', status: null, at: 0 }),
  };
  const onFrame = dialect === 'assistants' ? onAssistantsFrame : onSimpleFrame;
  stream.ending = (async (): Promise<StreamEnding> => {
    try {
      for await (const frame of sseFrames(body)) {
        const ending = onFrame(stream, frame);
        if (ending) return ending;
      }
    } catch {
      // A reset connection is a stream that closed without a terminal event.
    }
    return { kind: 'closed', status: null, at: Date.now() };
  })();
  return stream;
}

/** An HTTP client of one API for one key. */
export function apiClient(baseUrl: string, key: string) {
  const headers = {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    'openai-beta': 'assistants=v2',
  };
  const call = (
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...headers, ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  return {
    call,
    async json<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
      const response = await call(path, init);
      if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${response.status}`);
      return (await response.json()) as T;
    },
    /** A new thread and a streamed run on it, in the Assistants dialect (`POST /v1/threads/runs`). */
    async streamAssistantsRun(assistantId: string, message: string): Promise<RunStream> {
      const response = await call('/v1/threads/runs', {
        method: 'POST',
        body: {
          assistant_id: assistantId,
          stream: true,
          thread: { messages: [{ role: 'user', content: message }] },
        },
      });
      return followResponse(response, 'assistants');
    },
    /** A new chat streamed in the simple dialect (`POST /api/chat/stream`). */
    async streamChat(message: string, assistantId?: string): Promise<RunStream> {
      const response = await call('/api/chat/stream', {
        method: 'POST',
        body: { message, ...(assistantId ? { assistant_id: assistantId } : {}) },
      });
      return followResponse(response, 'simple');
    },
    /** Resumes a run's stream in the simple dialect after `lastId` (`GET /api/runs/{id}/events`). */
    async resume(runId: string, lastId: number): Promise<RunStream> {
      const response = await call(`/api/runs/${runId}/events`, {
        headers: { 'last-event-id': String(lastId) },
      });
      return followResponse(response, 'simple', { runId, lastId });
    },
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** Rejects after `ms`: a stream that never ends fails the test instead of hanging it. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
