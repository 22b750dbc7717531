// The chat API from the browser: JSON calls with the stored key, and turns streamed over fetch (SSE in the
// simple dialect), resumed with Last-Event-ID when the connection drops.

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function toApiError(response) {
  const body = await response.json().catch(() => null);
  const message = body?.error?.message ?? `The server answered ${response.status}.`;
  return new ApiError(response.status, message, body?.error?.code ?? null);
}

export function createApi(key) {
  const headers = { authorization: `Bearer ${key}` };

  async function open(path, init) {
    const response = await fetch(path, init);
    if (!response.ok) throw await toApiError(response);
    return response;
  }

  async function call(method, path, body) {
    const response = await open(path, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.json();
  }

  /**
   * Sends a message and calls onEvent({ id, event, data }) for each event until `done`. A stream that breaks
   * before `done` is picked up again from the last event id, so no text is lost or repeated.
   */
  async function streamTurn(body, onEvent, { retries = 3 } = {}) {
    let runId = null;
    let lastId = null;
    let response = await open('/api/chat/stream', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    for (let attempt = 0; ; attempt += 1) {
      try {
        for await (const event of readEvents(response)) {
          if (event.id !== null) lastId = event.id;
          if (event.event === 'thread_id') runId = event.data.run_id;
          onEvent(event);
          if (event.event === 'done') return;
        }
      } catch (error) {
        if (!runId || attempt >= retries) throw error;
      }
      if (!runId || attempt >= retries)
        throw new ApiError(0, 'The reply stream ended early.', 'stream_ended');
      await new Promise((resolve) => setTimeout(resolve, 300 * (attempt + 1)));
      const resume = lastId === null ? {} : { 'last-event-id': lastId };
      response = await open(`/api/runs/${encodeURIComponent(runId)}/events`, {
        headers: { ...headers, ...resume },
      });
    }
  }

  return {
    listThreads: () => call('GET', '/api/threads?limit=50'),
    listMessages: (threadId) =>
      call('GET', `/api/threads/${encodeURIComponent(threadId)}/messages?order=desc&limit=100`),
    deleteThread: (threadId) => call('DELETE', `/api/threads/${encodeURIComponent(threadId)}`),
    giveFeedback: (messageId, rating) =>
      call('POST', `/api/messages/${encodeURIComponent(messageId)}/feedback`, { rating }),
    streamTurn,
  };
}

/** Parses an SSE body into { id, event, data } objects; comments (heartbeats) are skipped. */
export async function* readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll('\r\n', '\n');
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const event = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) yield event;
      end = buffer.indexOf('\n\n');
    }
  }
}

function parseBlock(block) {
  let id = null;
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  return { id, event: name, data: JSON.parse(data.join('\n')) };
}
