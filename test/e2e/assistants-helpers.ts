// Helpers for the Assistants API end-to-end tests: waiting on a run's status, reading text, asserting SDK errors.

import { waitFor } from '@threadwork/testing';
import type OpenAI from 'openai';
import type { APIError } from 'openai';
import type { Message } from 'openai/resources/beta/threads/messages';
import type { Run, RunStatus } from 'openai/resources/beta/threads/runs/runs';
import { expect } from 'vitest';

/** Settings every Assistants test stack shares: pollers and request limits must not slow the suite down. */
export const ASSISTANTS_TEST_ENV = { RATE_LIMIT_PER_MINUTE: '1000000', POLL_AFTER_MS: '10' };

/** Polls the run (the way a client would) until it reaches one of `statuses`, or fails after `timeoutMs`. */
export async function waitForRunStatus(
  client: OpenAI,
  threadId: string,
  runId: string,
  statuses: RunStatus[],
  timeoutMs = 10_000,
): Promise<Run> {
  let last = 'unknown';
  return waitFor(
    async () => {
      const run = await client.beta.threads.runs.retrieve(runId, { thread_id: threadId });
      last = run.status;
      return statuses.includes(run.status) && run;
    },
    { timeoutMs, intervalMs: 10, what: () => `run ${runId} to be ${statuses.join('|')} (it is ${last})` },
  );
}

export function textOf(message: Message | undefined): string {
  return (message?.content ?? []).map((part) => (part.type === 'text' ? part.text.value : '')).join('');
}

type ErrorClass = abstract new (...args: never[]) => APIError;

/** Awaits a rejection and checks its SDK class, status and (when given) the OpenAI error body fields. */
export async function expectApiError(
  promise: Promise<unknown>,
  errorClass: ErrorClass,
  body: {
    status: number;
    message?: string | RegExp;
    param?: string | null;
    code?: string | null;
    type?: string;
  },
): Promise<APIError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${errorClass.name}, but the call succeeded`);
    },
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(errorClass);
  const apiError = error as APIError;
  expect(apiError.status).toBe(body.status);
  const detail = apiError.error as {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
  expect(Object.keys(detail).sort()).toEqual(['code', 'message', 'param', 'type']);
  if (typeof body.message === 'string') expect(detail.message).toBe(body.message);
  if (body.message instanceof RegExp) expect(detail.message).toMatch(body.message);
  if (body.param !== undefined) expect(detail.param).toBe(body.param);
  if (body.code !== undefined) expect(detail.code).toBe(body.code);
  if (body.type !== undefined) expect(detail.type).toBe(body.type);
  return apiError;
}

/** Every key the SDK's Run type declares, present (null allowed) on a wire object. */
export const RUN_KEYS = [
  'id',
  'object',
  'created_at',
  'thread_id',
  'assistant_id',
  'status',
  'required_action',
  'last_error',
  'expires_at',
  'started_at',
  'cancelled_at',
  'failed_at',
  'completed_at',
  'incomplete_details',
  'model',
  'instructions',
  'tools',
  'metadata',
  'usage',
  'temperature',
  'top_p',
  'max_prompt_tokens',
  'max_completion_tokens',
  'truncation_strategy',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
];

export const MESSAGE_KEYS = [
  'id',
  'object',
  'created_at',
  'thread_id',
  'status',
  'incomplete_details',
  'completed_at',
  'incomplete_at',
  'role',
  'content',
  'assistant_id',
  'run_id',
  'attachments',
  'metadata',
];

export const STEP_KEYS = [
  'id',
  'object',
  'created_at',
  'assistant_id',
  'thread_id',
  'run_id',
  'type',
  'status',
  'step_details',
  'last_error',
  'expired_at',
  'cancelled_at',
  'failed_at',
  'completed_at',
  'metadata',
  'usage',
];

export const ASSISTANT_KEYS = [
  'id',
  'object',
  'created_at',
  'name',
  'description',
  'model',
  'instructions',
  'tools',
  'tool_resources',
  'metadata',
  'temperature',
  'top_p',
  'response_format',
];

export function expectKeys(object: object, keys: string[]): void {
  const present = Object.keys(object);
  expect(keys.filter((key) => !present.includes(key))).toEqual([]);
}
