import { describe, expect, it } from 'vitest';
import { chatCompletionRequestSchema } from '../schemas/gateway.js';
import { toModelRequest } from './gateway.js';

function parse(body: unknown) {
  return chatCompletionRequestSchema.parse(body);
}

describe('toModelRequest', () => {
  it('joins system and developer messages into the instructions, and keeps the conversation in order', () => {
    const request = toModelRequest(
      parse({
        model: 'anthropic/claude-sonnet-4-5',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather ' },
              { type: 'text', text: 'in Paris?' },
            ],
          },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              {
                id: 'c1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        ],
      }),
      'claude-sonnet-4-5',
    );
    expect(request.model).toBe('claude-sonnet-4-5');
    expect(request.instructions).toBe('Be brief.\n\nAnswer in English.');
    expect(request.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Checking.' },
      { role: 'assistant', toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      { role: 'tool', toolCallId: 'c1', name: 'get_weather', output: 'sunny' },
    ]);
  });

  it('maps tools, tool choice, sampling and the output limit, with the Chat Completions defaults', () => {
    const tool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } };
    const mapped = toModelRequest(
      parse({
        model: 'offline',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [tool],
        tool_choice: { type: 'function', function: { name: 'get_time' } },
        parallel_tool_calls: false,
        temperature: 0.5,
        max_tokens: 10,
        max_completion_tokens: 20,
      }),
      'offline',
    );
    expect(mapped).toMatchObject({
      tools: [{ name: 'get_time', parameters: { type: 'object' } }],
      toolChoice: { type: 'function', function: { name: 'get_time' } },
      parallelToolCalls: false,
      temperature: 0.5,
      topP: null,
      maxOutputTokens: 20,
      responseFormat: 'auto',
    });
    const plain = toModelRequest(
      parse({ model: 'offline', messages: [{ role: 'user', content: 'hi' }] }),
      'offline',
    );
    expect(plain).toMatchObject({
      tools: [],
      toolChoice: 'auto',
      parallelToolCalls: true,
      maxOutputTokens: null,
    });
  });
});
