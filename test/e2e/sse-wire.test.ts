// The Assistants SSE wire format, pinned byte for byte over raw HTTP (ids and timestamps normalised): the frames
// the official SDK's AssistantStream parses, in OpenAI's order, for a text answer, a function call and its outputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { ASSISTANTS_TEST_ENV } from './assistants-helpers.js';

let stack: Stack;
let key: string;

beforeAll(async () => {
  // One delta event per streamed word, so the pinned bytes do not depend on how fast Redis answers.
  stack = await startStack({ ...ASSISTANTS_TEST_ENV, COALESCE_DELTAS: 'false' });
  key = (await stack.newUser('wire')).key;
});

afterAll(async () => {
  await stack?.close();
});

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${stack.baseURL}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify(body),
  });
}

async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await post(path, body);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

/** Ids become `<prefix>_<n>` in order of first appearance, and every `*_at` timestamp becomes 0. */
function normalise(body: string, seen = new Map<string, string>()): string {
  return body
    .replace(/\b(asst|thread|run|msg|step|call)_[0-9A-Za-z]{24}\b/g, (id, prefix: string) => {
      const known = seen.get(id);
      if (known) return known;
      const count = [...seen.values()].filter((value) => value.startsWith(`${prefix}_`)).length;
      const alias = `${prefix}_${count + 1}`;
      seen.set(id, alias);
      return alias;
    })
    .replace(/"(\w+_at)":\d+/g, '"$1":0');
}

function expectSseHeaders(response: Response): void {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
  expect(response.headers.get('x-accel-buffering')).toBe('no');
}

describe('Assistants SSE on the wire', () => {
  it('streams a short text run byte for byte', async () => {
    const assistant = await postJson<{ id: string }>('/assistants', { model: 'offline' });
    const thread = await postJson<{ id: string }>('/threads', {
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const response = await post(`/threads/${thread.id}/runs`, { assistant_id: assistant.id, stream: true });
    expectSseHeaders(response);
    const seen = new Map([
      [assistant.id, 'asst_1'],
      [thread.id, 'thread_1'],
    ]);
    expect(normalise(await response.text(), seen)).toBe(TEXT_RUN);
  });

  it('streams a function call, then the submitted outputs and the answer, byte for byte', async () => {
    const assistant = await postJson<{ id: string }>('/assistants', {
      model: 'offline',
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
    });
    const thread = await postJson<{ id: string }>('/threads', {
      messages: [{ role: 'user', content: '{"q":"tea"}' }],
    });
    const seen = new Map([
      [assistant.id, 'asst_1'],
      [thread.id, 'thread_1'],
    ]);
    const first = await post(`/threads/${thread.id}/runs`, {
      assistant_id: assistant.id,
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      stream: true,
    });
    expectSseHeaders(first);
    const calling = await first.text();
    expect(normalise(calling, seen)).toBe(TOOL_CALL);
    const runId = [...seen].find(([, alias]) => alias === 'run_1')?.[0];
    const callId = [...seen].find(([, alias]) => alias === 'call_1')?.[0];
    const second = await post(`/threads/${thread.id}/runs/${runId}/submit_tool_outputs`, {
      tool_outputs: [{ tool_call_id: callId, output: 'green' }],
      stream: true,
    });
    expectSseHeaders(second);
    expect(normalise(await second.text(), seen)).toBe(TOOL_OUTPUTS);
  });

  it('answers a stream request that fails validation with a JSON error, not SSE', async () => {
    const thread = await postJson<{ id: string }>('/threads', {});
    const response = await post(`/threads/${thread.id}/runs`, { assistant_id: 'asst_missing', stream: true });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({
      error: {
        message: "No assistant found with id 'asst_missing'.",
        type: 'invalid_request_error',
        param: 'assistant_id',
        code: null,
      },
    });
  });
});

const TEXT_RUN = String.raw`event: thread.run.created
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"queued","required_action":null,"last_error":null,"expires_at":0,"started_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"incomplete_details":null,"model":"offline","instructions":"","tools":[],"metadata":{},"usage":null,"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":"auto","parallel_tool_calls":true,"response_format":"auto"}

event: thread.run.queued
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"queued","required_action":null,"last_error":null,"expires_at":0,"started_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"incomplete_details":null,"model":"offline","instructions":"","tools":[],"metadata":{},"usage":null,"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":"auto","parallel_tool_calls":true,"response_format":"auto"}

event: thread.run.in_progress
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"in_progress","required_action":null,"last_error":null,"expires_at":0,"started_at":0,"cancelled_at":null,"failed_at":null,"completed_at":null,"incomplete_details":null,"model":"offline","instructions":"","tools":[],"metadata":{},"usage":null,"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":"auto","parallel_tool_calls":true,"response_format":"auto"}

event: thread.run.step.created
data: {"id":"step_1","object":"thread.run.step","created_at":0,"assistant_id":"asst_1","thread_id":"thread_1","run_id":"run_1","type":"message_creation","status":"in_progress","step_details":{"type":"message_creation","message_creation":{"message_id":"msg_1"}},"last_error":null,"expired_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"metadata":{},"usage":null}

event: thread.run.step.in_progress
data: {"id":"step_1","object":"thread.run.step","created_at":0,"assistant_id":"asst_1","thread_id":"thread_1","run_id":"run_1","type":"message_creation","status":"in_progress","step_details":{"type":"message_creation","message_creation":{"message_id":"msg_1"}},"last_error":null,"expired_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"metadata":{},"usage":null}

event: thread.message.created
data: {"id":"msg_1","object":"thread.message","created_at":0,"thread_id":"thread_1","status":"in_progress","incomplete_details":null,"completed_at":null,"incomplete_at":null,"role":"assistant","content":[],"assistant_id":"asst_1","run_id":"run_1","attachments":[],"metadata":{}}

event: thread.message.in_progress
data: {"id":"msg_1","object":"thread.message","created_at":0,"thread_id":"thread_1","status":"in_progress","incomplete_details":null,"completed_at":null,"incomplete_at":null,"role":"assistant","content":[],"assistant_id":"asst_1","run_id":"run_1","attachments":[],"metadata":{}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":"[offline","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" model]","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" You","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" said:","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" \"Hi\".","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" I","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" am","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" Threadwork's","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" offline","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" model,","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" so","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" I","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" echo","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" your","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" message","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" instead","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" of","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" thinking","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" about","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" it.","annotations":[]}}]}}

event: thread.message.completed
data: {"id":"msg_1","object":"thread.message","created_at":0,"thread_id":"thread_1","status":"completed","incomplete_details":null,"completed_at":0,"incomplete_at":null,"role":"assistant","content":[{"type":"text","text":{"value":"[offline model] You said: \"Hi\". I am Threadwork's offline model, so I echo your message instead of thinking about it.","annotations":[]}}],"assistant_id":"asst_1","run_id":"run_1","attachments":[],"metadata":{}}

event: thread.run.step.completed
data: {"id":"step_1","object":"thread.run.step","created_at":0,"assistant_id":"asst_1","thread_id":"thread_1","run_id":"run_1","type":"message_creation","status":"completed","step_details":{"type":"message_creation","message_creation":{"message_id":"msg_1"}},"last_error":null,"expired_at":null,"cancelled_at":null,"failed_at":null,"completed_at":0,"metadata":{},"usage":{"prompt_tokens":8,"completion_tokens":20,"total_tokens":28}}

event: thread.run.completed
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"completed","required_action":null,"last_error":null,"expires_at":null,"started_at":0,"cancelled_at":null,"failed_at":null,"completed_at":0,"incomplete_details":null,"model":"offline","instructions":"","tools":[],"metadata":{},"usage":{"prompt_tokens":8,"completion_tokens":20,"total_tokens":28},"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":"auto","parallel_tool_calls":true,"response_format":"auto"}

event: done
data: [DONE]

`;

const TOOL_CALL = String.raw`event: thread.run.created
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"queued","required_action":null,"last_error":null,"expires_at":0,"started_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"incomplete_details":null,"model":"offline","instructions":"","tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],"metadata":{},"usage":null,"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":{"type":"function","function":{"name":"lookup"}},"parallel_tool_calls":true,"response_format":"auto"}

event: thread.run.queued
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"queued","required_action":null,"last_error":null,"expires_at":0,"started_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"incomplete_details":null,"model":"offline","instructions":"","tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],"metadata":{},"usage":null,"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":{"type":"function","function":{"name":"lookup"}},"parallel_tool_calls":true,"response_format":"auto"}

event: thread.run.in_progress
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"in_progress","required_action":null,"last_error":null,"expires_at":0,"started_at":0,"cancelled_at":null,"failed_at":null,"completed_at":null,"incomplete_details":null,"model":"offline","instructions":"","tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],"metadata":{},"usage":null,"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":{"type":"function","function":{"name":"lookup"}},"parallel_tool_calls":true,"response_format":"auto"}

event: thread.run.step.created
data: {"id":"step_1","object":"thread.run.step","created_at":0,"assistant_id":"asst_1","thread_id":"thread_1","run_id":"run_1","type":"tool_calls","status":"in_progress","step_details":{"type":"tool_calls","tool_calls":[]},"last_error":null,"expired_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"metadata":{},"usage":null}

event: thread.run.step.in_progress
data: {"id":"step_1","object":"thread.run.step","created_at":0,"assistant_id":"asst_1","thread_id":"thread_1","run_id":"run_1","type":"tool_calls","status":"in_progress","step_details":{"type":"tool_calls","tool_calls":[]},"last_error":null,"expired_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"metadata":{},"usage":null}

event: thread.run.step.delta
data: {"id":"step_1","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"","output":null}}]}}}

event: thread.run.step.delta
data: {"id":"step_1","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls","tool_calls":[{"index":0,"type":"function","function":{"arguments":"{\"q\":"}}]}}}

event: thread.run.step.delta
data: {"id":"step_1","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls","tool_calls":[{"index":0,"type":"function","function":{"arguments":"\"tea\"}"}}]}}}

event: thread.run.requires_action
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"requires_action","required_action":{"type":"submit_tool_outputs","submit_tool_outputs":{"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"tea\"}"}}]}},"last_error":null,"expires_at":0,"started_at":0,"cancelled_at":null,"failed_at":null,"completed_at":null,"incomplete_details":null,"model":"offline","instructions":"","tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],"metadata":{},"usage":{"prompt_tokens":11,"completion_tokens":1,"total_tokens":12},"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":{"type":"function","function":{"name":"lookup"}},"parallel_tool_calls":true,"response_format":"auto"}

event: done
data: [DONE]

`;

const TOOL_OUTPUTS = String.raw`event: thread.run.step.completed
data: {"id":"step_1","object":"thread.run.step","created_at":0,"assistant_id":"asst_1","thread_id":"thread_1","run_id":"run_1","type":"tool_calls","status":"completed","step_details":{"type":"tool_calls","tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"tea\"}","output":"green"}}]},"last_error":null,"expired_at":null,"cancelled_at":null,"failed_at":null,"completed_at":0,"metadata":{},"usage":{"prompt_tokens":11,"completion_tokens":1,"total_tokens":12}}

event: thread.run.queued
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"queued","required_action":null,"last_error":null,"expires_at":0,"started_at":0,"cancelled_at":null,"failed_at":null,"completed_at":null,"incomplete_details":null,"model":"offline","instructions":"","tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],"metadata":{},"usage":{"prompt_tokens":11,"completion_tokens":1,"total_tokens":12},"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":{"type":"function","function":{"name":"lookup"}},"parallel_tool_calls":true,"response_format":"auto"}

event: thread.run.in_progress
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"in_progress","required_action":null,"last_error":null,"expires_at":0,"started_at":0,"cancelled_at":null,"failed_at":null,"completed_at":null,"incomplete_details":null,"model":"offline","instructions":"","tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],"metadata":{},"usage":{"prompt_tokens":11,"completion_tokens":1,"total_tokens":12},"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":{"type":"function","function":{"name":"lookup"}},"parallel_tool_calls":true,"response_format":"auto"}

event: thread.run.step.created
data: {"id":"step_2","object":"thread.run.step","created_at":0,"assistant_id":"asst_1","thread_id":"thread_1","run_id":"run_1","type":"message_creation","status":"in_progress","step_details":{"type":"message_creation","message_creation":{"message_id":"msg_1"}},"last_error":null,"expired_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"metadata":{},"usage":null}

event: thread.run.step.in_progress
data: {"id":"step_2","object":"thread.run.step","created_at":0,"assistant_id":"asst_1","thread_id":"thread_1","run_id":"run_1","type":"message_creation","status":"in_progress","step_details":{"type":"message_creation","message_creation":{"message_id":"msg_1"}},"last_error":null,"expired_at":null,"cancelled_at":null,"failed_at":null,"completed_at":null,"metadata":{},"usage":null}

event: thread.message.created
data: {"id":"msg_1","object":"thread.message","created_at":0,"thread_id":"thread_1","status":"in_progress","incomplete_details":null,"completed_at":null,"incomplete_at":null,"role":"assistant","content":[],"assistant_id":"asst_1","run_id":"run_1","attachments":[],"metadata":{}}

event: thread.message.in_progress
data: {"id":"msg_1","object":"thread.message","created_at":0,"thread_id":"thread_1","status":"in_progress","incomplete_details":null,"completed_at":null,"incomplete_at":null,"role":"assistant","content":[],"assistant_id":"asst_1","run_id":"run_1","attachments":[],"metadata":{}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":"[offline","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" model]","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" The","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" tool","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" lookup","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" returned:","annotations":[]}}]}}

event: thread.message.delta
data: {"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":" green","annotations":[]}}]}}

event: thread.message.completed
data: {"id":"msg_1","object":"thread.message","created_at":0,"thread_id":"thread_1","status":"completed","incomplete_details":null,"completed_at":0,"incomplete_at":null,"role":"assistant","content":[{"type":"text","text":{"value":"[offline model] The tool lookup returned: green","annotations":[]}}],"assistant_id":"asst_1","run_id":"run_1","attachments":[],"metadata":{}}

event: thread.run.step.completed
data: {"id":"step_2","object":"thread.run.step","created_at":0,"assistant_id":"asst_1","thread_id":"thread_1","run_id":"run_1","type":"message_creation","status":"completed","step_details":{"type":"message_creation","message_creation":{"message_id":"msg_1"}},"last_error":null,"expired_at":null,"cancelled_at":null,"failed_at":null,"completed_at":0,"metadata":{},"usage":{"prompt_tokens":65,"completion_tokens":7,"total_tokens":72}}

event: thread.run.completed
data: {"id":"run_1","object":"thread.run","created_at":0,"thread_id":"thread_1","assistant_id":"asst_1","status":"completed","required_action":null,"last_error":null,"expires_at":null,"started_at":0,"cancelled_at":null,"failed_at":null,"completed_at":0,"incomplete_details":null,"model":"offline","instructions":"","tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],"metadata":{},"usage":{"prompt_tokens":76,"completion_tokens":8,"total_tokens":84},"temperature":1,"top_p":1,"max_prompt_tokens":null,"max_completion_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"tool_choice":{"type":"function","function":{"name":"lookup"}},"parallel_tool_calls":true,"response_format":"auto"}

event: done
data: [DONE]

`;
