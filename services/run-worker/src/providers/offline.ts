// The offline model: deterministic, no network. A development and demo model, not an LLM.
import type { ModelEvent, ModelMessage, ModelProvider, ModelRequest } from './types.js';

export const OFFLINE_LABEL = '[offline model]';

export interface OfflineOptions {
  tokenDelayMs: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function lastUserText(messages: ModelMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message?.role === 'user') return message.content;
  }
  return '';
}

/** The reply to a plain message, worded deterministically from the request. */
export function offlineReply(request: ModelRequest): string {
  const text = lastUserText(request.messages).trim();
  if (text.length === 0) return `${OFFLINE_LABEL} Hello! I am Threadwork's offline model. Ask me anything.`;
  return `${OFFLINE_LABEL} You said: "${text}". I am Threadwork's offline model, so I echo your message instead of thinking about it.`;
}

/** Splits text into word-sized chunks that concatenate back to the text exactly. */
export function wordChunks(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Offline token counting rule: one token per 4 characters of input, rounded up; one per streamed chunk of output. */
export function countPromptTokens(request: ModelRequest): number {
  const parts = [request.instructions, ...request.messages.map((message) => JSON.stringify(message))];
  return Math.ceil(parts.join('\n').length / 4);
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export function createOfflineProvider(options: OfflineOptions): ModelProvider {
  const sleep = options.sleep ?? defaultSleep;
  return {
    name: 'offline',
    async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelEvent> {
      const chunks = wordChunks(offlineReply(request));
      const limit = request.maxOutputTokens ?? Number.POSITIVE_INFINITY;
      let sent = 0;
      for (const chunk of chunks) {
        signal.throwIfAborted();
        if (sent >= limit) break;
        if (options.tokenDelayMs > 0) await sleep(options.tokenDelayMs, signal);
        yield { type: 'text', delta: chunk };
        sent += 1;
      }
      yield { type: 'usage', promptTokens: countPromptTokens(request), completionTokens: sent };
      yield { type: 'finish', reason: sent < chunks.length ? 'length' : 'stop' };
    },
  };
}
