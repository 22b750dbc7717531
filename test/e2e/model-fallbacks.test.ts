// Issue 19, "Done when": a run whose primary model returns 500 on every attempt completes on its fallback
// (MODEL_FALLBACKS), and says which model answered: usage rows and the chat API's `model_used`.
import type OpenAI from 'openai';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../services/run-worker/src/providers/pricing.js';
import {
  type AnthropicTestServer,
  anthropicError,
  messageReply,
  startAnthropicServer,
} from '../../services/run-worker/test/support/anthropic-server.js';
import {
  errorReply,
  type OpenAITestServer,
  startOpenAIServer,
} from '../../services/run-worker/test/support/openai-server.js';
import { type Stack, startStack } from '../support/stack.js';
import { ASSISTANTS_TEST_ENV, textOf } from './assistants-helpers.js';

const PRIMARY = 'openai/gpt-4o';
const FALLBACK = 'anthropic/claude-sonnet-4-5';
const MAX_RETRIES = 2;

describe('MODEL_FALLBACKS, end to end', () => {
  let openai: OpenAITestServer;
  let anthropic: AnthropicTestServer;
  let stack: Stack;
  let client: OpenAI;
  let key: string;
  let db: pg.Pool;

  beforeAll(async () => {
    [openai, anthropic] = await Promise.all([startOpenAIServer(), startAnthropicServer()]);
    stack = await startStack({
      ...ASSISTANTS_TEST_ENV,
      OPENAI_BASE_URL: openai.url,
      OPENAI_API_MODE: 'chat',
      ANTHROPIC_BASE_URL: anthropic.url,
      MODEL_FALLBACKS: `${PRIMARY}=${FALLBACK}|offline`,
      MODEL_MAX_RETRIES: String(MAX_RETRIES),
      MODEL_RETRY_BASE_DELAY_MS: '1',
      MODEL_RETRY_MAX_DELAY_MS: '20',
    });
    ({ key, client } = await stack.newUser('fallbacks'));
    db = new pg.Pool({ connectionString: stack.database.url, max: 2 });
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
    await Promise.all([openai?.close(), anthropic?.close()]);
  });

  afterEach(() => {
    expect(openai.pending + anthropic.pending, 'scripted replies left over').toBe(0);
  });

  const failingPrimary = () =>
    Array.from({ length: MAX_RETRIES + 1 }, () => errorReply(500, { message: 'Primary is down' }));

  async function usageModels(runId: string): Promise<{ model: string; cost_usd: string }[]> {
    const { rows } = await db.query<{ model: string; cost_usd: string }>(
      'select model, cost_usd from usage_logs where run_id = $1 order by id',
      [runId],
    );
    return rows;
  }

  it('completes a run on the fallback after the primary fails every attempt; usage names the model that answered', async () => {
    openai.script(...failingPrimary());
    anthropic.script(
      messageReply('Answered by the fallback.', { usage: { inputTokens: 1000, outputTokens: 100 } }),
    );
    const before = openai.requests.length;
    const assistant = await client.beta.assistants.create({ model: PRIMARY });
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Hello?' }] });

    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });

    expect(run.status).toBe('completed');
    expect(run.model).toBe(PRIMARY);
    expect(run.last_error).toBeNull();
    expect(openai.requests.length - before).toBe(MAX_RETRIES + 1);
    expect(anthropic.requests.at(-1)?.body.model).toBe('claude-sonnet-4-5');
    const messages = (await client.beta.threads.messages.list(thread.id, { order: 'asc' })).data;
    expect(textOf(messages[1])).toBe('Answered by the fallback.');
    const price = DEFAULT_PRICES['claude-sonnet-4-5'];
    if (!price) throw new Error('no price for claude-sonnet-4-5');
    const rows = await usageModels(run.id);
    expect(rows.map((row) => row.model)).toEqual([FALLBACK]);
    expect(Number(rows[0]?.cost_usd)).toBeCloseTo((1000 * price.input + 100 * price.output) / 1e6, 8);
  });

  it('announces the failover as an event of the run, on a /v1 stream that asks for it', async () => {
    openai.script(...failingPrimary());
    anthropic.script(messageReply('Answered by the fallback.'));
    const assistant = await client.beta.assistants.create({ model: PRIMARY });
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Hello?' }] });
    const seen: Array<{ event: string; data: unknown }> = [];
    const stream = client.beta.threads.runs.stream(
      thread.id,
      { assistant_id: assistant.id },
      { headers: { 'X-Threadwork-Events': 'failover' } },
    );
    stream.on('event', (event) => seen.push(event as { event: string; data: unknown }));
    expect((await stream.finalRun()).status).toBe('completed');
    const failover = seen.find((event) => event.event === 'model_failover');
    expect(failover?.data).toMatchObject({ from: PRIMARY, to: FALLBACK });
    expect(seen.map((event) => event.event).indexOf('model_failover')).toBeLessThan(
      seen.map((event) => event.event).indexOf('thread.message.created'),
    );
  });

  it('goes down the whole chain, and the chat API reports model_used', async () => {
    openai.script(...failingPrimary());
    anthropic.script(...Array.from({ length: MAX_RETRIES + 1 }, () => anthropicError(529)));
    const assistant = await client.beta.assistants.create({ model: PRIMARY });

    const response = await fetch(`${stack.api.url}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Anyone there?', assistant_id: assistant.id }),
    });
    const body = (await response.json()) as {
      status: string;
      model_used: string;
      response: string;
      run_id: string;
    };

    expect(response.status).toBe(200);
    expect(body.status).toBe('completed');
    expect(body.model_used).toBe('offline');
    expect(body.response).toContain('[offline model]');
    expect((await usageModels(body.run_id)).map((row) => row.model)).toEqual(['offline']);
  });

  it('fails without failing over when the primary refuses the request (400)', async () => {
    openai.script(errorReply(400, { message: 'Bad request' }));
    const assistant = await client.beta.assistants.create({ model: PRIMARY });
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'x' }] });
    const anthropicBefore = anthropic.requests.length;

    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });

    expect(run.status).toBe('failed');
    expect(run.last_error?.code).toBe('invalid_prompt');
    expect(anthropic.requests).toHaveLength(anthropicBefore);
  });
});
