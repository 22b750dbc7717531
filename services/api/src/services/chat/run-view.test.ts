import type { MessageRow, RunRow, RunStepRow } from '@threadwork/shared';
import { runRow } from '@threadwork/testing';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../repositories/cursor.js';
import { toChatView } from './run-view.js';

const created = new Date('2026-01-01T00:00:00.000Z');

function run(patch: Partial<RunRow> = {}): RunRow {
  return runRow({
    status: 'completed',
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    createdAt: created,
    startedAt: created,
    completedAt: new Date(created.getTime() + 1234),
    ...patch,
  });
}

function message(id: string, text: string, status: MessageRow['status'] = 'completed'): MessageRow {
  return {
    id,
    threadId: 'thread_1',
    role: 'assistant',
    content: [{ type: 'text', text: { value: text, annotations: [] } }],
    status,
    assistantId: 'asst_1',
    runId: 'run_1',
    attachments: [],
    metadata: {},
    incompleteDetails: null,
    createdAt: created,
    completedAt: created,
    incompleteAt: null,
  };
}

function toolStep(calls: { name: string; output: string | null }[]): RunStepRow {
  return {
    id: 'step_1',
    runId: 'run_1',
    threadId: 'thread_1',
    assistantId: 'asst_1',
    type: 'tool_calls',
    status: 'completed',
    stepDetails: {
      type: 'tool_calls',
      tool_calls: calls.map((call, index) => ({
        id: `call_${index}`,
        type: 'function',
        function: { name: call.name, arguments: '{}', output: call.output },
      })),
    },
    lastError: null,
    usage: null,
    createdAt: created,
    expiredAt: null,
    cancelledAt: null,
    failedAt: null,
    completedAt: created,
  };
}

const card = { id: 'p1', name: 'Dog food', price: 3, currency: 'EUR', image_url: null, url: null };

describe('toChatView', () => {
  it('joins the written assistant messages and points feedback at the last one', () => {
    const view = toChatView({
      run: run(),
      messages: [
        message('msg_1', 'Let me look.'),
        message('msg_2', 'Found it.'),
        message('msg_3', '', 'in_progress'),
      ],
      toolSteps: [],
      costUsd: 0.5,
      modelUsed: null,
    });
    expect(view).toMatchObject({
      status: 'completed',
      response: 'Let me look.\n\nFound it.',
      message_id: 'msg_2',
      tokens_used: 15,
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      cost_estimate: 0.5,
      response_time_ms: 1234,
    });
  });

  it('answers the cards of successful show_products calls only, and every call with its output', () => {
    const view = toChatView({
      run: run(),
      messages: [],
      toolSteps: [
        toolStep([
          { name: 'search_products', output: JSON.stringify({ products: [card] }) },
          { name: 'show_products', output: JSON.stringify({ products: [card] }) },
          { name: 'show_products', output: 'Error: rate limited' },
          { name: 'show_products', output: null },
        ]),
      ],
      costUsd: null,
      modelUsed: null,
    });
    expect(view.products).toEqual([card]);
    expect(view.tool_calls.map((call) => [call.name, call.output === null])).toEqual([
      ['search_products', false],
      ['show_products', false],
      ['show_products', false],
      ['show_products', true],
    ]);
    expect(view.response).toBeNull();
  });

  it('has no response time while the run is going', () => {
    const view = toChatView({
      run: run({ status: 'in_progress', completedAt: null, usage: null }),
      messages: [],
      toolSteps: [],
      costUsd: null,
      modelUsed: null,
    });
    expect(view).toMatchObject({
      status: 'in_progress',
      response_time_ms: null,
      tokens_used: null,
      usage: null,
      message_id: null,
    });
  });
});

describe('list cursors', () => {
  it('round-trip a position and refuse anything else', () => {
    const at = new Date('2026-02-03T04:05:06.789Z');
    expect(decodeCursor(encodeCursor(at, 'thread_x'))).toEqual({ at, id: 'thread_x' });
    expect(() => decodeCursor('nonsense')).toThrow(/cursor/);
    expect(() => decodeCursor(Buffer.from('[1,2]').toString('base64url'))).toThrow(/cursor/);
  });
});
