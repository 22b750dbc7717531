// Runs through the official SDK: polling and streaming helpers, run settings as the model receives them, function
// tools (single and parallel) with submit_tool_outputs, create-thread-and-run, token limits, and run errors.
import OpenAI from 'openai';
import type { AssistantStreamEvent } from 'openai/resources/beta/assistants';
import type { RunStep } from 'openai/resources/beta/threads/runs/steps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type OpenAITestServer,
  startOpenAIServer,
  textReply,
  toolCallsReply,
} from '../../services/run-worker/test/support/openai-server.js';
import { type Stack, startStack } from '../support/stack.js';
import {
  ASSISTANTS_TEST_ENV,
  expectApiError,
  expectKeys,
  MESSAGE_KEYS,
  RUN_KEYS,
  STEP_KEYS,
  textOf,
  waitForRunStatus,
} from './assistants-helpers.js';

/** The scripted model server's models are `scripted/<anything>`; it records every request it gets. */
const SCRIPTED = 'scripted/recorder';

let stack: Stack;
let model: OpenAITestServer;
let alice: OpenAI;
let bob: OpenAI;

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};
const forceWeather = { type: 'function' as const, function: { name: 'get_weather' } };

beforeAll(async () => {
  model = await startOpenAIServer();
  stack = await startStack({ ...ASSISTANTS_TEST_ENV, MODEL_PROVIDERS: `scripted=${model.url}` });
  alice = (await stack.newUser('alice')).client;
  bob = (await stack.newUser('bob')).client;
});

afterAll(async () => {
  await stack?.close();
  await model?.close();
});

/** The last request the scripted model received, as Chat Completions parameters. */
function lastModelRequest(): { messages: Array<Record<string, unknown>> } & Record<string, unknown> {
  const request = model.requests.at(-1);
  if (!request) throw new Error('the scripted model got no request');
  return request.body as { messages: Array<Record<string, unknown>> } & Record<string, unknown>;
}

function eventNames(events: AssistantStreamEvent[]): string[] {
  return events.map((event) => event.event).filter((name) => name !== 'thread.message.delta');
}

describe('polling and streaming a plain answer', () => {
  it('streams with textDelta assembling exactly the final message, in OpenAI event order', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const thread = await alice.beta.threads.create({
      messages: [{ role: 'user', content: 'Stream this, please' }],
    });
    const events: AssistantStreamEvent[] = [];
    let streamed = '';
    const stream = alice.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('event', (event) => events.push(event))
      .on('textDelta', (delta) => {
        streamed += delta.value ?? '';
      });
    const run = await stream.finalRun();
    expect(run.status).toBe('completed');
    const [message] = await stream.finalMessages();
    expect(streamed).toBe(textOf(message));
    expect(streamed).toContain('Stream this, please');
    expect(eventNames(events)).toEqual([
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.message.created',
      'thread.message.in_progress',
      'thread.message.completed',
      'thread.run.step.completed',
      'thread.run.completed',
    ]);
    // Deltas that arrive while one is being published are joined (COALESCE_DELTAS), so their count varies.
    expect(events.filter((event) => event.event === 'thread.message.delta').length).toBeGreaterThan(0);
    const stored = await alice.beta.threads.messages.retrieve(message?.id ?? '', { thread_id: thread.id });
    expect(textOf(stored)).toBe(streamed);
  });

  it('completes with createAndPoll; run, message and step carry every field and link to each other', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline', instructions: 'Be nice.' });
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'poll me' }] });
    const run = await alice.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistant.id,
      metadata: { job: '1' },
    });
    expectKeys(run, RUN_KEYS);
    expect(run).toMatchObject({
      object: 'thread.run',
      thread_id: thread.id,
      assistant_id: assistant.id,
      status: 'completed',
      required_action: null,
      last_error: null,
      expires_at: null,
      cancelled_at: null,
      failed_at: null,
      incomplete_details: null,
      model: 'offline',
      instructions: 'Be nice.',
      metadata: { job: '1' },
      max_prompt_tokens: null,
      max_completion_tokens: null,
      truncation_strategy: { type: 'auto', last_messages: null },
      tool_choice: 'auto',
      parallel_tool_calls: true,
      response_format: 'auto',
    });
    expect(run.id).toMatch(/^run_/);
    expect(run.started_at).toBeGreaterThanOrEqual(run.created_at);
    expect(run.completed_at).toBeGreaterThanOrEqual(run.started_at ?? 0);
    expect(run.usage?.total_tokens).toBe(
      (run.usage?.prompt_tokens ?? 0) + (run.usage?.completion_tokens ?? 0),
    );

    const { data: runMessages } = await alice.beta.threads.messages.list(thread.id, { run_id: run.id });
    expect(runMessages).toHaveLength(1);
    const [answer] = runMessages;
    if (!answer) throw new Error('no answer');
    expectKeys(answer, MESSAGE_KEYS);
    expect(answer).toMatchObject({
      role: 'assistant',
      status: 'completed',
      assistant_id: assistant.id,
      run_id: run.id,
    });
    expect((await alice.beta.threads.messages.list(thread.id)).data).toHaveLength(2);

    const steps = await alice.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
    expect(steps.data).toHaveLength(1);
    const [step] = steps.data;
    if (!step) throw new Error('no step');
    expectKeys(step, STEP_KEYS);
    expect(step).toMatchObject({
      object: 'thread.run.step',
      type: 'message_creation',
      status: 'completed',
      run_id: run.id,
      thread_id: thread.id,
      assistant_id: assistant.id,
      step_details: { type: 'message_creation', message_creation: { message_id: answer.id } },
      last_error: null,
      expired_at: null,
      cancelled_at: null,
      failed_at: null,
    });
    expect(step.usage?.completion_tokens).toBeGreaterThan(0);
    expect(
      await alice.beta.threads.runs.steps.retrieve(step.id, { thread_id: thread.id, run_id: run.id }),
    ).toEqual(step);
  });

  it('retrieves with openai-poll-after-ms, lists, and modifies runs', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'one' }] });
    const first = await alice.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    const second = await alice.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    const { data, response } = await alice.beta.threads.runs
      .retrieve(first.id, { thread_id: thread.id })
      .withResponse();
    expect(data.id).toBe(first.id);
    expect(response.headers.get('openai-poll-after-ms')).toBe(ASSISTANTS_TEST_ENV.POLL_AFTER_MS);
    expect((await alice.beta.threads.runs.list(thread.id)).data.map((run) => run.id)).toEqual([
      second.id,
      first.id,
    ]);
    expect(
      (await alice.beta.threads.runs.list(thread.id, { order: 'asc', limit: 1 })).data.map((r) => r.id),
    ).toEqual([first.id]);
    const modified = await alice.beta.threads.runs.update(first.id, {
      thread_id: thread.id,
      metadata: { seen: 'yes' },
    });
    expect(modified).toMatchObject({ id: first.id, status: 'completed', metadata: { seen: 'yes' } });
    expect(await alice.beta.threads.runs.update(first.id, { thread_id: thread.id })).toEqual(modified);
  });
});

describe('run settings reach the model', () => {
  it('applies instructions, model, tools, sampling, limits, tool choice and response format from the request', async () => {
    const assistant = await alice.beta.assistants.create({
      model: 'offline',
      instructions: 'Assistant instructions.',
      tools: [weatherTool],
      temperature: 0.2,
    });
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'earlier' }] });
    model.script(textReply('{"ok":true}', { usage: { promptTokens: 40, completionTokens: 5 } }));
    const run = await alice.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistant.id,
      model: SCRIPTED,
      instructions: 'Run instructions.',
      additional_instructions: 'Answer in JSON.',
      additional_messages: [
        { role: 'user', content: 'extra question', metadata: { from: 'run' } },
        { role: 'assistant', content: 'extra answer' },
      ],
      tools: [
        { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } },
        { type: 'file_search' },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      temperature: 0.7,
      top_p: 0.5,
      max_prompt_tokens: 5000,
      max_completion_tokens: 300,
      truncation_strategy: { type: 'auto' },
      response_format: { type: 'json_object' },
      metadata: { purpose: 'settings' },
    });
    expect(run).toMatchObject({
      status: 'completed',
      model: SCRIPTED,
      instructions: 'Run instructions.\n\nAnswer in JSON.',
      tool_choice: 'required',
      parallel_tool_calls: false,
      temperature: 0.7,
      top_p: 0.5,
      max_prompt_tokens: 5000,
      max_completion_tokens: 300,
      truncation_strategy: { type: 'auto', last_messages: null },
      response_format: { type: 'json_object' },
      metadata: { purpose: 'settings' },
      usage: { prompt_tokens: 40, completion_tokens: 5, total_tokens: 45 },
    });
    expect(run.tools.map((tool) => tool.type)).toEqual(['function', 'file_search']);
    const sent = lastModelRequest();
    expect(sent).toMatchObject({
      model: 'recorder',
      temperature: 0.7,
      top_p: 0.5,
      max_tokens: 300,
      tool_choice: 'required',
      parallel_tool_calls: false,
      response_format: { type: 'json_object' },
    });
    expect((sent.tools as Array<{ function: { name: string } }>).map((tool) => tool.function.name)).toEqual([
      'lookup',
      'file_search',
    ]);
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Run instructions.\n\nAnswer in JSON.' },
      { role: 'user', content: 'earlier' },
      { role: 'user', content: 'extra question' },
      { role: 'assistant', content: 'extra answer' },
    ]);
    const messages = await alice.beta.threads.messages.list(thread.id, { order: 'asc' });
    expect(messages.data.map(textOf)).toEqual(['earlier', 'extra question', 'extra answer', '{"ok":true}']);
    expect(messages.data[1]).toMatchObject({ run_id: null, assistant_id: null, metadata: { from: 'run' } });
  });

  it('takes the assistant settings when the run gives none, and appends additional_instructions', async () => {
    const assistant = await alice.beta.assistants.create({
      model: SCRIPTED,
      instructions: 'Base.',
      temperature: 0.3,
      top_p: 0.4,
      response_format: { type: 'text' },
    });
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] });
    model.script(textReply('hello'));
    const run = await alice.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistant.id,
      additional_instructions: 'Also be brief.',
    });
    expect(run).toMatchObject({
      model: SCRIPTED,
      instructions: 'Base.\n\nAlso be brief.',
      temperature: 0.3,
      top_p: 0.4,
      response_format: { type: 'text' },
    });
    expect(lastModelRequest()).toMatchObject({ temperature: 0.3, top_p: 0.4 });
    expect(lastModelRequest().messages[0]).toEqual({ role: 'system', content: 'Base.\n\nAlso be brief.' });
  });

  it('lets truncation_strategy last_messages decide what history the model sees', async () => {
    const assistant = await alice.beta.assistants.create({ model: SCRIPTED });
    const history = ['u1', 'a1', 'u2', 'a2', 'u3'].map((content) => ({
      role: content.startsWith('u') ? ('user' as const) : ('assistant' as const),
      content,
    }));
    const thread = await alice.beta.threads.create({ messages: history });
    model.script(textReply('cut'));
    await alice.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistant.id,
      truncation_strategy: { type: 'last_messages', last_messages: 2 },
    });
    expect(lastModelRequest().messages).toEqual([
      { role: 'assistant', content: 'a2' },
      { role: 'user', content: 'u3' },
    ]);
    const full = await alice.beta.threads.create({ messages: history });
    model.script(textReply('all'));
    await alice.beta.threads.runs.createAndPoll(full.id, { assistant_id: assistant.id });
    expect(lastModelRequest().messages.map((message) => message.content)).toEqual([
      'u1',
      'a1',
      'u2',
      'a2',
      'u3',
    ]);
  });
});

describe('function tools', () => {
  it('round-trips a forced function call through submitToolOutputsAndPoll, guarding the busy thread', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline', tools: [weatherTool] });
    const thread = await alice.beta.threads.create({
      messages: [{ role: 'user', content: '{"city":"Paris"}' }],
    });
    const run = await alice.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistant.id,
      tool_choice: forceWeather,
    });
    expect(run.status).toBe('requires_action');
    expect(run.expires_at).toBeGreaterThan(run.created_at);
    const calls = run.required_action?.submit_tool_outputs.tool_calls ?? [];
    expect(run.required_action?.type).toBe('submit_tool_outputs');
    expect(calls).toHaveLength(1);
    const [call] = calls;
    if (!call) throw new Error('no call');
    expect(call).toEqual({
      id: call.id,
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    });
    expect(call.id).toMatch(/^call_/);

    const [openStep] = (await alice.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
    expect(openStep).toMatchObject({
      type: 'tool_calls',
      status: 'in_progress',
      usage: null,
      step_details: {
        type: 'tool_calls',
        tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', output: null } }],
      },
    });

    await expectApiError(
      alice.beta.threads.runs.create(thread.id, { assistant_id: assistant.id }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: `Thread ${thread.id} already has an active run ${run.id}.`,
        param: null,
        code: null,
        type: 'invalid_request_error',
      },
    );
    await expectApiError(
      alice.beta.threads.messages.create(thread.id, { role: 'user', content: 'are you there?' }),
      OpenAI.BadRequestError,
      { status: 400, message: `Can't add messages to ${thread.id} while a run ${run.id} is active.` },
    );
    await expectApiError(
      alice.beta.threads.runs.create(thread.id, {
        assistant_id: assistant.id,
        additional_messages: [{ role: 'user', content: 'sneak in' }],
      }),
      OpenAI.BadRequestError,
      { status: 400, message: `Thread ${thread.id} already has an active run ${run.id}.` },
    );
    await expectApiError(
      alice.beta.threads.runs.submitToolOutputs(run.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: 'call_wrong', output: 'x' }],
      }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: `Expected tool outputs for call_ids ['${call.id}'], got ['call_wrong']`,
        param: 'tool_outputs',
      },
    );
    await expectApiError(
      alice.beta.threads.runs.submitToolOutputs(run.id, {
        thread_id: thread.id,
        tool_outputs: [
          { tool_call_id: call.id, output: 'x' },
          { tool_call_id: call.id, output: 'y' },
        ],
      }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: `Expected tool outputs for call_ids ['${call.id}'], got ['${call.id}', '${call.id}']`,
      },
    );
    expect(await alice.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).toMatchObject({
      status: 'requires_action',
      required_action: run.required_action,
    });
    expect((await alice.beta.threads.messages.list(thread.id)).data).toHaveLength(1);

    const done = await alice.beta.threads.runs.submitToolOutputsAndPoll(run.id, {
      thread_id: thread.id,
      tool_outputs: [{ tool_call_id: call.id, output: '{"temp":21}' }],
    });
    expect(done).toMatchObject({ id: run.id, status: 'completed', required_action: null, expires_at: null });
    // Claimed again after the outputs, the run keeps the time it first started.
    expect(run.started_at).not.toBeNull();
    expect(done.started_at).toBe(run.started_at);
    const [answer] = (await alice.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
    expect(textOf(answer)).toContain('{"temp":21}');
    const steps = await alice.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    expect(steps.data.map((step) => [step.type, step.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ]);
    expect(steps.data[0]?.step_details).toEqual({
      type: 'tool_calls',
      tool_calls: [
        {
          id: call.id,
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}', output: '{"temp":21}' },
        },
      ],
    });
    await expectApiError(
      alice.beta.threads.runs.submitToolOutputs(run.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: call.id, output: 'again' }],
      }),
      OpenAI.BadRequestError,
      { status: 400, message: 'Runs in status "completed" do not accept tool outputs.' },
    );
  });

  it('streams the tool call, then answers through submitToolOutputsStream', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline', tools: [weatherTool] });
    const thread = await alice.beta.threads.create({
      messages: [{ role: 'user', content: '{"city":"Oslo"}' }],
    });
    const events: AssistantStreamEvent[] = [];
    const created: string[] = [];
    const pieces: string[] = [];
    const done: string[] = [];
    const first = alice.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id, tool_choice: forceWeather })
      .on('event', (event) => events.push(event))
      .on('toolCallCreated', (call) => created.push(call.id))
      .on('toolCallDelta', (delta) =>
        pieces.push(delta.type === 'function' ? (delta.function?.arguments ?? '') : ''),
      )
      .on('toolCallDone', (call) => done.push(call.type === 'function' ? call.function.arguments : ''));
    const waiting = await first.finalRun();
    expect(waiting.status).toBe('requires_action');
    // The offline model streams the call's arguments in pieces: one delta opens the call, more carry its arguments.
    const firstNames = events.map((event) => event.event);
    expect(
      firstNames.filter((name, i) => name !== 'thread.run.step.delta' || firstNames[i - 1] !== name),
    ).toEqual([
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.run.step.delta',
      'thread.run.requires_action',
    ]);
    const call = waiting.required_action?.submit_tool_outputs.tool_calls[0];
    expect(created).toEqual([call?.id]);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(call?.function.arguments);
    expect(done).toEqual(['{"city":"Oslo"}']);

    const names: string[] = [];
    let streamed = '';
    const second = alice.beta.threads.runs
      .submitToolOutputsStream(waiting.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: call?.id ?? '', output: 'sunny, 18C' }],
      })
      .on('event', (event) => names.push(event.event))
      .on('textDelta', (delta) => {
        streamed += delta.value ?? '';
      });
    const finished = await second.finalRun();
    expect(finished.status).toBe('completed');
    const closedStep = (await second.finalRunSteps())[0] as RunStep | undefined;
    expect(closedStep?.step_details).toMatchObject({
      tool_calls: [{ function: { output: 'sunny, 18C' } }],
    });
    expect(names.filter((name) => name !== 'thread.message.delta')).toEqual([
      'thread.run.step.completed',
      'thread.run.queued',
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.message.created',
      'thread.message.in_progress',
      'thread.message.completed',
      'thread.run.step.completed',
      'thread.run.completed',
    ]);
    const [answer] = (await alice.beta.threads.messages.list(thread.id, { run_id: waiting.id })).data;
    expect(streamed).toBe(textOf(answer));
    expect(streamed).toContain('sunny, 18C');
  });

  it('asks for parallel calls in one step, and only one when parallel_tool_calls is false', async () => {
    const assistant = await alice.beta.assistants.create({
      model: SCRIPTED,
      tools: [
        weatherTool,
        { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
      ],
    });
    const twoCalls = () =>
      toolCallsReply([
        { name: 'get_weather', arguments: '{"city":"Rome"}' },
        { name: 'get_time', arguments: '{"zone":"CET"}' },
      ]);
    model.script(twoCalls(), textReply('It is sunny and noon.'));
    const created: Array<[number | undefined, string]> = [];
    const stream = alice.beta.threads
      .createAndRunStream({
        assistant_id: assistant.id,
        thread: { messages: [{ role: 'user', content: 'weather and time in Rome?' }] },
      })
      .on('toolCallCreated', (call) =>
        created.push([
          (call as { index?: number }).index,
          call.type === 'function' ? call.function.name : '',
        ]),
      );
    const waiting = await stream.finalRun();
    expect(waiting.status).toBe('requires_action');
    const calls = waiting.required_action?.submit_tool_outputs.tool_calls ?? [];
    expect(calls.map((call) => [call.function.name, call.function.arguments])).toEqual([
      ['get_weather', '{"city":"Rome"}'],
      ['get_time', '{"zone":"CET"}'],
    ]);
    expect(created).toEqual([
      [0, 'get_weather'],
      [1, 'get_time'],
    ]);
    expect(lastModelRequest().parallel_tool_calls).toBe(true);
    const steps = await alice.beta.threads.runs.steps.list(waiting.id, { thread_id: waiting.thread_id });
    expect(steps.data).toHaveLength(1);
    await expectApiError(
      alice.beta.threads.runs.submitToolOutputs(waiting.id, {
        thread_id: waiting.thread_id,
        tool_outputs: [{ tool_call_id: calls[0]?.id ?? '', output: 'sunny' }],
      }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: `Expected tool outputs for call_ids ['${calls[0]?.id}', '${calls[1]?.id}'], got ['${calls[0]?.id}']`,
      },
    );
    const done = await alice.beta.threads.runs.submitToolOutputsAndPoll(waiting.id, {
      thread_id: waiting.thread_id,
      tool_outputs: [
        { tool_call_id: calls[1]?.id ?? '', output: '12:00' },
        { tool_call_id: calls[0]?.id ?? '', output: 'sunny' },
      ],
    });
    expect(done.status).toBe('completed');
    expect(lastModelRequest().messages.slice(-3)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: calls.map((call) => ({ id: call.id, type: 'function', function: call.function })),
      },
      { role: 'tool', tool_call_id: calls[0]?.id, content: 'sunny' },
      { role: 'tool', tool_call_id: calls[1]?.id, content: '12:00' },
    ]);

    model.script(twoCalls());
    const single = await alice.beta.threads.createAndRunPoll({
      assistant_id: assistant.id,
      parallel_tool_calls: false,
      thread: { messages: [{ role: 'user', content: 'both again' }] },
    });
    expect(lastModelRequest().parallel_tool_calls).toBe(false);
    expect(single.status).toBe('requires_action');
    expect(single.required_action?.submit_tool_outputs.tool_calls.map((call) => call.function.name)).toEqual([
      'get_weather',
    ]);
    await alice.beta.threads.runs.cancel(single.id, { thread_id: single.thread_id });
  });
});

describe('create thread and run', () => {
  it('answers a queued run with its new thread, and polls it to the end with createAndRunPoll', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const queued = await alice.beta.threads.createAndRun({
      assistant_id: assistant.id,
      thread: { messages: [{ role: 'user', content: 'new thread' }], metadata: { via: 'createAndRun' } },
    });
    expect(queued).toMatchObject({
      status: 'queued',
      assistant_id: assistant.id,
      started_at: null,
      usage: null,
    });
    expect(queued.thread_id).toMatch(/^thread_/);
    expect(await alice.beta.threads.retrieve(queued.thread_id)).toMatchObject({
      metadata: { via: 'createAndRun' },
    });
    await waitForRunStatus(alice, queued.thread_id, queued.id, ['completed']);

    const polled = await alice.beta.threads.createAndRunPoll({
      assistant_id: assistant.id,
      instructions: 'Polled.',
      thread: { messages: [{ role: 'user', content: 'poll the new thread' }] },
    });
    expect(polled).toMatchObject({ status: 'completed', instructions: 'Polled.' });
    const messages = await alice.beta.threads.messages.list(polled.thread_id, { order: 'asc' });
    expect(messages.data.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(messages.data[1])).toContain('poll the new thread');
  });

  it('streams thread.created first with createAndRunStream', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const names: string[] = [];
    let streamed = '';
    const stream = alice.beta.threads
      .createAndRunStream({
        assistant_id: assistant.id,
        thread: { messages: [{ role: 'user', content: 'hello stream' }] },
      })
      .on('event', (event) => names.push(event.event))
      .on('textDelta', (delta) => {
        streamed += delta.value ?? '';
      });
    const run = await stream.finalRun();
    expect(names.slice(0, 4)).toEqual([
      'thread.created',
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
    ]);
    expect(names.at(-1)).toBe('thread.run.completed');
    const [answer] = (await alice.beta.threads.messages.list(run.thread_id, { run_id: run.id })).data;
    expect(streamed).toBe(textOf(answer));
  });
});

describe('token limits', () => {
  it('ends incomplete when max_completion_tokens is reached, with the reasons on run and message', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const words = Array.from({ length: 300 }, (_, index) => `w${index}`).join(' ');
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: words }] });
    const names: string[] = [];
    const stream = alice.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id, max_completion_tokens: 256 })
      .on('event', (event) => names.push(event.event));
    const run = await stream.finalRun();
    expect(run).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_completion_tokens' },
      max_completion_tokens: 256,
      expires_at: null,
    });
    expect(run.usage?.completion_tokens).toBe(256);
    expect(names.filter((name) => name !== 'thread.message.delta').slice(-3)).toEqual([
      'thread.message.incomplete',
      'thread.run.step.completed',
      'thread.run.incomplete',
    ]);
    const [message] = (await alice.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
    expect(message).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_tokens' } });
    expect(message?.incomplete_at).toBeTypeOf('number');
    expect(textOf(message).length).toBeGreaterThan(0);
    expect(await alice.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).toMatchObject({
      status: 'incomplete',
    });
  });

  it('ends incomplete without calling the model when the prompt is over max_prompt_tokens', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const thread = await alice.beta.threads.create({
      messages: [{ role: 'user', content: 'long '.repeat(400) }],
    });
    const run = await alice.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistant.id,
      max_prompt_tokens: 256,
    });
    expect(run).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_prompt_tokens' } });
    expect((await alice.beta.threads.messages.list(thread.id)).data).toHaveLength(1);
  });
});

describe('run errors', () => {
  it('validates run requests in OpenAI wording before anything is written', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const thread = await alice.beta.threads.create();
    await expectApiError(
      alice.beta.threads.runs.create(thread.id, {} as OpenAI.Beta.Threads.RunCreateParamsNonStreaming),
      OpenAI.BadRequestError,
      { status: 400, message: "Missing required parameter: 'assistant_id'.", param: 'assistant_id' },
    );
    await expectApiError(
      alice.beta.threads.runs.create(thread.id, { assistant_id: 'asst_missing' }),
      OpenAI.NotFoundError,
      {
        status: 404,
        message: "No assistant found with id 'asst_missing'.",
        param: 'assistant_id',
      },
    );
    await expectApiError(
      alice.beta.threads.runs.create(thread.id, {
        assistant_id: assistant.id,
        tool_choice: 'sometimes' as 'auto',
      }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: "Invalid value: 'sometimes'. Supported values are: 'none', 'auto', and 'required'.",
        param: 'tool_choice',
      },
    );
    await expectApiError(
      alice.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, max_completion_tokens: 100 }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message:
          "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 256, but got 100 instead.",
        param: 'max_completion_tokens',
        code: 'integer_below_min_value',
      },
    );
    await expectApiError(
      alice.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id, model: 'nope' }).finalRun(),
      OpenAI.BadRequestError,
      { status: 400, param: 'model', code: 'model_not_found' },
    );
    expect((await alice.beta.threads.runs.list(thread.id)).data).toEqual([]);
  });

  it("answers 404 for unknown runs and steps, and for another user's", async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const run = await alice.beta.threads.createAndRunPoll({
      assistant_id: assistant.id,
      thread: { messages: [{ role: 'user', content: 'mine' }] },
    });
    const [step] = (await alice.beta.threads.runs.steps.list(run.id, { thread_id: run.thread_id })).data;
    const ids = { thread_id: run.thread_id };
    await expectApiError(alice.beta.threads.runs.retrieve('run_unknown', ids), OpenAI.NotFoundError, {
      status: 404,
      message: "No run found with id 'run_unknown'.",
    });
    await expectApiError(
      alice.beta.threads.runs.steps.retrieve('step_unknown', { ...ids, run_id: run.id }),
      OpenAI.NotFoundError,
      { status: 404, message: "No step found with id 'step_unknown'." },
    );
    await expectApiError(bob.beta.threads.runs.retrieve(run.id, ids), OpenAI.NotFoundError, { status: 404 });
    await expectApiError(bob.beta.threads.runs.list(run.thread_id), OpenAI.NotFoundError, { status: 404 });
    await expectApiError(bob.beta.threads.runs.cancel(run.id, ids), OpenAI.NotFoundError, { status: 404 });
    await expectApiError(
      bob.beta.threads.runs.update(run.id, { ...ids, metadata: {} }),
      OpenAI.NotFoundError,
      {
        status: 404,
      },
    );
    await expectApiError(bob.beta.threads.runs.steps.list(run.id, ids), OpenAI.NotFoundError, {
      status: 404,
    });
    await expectApiError(
      bob.beta.threads.runs.steps.retrieve(step?.id ?? '', { ...ids, run_id: run.id }),
      OpenAI.NotFoundError,
      { status: 404 },
    );
    await expectApiError(
      bob.beta.threads.runs.submitToolOutputs(run.id, { ...ids, tool_outputs: [] }),
      OpenAI.NotFoundError,
      { status: 404 },
    );
    await expectApiError(
      bob.beta.threads.runs.create(run.thread_id, { assistant_id: assistant.id }),
      OpenAI.NotFoundError,
      { status: 404 },
    );
    const bobThread = await bob.beta.threads.create();
    await expectApiError(
      bob.beta.threads.runs.create(bobThread.id, { assistant_id: assistant.id }),
      OpenAI.NotFoundError,
      {
        status: 404,
        param: 'assistant_id',
      },
    );
    await expectApiError(
      bob.beta.threads.createAndRun({ assistant_id: assistant.id }),
      OpenAI.NotFoundError,
      {
        status: 404,
      },
    );
    await expectApiError(alice.beta.threads.runs.cancel(run.id, ids), OpenAI.BadRequestError, {
      status: 400,
      message: "Cannot cancel run with status 'completed'.",
    });
  });
});
