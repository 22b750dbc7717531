import { describe, expect, it } from 'vitest';
import {
  contextTokensFor,
  FALLBACK_CONTEXT_TOKENS,
  type FitOptions,
  fitToContext,
} from './context-window.js';
import { approximateTokens, countMessageTokens, tokenCounterFor } from './providers/tokens.js';
import type { ModelMessage } from './providers/types.js';

const auto = { type: 'auto', last_messages: null } as const;

function options(overrides: Partial<FitOptions> = {}): FitOptions {
  return { model: 'gpt-4o', instructions: '', maxPromptTokens: null, truncation: auto, ...overrides };
}

const user = (content: string): ModelMessage => ({ role: 'user', content });
const assistant = (content: string): ModelMessage => ({ role: 'assistant', content });

/** A turn with a tool call: the user asks, the assistant calls, the tool answers, the assistant replies. */
function toolTurn(n: number): ModelMessage[] {
  return [
    user(`question ${n}`),
    {
      role: 'assistant',
      toolCalls: [{ id: `call_${n}`, name: 'run_sql', arguments: '{"query":"select 1"}' }],
    },
    { role: 'tool', toolCallId: `call_${n}`, name: 'run_sql', output: `result ${n} `.repeat(20) },
    assistant(`answer ${n}`),
  ];
}

describe('fitToContext', () => {
  it('keeps everything that fits', () => {
    const messages = [...toolTurn(1), ...toolTurn(2), user('and now?')];
    expect(fitToContext(messages, options())).toEqual(messages);
  });

  it('drops the oldest messages first until the prompt fits the budget', () => {
    const messages = [user('old '.repeat(400)), assistant('old reply'), user('recent question')];
    const kept = fitToContext(messages, options({ contextTokens: 100 }));
    expect(kept).toEqual([assistant('old reply'), user('recent question')]);
  });

  it('applies the smaller of the model budget and max_prompt_tokens', () => {
    const messages = [user('first '.repeat(50)), assistant('reply'), user('second')];
    expect(fitToContext(messages, options({ contextTokens: 10_000, maxPromptTokens: 40 }))).toEqual([
      assistant('reply'),
      user('second'),
    ]);
  });

  it('counts the instructions against the budget', () => {
    const messages = [user('one'), assistant('two'), user('three')];
    const instructions = 'Be helpful. '.repeat(20);
    expect(fitToContext(messages, options({ instructions, contextTokens: 1_000 }))).toHaveLength(3);
    expect(fitToContext(messages, options({ instructions, contextTokens: 70 }))).toEqual([user('three')]);
  });

  it('never separates tool calls from their outputs', () => {
    const messages = [...toolTurn(1), ...toolTurn(2), user('next?')];
    const count = tokenCounterFor('gpt-4o');
    const tail = [...toolTurn(2).slice(1), user('next?')];
    const tailTokens = tail.reduce((sum, message) => sum + countMessageTokens(message, count), 0);
    expect(fitToContext(messages, options({ contextTokens: tailTokens + 3 }))).toEqual(tail);
    expect(fitToContext(messages, options({ contextTokens: tailTokens + 2 }))).toEqual([
      assistant('answer 2'),
      user('next?'),
    ]);
    for (let budget = 10; budget < 500; budget += 7) {
      const cut = fitToContext(messages, options({ contextTokens: budget }));
      expect(cut[0]?.role).not.toBe('tool');
      expect(cut.at(-1)).toEqual(user('next?'));
      for (const id of ['call_1', 'call_2']) {
        const callsKept = cut.some((message) => 'toolCalls' in message && message.toolCalls[0]?.id === id);
        const outputKept = cut.some((message) => message.role === 'tool' && message.toolCallId === id);
        expect(callsKept).toBe(outputKept);
      }
    }
  });

  it('keeps the latest user message and what follows it even when they alone exceed the budget', () => {
    const current = [user('big '.repeat(500)), ...toolTurn(3).slice(1, 3)];
    const kept = fitToContext([...toolTurn(1), ...current], options({ contextTokens: 20 }));
    expect(kept).toEqual(current);
  });

  it('applies last_messages to user and assistant messages, keeping the tool steps between them', () => {
    const messages = [...toolTurn(1), ...toolTurn(2)];
    const kept = fitToContext(messages, options({ truncation: { type: 'last_messages', last_messages: 2 } }));
    expect(kept).toEqual(toolTurn(2));
  });

  it('extends last_messages back to the latest user message', () => {
    const messages = [
      user('q1'),
      assistant('a1'),
      user('q2'),
      assistant('a2 part one'),
      assistant('a2 part two'),
    ];
    const kept = fitToContext(messages, options({ truncation: { type: 'last_messages', last_messages: 1 } }));
    expect(kept).toEqual(messages.slice(2));
  });

  it('applies last_messages before the token budget', () => {
    const messages = [user('a'), assistant('b'), user('c '.repeat(300)), assistant('d'), user('e')];
    const kept = fitToContext(
      messages,
      options({ contextTokens: 50, truncation: { type: 'last_messages', last_messages: 3 } }),
    );
    expect(kept).toEqual([assistant('d'), user('e')]);
  });

  it('counts OpenAI models with their tokenizer and other models by characters', () => {
    const text = 'internationalization '.repeat(30);
    expect(tokenCounterFor('gpt-4o')(text)).toBeLessThan(approximateTokens(text));
    expect(tokenCounterFor('ollama/llama3.1')(text)).toBe(Math.ceil(text.length / 3));
    expect(tokenCounterFor('offline')(text)).toBe(Math.ceil(text.length / 4));
  });
});

describe('contextTokensFor', () => {
  it('uses the configured budget, then the default table, then the fallback', () => {
    expect(contextTokensFor('ollama/llama3.1', { 'ollama/llama3.1': 6_000 })).toBe(6_000);
    expect(contextTokensFor('gpt-4o-2024-08-06')).toBe(112_000);
    expect(contextTokensFor('openai/gpt-4.1-mini')).toBe(1_000_000);
    expect(contextTokensFor('anthropic/claude-sonnet-4-5-20250929')).toBe(180_000);
    expect(contextTokensFor('ollama/llama3.1')).toBe(FALLBACK_CONTEXT_TOKENS);
  });
});
