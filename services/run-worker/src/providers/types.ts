// The contract every model provider meets: a streaming call that yields text, tool calls, usage and a finish reason.
import type { Embeddings, FunctionDefinition, ResponseFormat, ToolChoice } from '@threadwork/shared';

export interface ModelToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ModelMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string }
  | { role: 'assistant'; toolCalls: ModelToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; output: string };

export interface ModelRequest {
  model: string;
  instructions: string;
  messages: ModelMessage[];
  tools: FunctionDefinition[];
  toolChoice: ToolChoice;
  parallelToolCalls: boolean;
  temperature: number | null;
  topP: number | null;
  maxOutputTokens: number | null;
  responseFormat: ResponseFormat;
}

export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter';

export type ModelEvent =
  | { type: 'text'; delta: string }
  /**
   * A tool call begins (`index` tells the turn's calls apart); its arguments follow in pieces, and the whole call
   * comes last as `tool_call` (with the same id). A provider that does not stream calls sends only `tool_call`.
   */
  | { type: 'tool_call_started'; index: number; id: string; name: string }
  | { type: 'tool_call_arguments'; index: number; delta: string }
  | { type: 'tool_call'; call: ModelToolCall }
  /** promptTokens includes the cache reads and writes, where the provider reports them. */
  | {
      type: 'usage';
      promptTokens: number;
      completionTokens: number;
      cacheReadTokens?: number;
      cacheWriteTokens?: number;
    }
  | { type: 'finish'; reason: FinishReason }
  /** MODEL_FALLBACKS: `from` failed before any output, and `to` (a model name as a run gives it) answers instead. */
  | { type: 'failover'; from: string; to: string; reason: string };

export interface ModelProvider {
  readonly name: string;
  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelEvent>;
  /** Present on providers that serve embedding models (OpenAI-compatible servers and the offline model). */
  embed?(model: string, texts: string[], signal: AbortSignal): Promise<Embeddings>;
}

/** Whether the event is output the run's clients may already have been sent (no retry or failover after it). */
export function isModelOutput(event: ModelEvent): boolean {
  switch (event.type) {
    case 'text':
    case 'tool_call_started':
    case 'tool_call_arguments':
    case 'tool_call':
      return true;
    case 'usage':
    case 'finish':
    case 'failover':
      return false;
  }
}

export type ProviderErrorCode = 'rate_limit_exceeded' | 'server_error' | 'invalid_prompt';

/** A provider failure the run reports as its `last_error`. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    /** Whether the failure was of a kind worth trying again (a fallback model may then answer instead). */
    readonly isRetryable = false,
  ) {
    super(message);
  }
}
