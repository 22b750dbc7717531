import type { MessageRow, RunRow, RunStepRow } from '@threadwork/shared';
import { runRow } from '@threadwork/testing';
import { describe, expect, it } from 'vitest';
import {
  buildModelRequest,
  exceedsPromptLimit,
  messageText,
  modelToolChoice,
  toModelMessages,
} from './model-input.js';

const at = new Date('2026-01-01T00:00:00Z');

function message(
  id: string,
  role: 'user' | 'assistant',
  text: string,
  status: MessageRow['status'] = 'completed',
): MessageRow {
  return {
    id,
    threadId: 'thread_t',
    role,
    content: [{ type: 'text', text: { value: text, annotations: [] } }],
    status,
    assistantId: null,
    runId: null,
    attachments: [],
    metadata: {},
    incompleteDetails: null,
    createdAt: at,
    completedAt: at,
    incompleteAt: null,
  };
}

function toolStep(id: string, output: string | null): RunStepRow {
  return {
    id,
    runId: 'run_r',
    threadId: 'thread_t',
    assistantId: 'asst_a',
    type: 'tool_calls',
    status: 'completed',
    stepDetails: {
      type: 'tool_calls',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}', output } }],
    },
    lastError: null,
    usage: null,
    createdAt: at,
    expiredAt: null,
    cancelledAt: null,
    failedAt: null,
    completedAt: at,
  };
}

function run(overrides: Partial<RunRow> = {}): RunRow {
  return runRow({
    id: 'run_r',
    threadId: 'thread_t',
    ownerId: 'key_k',
    assistantId: 'asst_a',
    instructions: 'Be brief.',
    tools: [{ type: 'function', function: { name: 'lookup' } }],
    temperature: 0.5,
    createdAt: at,
    startedAt: at,
    ...overrides,
  });
}

const history = [
  message('msg_1', 'user', 'u1'),
  message('msg_2', 'assistant', 'a1'),
  message('msg_3', 'user', 'u2'),
  message('msg_4', 'assistant', 'a2'),
  message('msg_5', 'user', 'u3'),
];

describe('toModelMessages', () => {
  it('interleaves messages and this run’s tool calls by id, leaving out messages still being written', () => {
    const messages = [...history.slice(0, 3), message('msg_9', 'assistant', 'half', 'in_progress')];
    expect(toModelMessages(messages, [toolStep('step_4', 'found')])).toEqual([
      { role: 'user', content: 'u1' },
      { role: 'assistant', content: 'a1' },
      { role: 'user', content: 'u2' },
      { role: 'assistant', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'call_1', name: 'lookup', output: 'found' },
    ]);
  });
});

describe('toModelMessages for runs that waited their turn', () => {
  const ofRun = (row: MessageRow, runId: string) => ({ ...row, runId });
  // Two messages sent back to back: both are stored before the first run answers.
  const sent = [
    message('msg_1', 'user', 'first'),
    message('msg_3', 'user', 'second'),
    ofRun(message('msg_5', 'assistant', 'answer to first'), 'run_a'),
  ];
  const turnOf = new Map([
    ['run_a', 'msg_2'],
    ['run_b', 'msg_4'],
  ]);

  it('places an earlier run’s answer after the message it answered, before the next one', () => {
    expect(toModelMessages(sent, [], turnOf)).toEqual([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'answer to first' },
      { role: 'user', content: 'second' },
    ]);
  });

  it('places the run’s own tool steps after its own message, interleaved with its answers by time', () => {
    const own = [...sent, ofRun(message('msg_6', 'assistant', 'looking'), 'run_b')];
    const step = { ...toolStep('step_7', 'found'), runId: 'run_b' };
    expect(toModelMessages(own, [step], turnOf).map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'assistant',
      'tool',
    ]);
  });
});

describe('buildModelRequest', () => {
  it('sends the whole thread and the run settings with the auto strategy', () => {
    const request = buildModelRequest(run(), toModelMessages(history, []), 'offline');
    expect(request.messages.map((m) => ('content' in m ? m.content : ''))).toEqual([
      'u1',
      'a1',
      'u2',
      'a2',
      'u3',
    ]);
    expect(request).toMatchObject({
      model: 'offline',
      instructions: 'Be brief.',
      tools: [{ name: 'lookup' }],
      toolChoice: 'auto',
      parallelToolCalls: true,
      temperature: 0.5,
      maxOutputTokens: null,
    });
  });

  it('keeps only the last messages that truncation_strategy asks for', () => {
    const cut = run({ truncationStrategy: { type: 'last_messages', last_messages: 2 } });
    const request = buildModelRequest(cut, toModelMessages(history, []), 'offline');
    expect(request.messages).toEqual([
      { role: 'assistant', content: 'a2' },
      { role: 'user', content: 'u3' },
    ]);
  });

  it('drops the oldest messages to fit the model’s context budget (MODEL_CONTEXT_TOKENS)', () => {
    const long = history.map((row) => ({
      ...row,
      content: [
        { type: 'text' as const, text: { value: `${messageText(row)} ${'x'.repeat(400)}`, annotations: [] } },
      ],
    }));
    const request = buildModelRequest(run(), toModelMessages(long, []), 'offline', { offline: 250 });
    expect(request.messages.length).toBeLessThan(5);
    expect(request.messages.at(-1)).toMatchObject({ role: 'user' });
  });

  it('asks for what is left of max_completion_tokens', () => {
    const limited = run({
      maxCompletionTokens: 300,
      usage: { prompt_tokens: 10, completion_tokens: 120, total_tokens: 130 },
    });
    expect(buildModelRequest(limited, [], 'offline').maxOutputTokens).toBe(180);
  });
});

describe('exceedsPromptLimit', () => {
  it('is true only when the cut prompt is still over max_prompt_tokens', () => {
    const big = [message('msg_1', 'user', 'y'.repeat(2000))];
    const limited = run({ maxPromptTokens: 256 });
    expect(exceedsPromptLimit(limited, buildModelRequest(limited, toModelMessages(big, []), 'offline'))).toBe(
      true,
    );
    const small = toModelMessages(history, []);
    expect(exceedsPromptLimit(limited, buildModelRequest(limited, small, 'offline'))).toBe(false);
    expect(exceedsPromptLimit(run(), buildModelRequest(run(), toModelMessages(big, []), 'offline'))).toBe(
      false,
    );
  });
});

describe('modelToolChoice', () => {
  const asked = [{ role: 'user' as const, content: 'How long does delivery take?' }];

  it('forces the file_search function until the search has answered, then lets the model answer', () => {
    expect(modelToolChoice({ type: 'file_search' }, asked)).toEqual({
      type: 'function',
      function: { name: 'file_search' },
    });
    const searched = [
      ...asked,
      { role: 'assistant' as const, toolCalls: [{ id: 'call_1', name: 'file_search', arguments: '{}' }] },
      { role: 'tool' as const, toolCallId: 'call_1', name: 'file_search', output: '{"results":[]}' },
    ];
    expect(modelToolChoice({ type: 'file_search' }, searched)).toBe('auto');
  });

  it('passes every other choice as it is', () => {
    expect(modelToolChoice('required', asked)).toBe('required');
    const fn = { type: 'function' as const, function: { name: 'lookup' } };
    expect(modelToolChoice(fn, asked)).toBe(fn);
  });
});
