// The offline model: deterministic, no network. A development and demo model, not an LLM.
import {
  CODE_INTERPRETER,
  estimatedTokens,
  isBuiltinToolType,
  newId,
  offlineEmbedding,
} from '@threadwork/shared';
import { argumentsFor, detectIntents, parseJsonObject, type ToolIntent } from './offline-intents.js';
import { abortableSleep, type Sleep } from './sleep.js';
import type { FinishReason, ModelEvent, ModelMessage, ModelProvider, ModelRequest } from './types.js';

export const OFFLINE_LABEL = '[offline model]';

/** Longest part of a tool output the offline model quotes back. */
const QUOTE_LIMIT = 1500;
/** Passages of a file search the offline model quotes, and the longest part of each it quotes. */
const QUOTED_PASSAGES = 3;
const PASSAGE_LIMIT = 300;
/** show_products accepts at most this many ids. */
const MAX_SHOWN_PRODUCTS = 20;

interface OfflineOptions {
  tokenDelayMs: number;
  sleep?: Sleep;
}

type ToolOutput = Extract<ModelMessage, { role: 'tool' }>;

type OfflineDecision = { type: 'reply'; text: string } | { type: 'tool_calls'; calls: ToolIntent[] };

function lastUserIndex(messages: ModelMessage[]): number {
  return messages.findLastIndex((message) => message.role === 'user');
}

function lastUserText(messages: ModelMessage[]): string {
  const message = messages[lastUserIndex(messages)];
  return message?.role === 'user' ? message.content : '';
}

/** Tool outputs the model has not answered yet: those after the latest user message. */
function pendingToolOutputs(messages: ModelMessage[]): ToolOutput[] {
  return messages
    .slice(lastUserIndex(messages) + 1)
    .filter((message): message is ToolOutput => message.role === 'tool');
}

/** The reply to a plain message, worded deterministically from the request. */
function offlineReply(request: ModelRequest): string {
  const text = lastUserText(request.messages).trim();
  if (text.length === 0) return `${OFFLINE_LABEL} Hello! I am Threadwork's offline model. Ask me anything.`;
  return `${OFFLINE_LABEL} You said: "${text}". I am Threadwork's offline model, so I echo your message instead of thinking about it.`;
}

function productsIn(output: string): Array<{ id: string; name: string }> {
  const parsed = parseJsonObject(output);
  if (!parsed || !Array.isArray(parsed.products)) return [];
  return parsed.products.flatMap((product: unknown) => {
    if (typeof product !== 'object' || product === null) return [];
    const { id, name } = product as { id?: unknown; name?: unknown };
    if (typeof id !== 'string' && typeof id !== 'number') return [];
    return [{ id: String(id), name: typeof name === 'string' ? name : String(id) }];
  });
}

function listWords(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function quote(output: string): string {
  if (output.length <= QUOTE_LIMIT) return output;
  return `${output.slice(0, QUOTE_LIMIT)}… (${output.length - QUOTE_LIMIT} more characters)`;
}

/** A passage quoted from the files, shortened at a word. */
function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= PASSAGE_LIMIT) return flat;
  return `${flat.slice(0, flat.lastIndexOf(' ', PASSAGE_LIMIT))}…`;
}

/** The best passages a file search found, each quoted with the marker that cites it. */
function describeFileSearch(output: string): string | null {
  const parsed = parseJsonObject(output);
  if (!parsed || !Array.isArray(parsed.results)) return null;
  const results = parsed.results.slice(0, QUOTED_PASSAGES).flatMap((result: unknown) => {
    const { content, citation, file_name } = (result ?? {}) as Record<string, unknown>;
    if (typeof content !== 'string' || typeof citation !== 'string') return [];
    return [`- "${excerpt(content)}" (${String(file_name)}) ${citation}`];
  });
  if (results.length === 0) return 'I searched the files and found nothing that matches.';
  return `Here is what the files say:\n${results.join('\n')}`;
}

function describeOutput(output: ToolOutput): string {
  if (output.name === 'file_search') {
    const described = describeFileSearch(output.output);
    if (described) return described;
  }
  if (output.name === CODE_INTERPRETER) return `The code ran. Its output:\n\n${quote(output.output)}`;
  const shown = output.name === 'show_products' ? productsIn(output.output) : [];
  if (shown.length > 0) return `Here are the products: ${listWords(shown.map((product) => product.name))}.`;
  return `The tool ${output.name} returned: ${quote(output.output)}`;
}

/**
 * The answer to tool outputs: each one quoted, except product cards, which are named; a search whose products were
 * then shown is not quoted (the cards answer it).
 */
export function summariseToolOutputs(outputs: ToolOutput[]): string {
  const shown = outputs.some(
    (output) => output.name === 'show_products' && productsIn(output.output).length > 0,
  );
  const answered = shown ? outputs.filter((output) => output.name !== 'search_products') : outputs;
  return `${OFFLINE_LABEL} ${answered.map(describeOutput).join('\n\n')}`;
}

/** After a product search that found something, the next step is to show the products. */
function followUpCall(outputs: ToolOutput[], offered: Set<string>): ToolIntent | null {
  const last = outputs.at(-1);
  if (last?.name !== 'search_products' || !offered.has('show_products')) return null;
  const ids = productsIn(last.output).map((product) => product.id);
  if (ids.length === 0) return null;
  return { name: 'show_products', arguments: { product_ids: ids.slice(0, MAX_SHOWN_PRODUCTS) } };
}

/**
 * With tool_choice auto: a JSON message for the only client function, else what the message clearly asks for,
 * several calls when it asks for several offered things (and parallel calls are allowed).
 */
function autoCalls(text: string, request: ModelRequest, offered: Set<string>): ToolIntent[] {
  const json = parseJsonObject(text.trim());
  const clientFunctions = request.tools.filter(
    (tool) => !isBuiltinToolType(tool.name) && tool.name !== CODE_INTERPRETER,
  );
  const [onlyClientFunction] = clientFunctions;
  if (json && onlyClientFunction && clientFunctions.length === 1)
    return [{ name: onlyClientFunction.name, arguments: json }];
  const intents = detectIntents(text).filter((intent) => offered.has(intent.name));
  return request.parallelToolCalls ? intents : intents.slice(0, 1);
}

/** The code of a fenced ```python block in the message, run verbatim. */
export function pythonBlockIn(text: string): string | null {
  const match = /```(?:python|py)[^\S\n]*\n([\s\S]*?)\n?```/i.exec(text);
  return match?.[1] ?? null;
}

function chooseCalls(request: ModelRequest, offered: Set<string>): ToolIntent[] {
  const text = lastUserText(request.messages);
  const choice = request.toolChoice;
  const python = offered.has(CODE_INTERPRETER) ? pythonBlockIn(text) : null;
  const isForcedCode = typeof choice === 'object' && choice.type === CODE_INTERPRETER;
  if ((isForcedCode && offered.has(CODE_INTERPRETER)) || python !== null)
    return [{ name: CODE_INTERPRETER, arguments: { code: python ?? text } }];
  if (typeof choice === 'object' && choice.type === 'function' && offered.has(choice.function.name)) {
    const name = choice.function.name;
    return [{ name, arguments: parseJsonObject(text.trim()) ?? argumentsFor(name, text) }];
  }
  const calls = autoCalls(text, request, offered);
  const [first] = request.tools;
  if (calls.length > 0 || choice !== 'required' || !first) return calls;
  return [{ name: first.name, arguments: argumentsFor(first.name, text) }];
}

/**
 * What the offline model does with a request. Pending tool outputs are always answered (so a run always ends),
 * except that a product search which found something is followed by show_products; tool_choice 'none' never calls.
 */
export function decideOffline(request: ModelRequest): OfflineDecision {
  const offered = new Set(request.tools.map((tool) => tool.name));
  const mayCall = request.toolChoice !== 'none' && offered.size > 0;
  const outputs = pendingToolOutputs(request.messages);
  const followUp = mayCall && outputs.length > 0 ? followUpCall(outputs, offered) : null;
  const calls = followUp ? [followUp] : mayCall && outputs.length === 0 ? chooseCalls(request, offered) : [];
  if (calls.length > 0) return { type: 'tool_calls', calls };
  if (outputs.length > 0) return { type: 'reply', text: summariseToolOutputs(outputs) };
  return { type: 'reply', text: offlineReply(request) };
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

/** Splits a call's JSON arguments into a few pieces that concatenate back to them, as a model streams them. */
export function argumentPieces(json: string): string[] {
  return json.match(/[^,:]*[,:]?/g)?.filter((piece) => piece.length > 0) ?? [json];
}

/** A whole tool call as the offline model streams it: its start, its arguments in pieces, then the call. */
function callEvents(call: ToolIntent, index: number): ModelEvent[] {
  const streamed = { id: newId('call'), name: call.name, arguments: JSON.stringify(call.arguments) };
  return [
    { type: 'tool_call_started', index, id: streamed.id, name: streamed.name },
    ...argumentPieces(streamed.arguments).map(
      (delta): ModelEvent => ({ type: 'tool_call_arguments', index, delta }),
    ),
    { type: 'tool_call', call: streamed },
  ];
}

/**
 * The events a decision streams, grouped by output chunk (a word of text, or one whole tool call), and the finish
 * reason if all of them are sent.
 */
function plan(decision: OfflineDecision): { chunks: ModelEvent[][]; finish: FinishReason } {
  if (decision.type === 'reply') {
    return { chunks: wordChunks(decision.text).map((delta) => [{ type: 'text', delta }]), finish: 'stop' };
  }
  return { chunks: decision.calls.map(callEvents), finish: 'tool_calls' };
}

export function createOfflineProvider(options: OfflineOptions): ModelProvider {
  const sleep = options.sleep ?? abortableSleep;
  return {
    name: 'offline',
    async embed(_model, texts) {
      return { vectors: texts.map(offlineEmbedding), promptTokens: estimatedTokens(texts) };
    },
    async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelEvent> {
      const { chunks, finish } = plan(decideOffline(request));
      const limit = request.maxOutputTokens ?? Number.POSITIVE_INFINITY;
      let sent = 0;
      for (const chunk of chunks) {
        signal.throwIfAborted();
        if (sent >= limit) break;
        if (options.tokenDelayMs > 0) await sleep(options.tokenDelayMs, signal);
        yield* chunk;
        sent += 1;
      }
      yield { type: 'usage', promptTokens: countPromptTokens(request), completionTokens: sent };
      yield { type: 'finish', reason: sent < chunks.length ? 'length' : finish };
    },
  };
}
