// Issue 19, "Done when": Threadwork as a model gateway. The official SDK's chat.completions.create (streamed and
// not), its stream helper, and embeddings.create, with `baseURL` pointed at Threadwork, for the offline model and
// for an OpenAI-compatible upstream (the in-repo wire server); usage rows per key, with cost.
import type OpenAI from 'openai';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  embeddingsReply,
  errorReply,
  type OpenAITestServer,
  startOpenAIServer,
  textReply,
  toolCallsReply,
} from '../../services/run-worker/test/support/openai-server.js';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';
import { ASSISTANTS_TEST_ENV } from './assistants-helpers.js';

const UPSTREAM = 'openai/gpt-4.1-mini';

const sqlTool = {
  type: 'function' as const,
  function: {
    name: 'run_sql',
    description: 'Run a SQL query',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
};

describe('the model gateway, end to end', () => {
  let server: OpenAITestServer;
  let stack: Stack;
  let client: OpenAI;
  /** The project of the `gateway` key: usage is recorded by project. */
  let projectId: string;
  let other: OpenAI;
  let db: pg.Pool;

  beforeAll(async () => {
    server = await startOpenAIServer();
    stack = await startStack({
      ...ASSISTANTS_TEST_ENV,
      OPENAI_BASE_URL: server.url,
      OPENAI_API_MODE: 'chat',
      MODEL_MAX_RETRIES: '1',
      MODEL_RETRY_BASE_DELAY_MS: '1',
      MODEL_RETRY_MAX_DELAY_MS: '20',
      DEFAULT_MODEL: 'offline',
    });
    client = (await stack.newUser('gateway')).client;
    other = (await stack.newUser('gateway-other')).client;
    db = new pg.Pool({ connectionString: stack.database.url, max: 2 });
    const { rows } = await db.query<{ id: string }>(
      "select project_id as id from api_keys where name = 'gateway'",
    );
    projectId = rows[0]?.id ?? '';
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
    await server?.close();
  });

  afterEach(() => {
    expect(server.pending, 'scripted replies left over').toBe(0);
  });

  async function usageOf(callId: string) {
    const { rows } = await db.query<{
      owner_id: string;
      model: string;
      total_tokens: number;
      cost_usd: string;
    }>('select owner_id, model, total_tokens, cost_usd from usage_logs where run_id = $1', [callId]);
    return rows;
  }

  describe('with the offline model', () => {
    it('answers chat.completions.create, and logs the call under the caller’s project', async () => {
      const completion = await client.chat.completions.create({
        model: 'offline',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello there' },
        ],
      });
      expect(completion.object).toBe('chat.completion');
      expect(completion.model).toBe('offline');
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.choices[0]?.message.content).toContain('[offline model]');
      expect(completion.choices[0]?.message.content).toContain('Hello there');
      expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
      const rows = await usageOf(completion.id);
      expect(rows).toEqual([
        {
          owner_id: projectId,
          model: 'offline',
          total_tokens: completion.usage?.total_tokens,
          cost_usd: '0.00000000',
        },
      ]);
    });

    it('streams with stream: true and include_usage, and through the SDK’s stream helper', async () => {
      const stream = await client.chat.completions.create({
        model: 'offline',
        messages: [{ role: 'user', content: 'Stream this please' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | null | undefined = null;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks += 1;
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      expect(chunks).toBeGreaterThan(3);
      expect(text).toContain('Stream this please');
      expect(finish).toBe('stop');
      expect(usage?.total_tokens).toBeGreaterThan(0);

      const helper = client.chat.completions.stream({
        model: 'offline',
        messages: [{ role: 'user', content: 'And with the helper' }],
      });
      const final = await helper.finalChatCompletion();
      expect(final.choices[0]?.message.content).toContain('And with the helper');
    });

    it('calls a tool the request offers, and answers the tool output fed back', async () => {
      const first = await client.chat.completions.create({
        model: 'offline',
        messages: [{ role: 'user', content: 'SELECT 1' }],
        tools: [sqlTool],
      });
      const call = first.choices[0]?.message.tool_calls?.[0];
      expect(first.choices[0]?.finish_reason).toBe('tool_calls');
      expect(call?.type === 'function' && call.function).toEqual({
        name: 'run_sql',
        arguments: JSON.stringify({ query: 'SELECT 1' }),
      });

      const second = await client.chat.completions.create({
        model: 'offline',
        messages: [
          { role: 'user', content: 'SELECT 1' },
          { role: 'assistant', content: null, tool_calls: first.choices[0]?.message.tool_calls ?? [] },
          { role: 'tool', tool_call_id: call?.id ?? '', content: '{"rows":[[1]]}' },
        ],
        tools: [sqlTool],
      });
      expect(second.choices[0]?.message.content).toContain('The tool run_sql returned');
    });

    it('makes deterministic offline embeddings with embeddings.create', async () => {
      const first = await client.embeddings.create({
        model: 'offline',
        input: ['dog food for puppies', 'puppy dog food', 'quarterly tax report'],
      });
      const again = await client.embeddings.create({ model: 'offline', input: 'dog food for puppies' });
      const [dog, puppy, tax] = first.data.map((item) => item.embedding);
      expect(dog).toHaveLength(256);
      expect(again.data[0]?.embedding).toEqual(dog);
      const cosine = (a: number[] = [], b: number[] = []) =>
        a.reduce((sum, value, i) => sum + value * (b[i] ?? 0), 0);
      expect(cosine(dog, dog)).toBeCloseTo(1, 6);
      expect(cosine(dog, puppy)).toBeGreaterThan(cosine(dog, tax));
      expect(first.usage.prompt_tokens).toBeGreaterThan(0);
    });

    it('lists the models it routes, offline included, and refuses a model it does not route', async () => {
      const ids = [];
      for await (const model of client.models.list()) ids.push(model.id);
      expect(ids).toContain('offline');
      expect(ids).toContain(UPSTREAM);
      await expect(
        client.chat.completions.create({ model: 'nowhere/x', messages: [{ role: 'user', content: 'hi' }] }),
      ).rejects.toMatchObject({ status: 400, code: 'model_not_found' });
    });
  });

  describe('with an OpenAI-compatible upstream', () => {
    it('relays a completion, priced at the upstream model’s rates', async () => {
      server.script(
        textReply('Hello from upstream.', { usage: { promptTokens: 1000, completionTokens: 100 } }),
      );
      const completion = await client.chat.completions.create({
        model: UPSTREAM,
        messages: [{ role: 'user', content: 'Hi' }],
        temperature: 0.3,
        max_tokens: 50,
      });
      expect(completion.choices[0]?.message.content).toBe('Hello from upstream.');
      expect(completion.usage).toEqual({ prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 });
      expect(server.requests.at(-1)?.body).toMatchObject({
        model: 'gpt-4.1-mini',
        temperature: 0.3,
        max_tokens: 50,
      });
      const [row] = await usageOf(completion.id);
      expect(row?.model).toBe(UPSTREAM);
      expect(Number(row?.cost_usd)).toBeCloseTo((1000 * 0.4 + 100 * 1.6) / 1e6, 8);
    });

    it('streams parallel tool calls and usage from the upstream', async () => {
      server.script(
        toolCallsReply([
          { name: 'run_sql', arguments: '{"query":"select 1"}' },
          { name: 'run_sql', arguments: '{"query":"select 2"}' },
        ]),
      );
      const stream = client.chat.completions.stream({
        model: UPSTREAM,
        messages: [{ role: 'user', content: 'Two queries' }],
        tools: [sqlTool],
        stream_options: { include_usage: true },
      });
      const final = await stream.finalChatCompletion();
      const calls = final.choices[0]?.message.tool_calls ?? [];
      expect(calls.map((call) => (call.type === 'function' ? call.function.arguments : null))).toEqual([
        '{"query":"select 1"}',
        '{"query":"select 2"}',
      ]);
      expect(final.choices[0]?.finish_reason).toBe('tool_calls');
      expect(final.usage?.total_tokens).toBe(18);
    });

    it('relays embeddings from the upstream', async () => {
      server.script(
        embeddingsReply(
          [
            [0.1, 0.2],
            [0.3, 0.4],
          ],
          7,
        ),
      );
      const result = await client.embeddings.create({
        model: 'openai/text-embedding-3-small',
        input: ['a', 'b'],
      });
      // The SDK asks for base64 (float32) by default, as OpenAI sends it; the values survive to float32 precision.
      const vectors = result.data.map((item) => item.embedding);
      expect(vectors).toHaveLength(2);
      for (const [i, value] of [0.1, 0.2, 0.3, 0.4].entries()) {
        expect(vectors[Math.floor(i / 2)]?.[i % 2]).toBeCloseTo(value, 6);
      }
      expect(result.usage.prompt_tokens).toBe(7);
      expect(server.requests.at(-1)?.body).toMatchObject({
        model: 'text-embedding-3-small',
        input: ['a', 'b'],
      });
    });

    it('answers an upstream that keeps failing with an HTTP error, not a hung stream', async () => {
      server.script(errorReply(500), errorReply(500));
      await expect(
        client.chat.completions.create({
          model: UPSTREAM,
          messages: [{ role: 'user', content: 'Hi' }],
          stream: true,
        }),
      ).rejects.toMatchObject({ status: 502 });
    });
  });

  describe('usage reports', () => {
    interface Report {
      data: {
        day?: string;
        model?: string;
        project_id?: string;
        calls: number;
        total_tokens: number;
        cost_usd: number;
      }[];
      totals: { calls: number; total_tokens: number; cost_usd: number };
    }

    async function report(key: string, path: string): Promise<{ status: number; body: Report }> {
      const response = await fetch(`${stack.api.url}${path}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      return { status: response.status, body: (await response.json()) as Report };
    }

    it('shows a project its own calls by day and model, not another project’s; an admin sees every project', async () => {
      const alice = await stack.newUser('usage-alice');
      const bob = await stack.newUser('usage-bob');
      server.script(textReply('Paid answer.', { usage: { promptTokens: 1000, completionTokens: 100 } }));
      await alice.client.chat.completions.create({
        model: UPSTREAM,
        messages: [{ role: 'user', content: 'Hi' }],
      });
      await alice.client.chat.completions.create({
        model: 'offline',
        messages: [{ role: 'user', content: 'Hi' }],
      });
      await bob.client.chat.completions.create({
        model: 'offline',
        messages: [{ role: 'user', content: 'Hi' }],
      });

      const own = await report(alice.key, '/v1/usage?group_by=day,model');
      expect(own.status).toBe(200);
      const today = new Date().toISOString().slice(0, 10);
      expect(own.body.data.map((row) => [row.day, row.model, row.calls])).toEqual([
        [today, 'offline', 1],
        [today, UPSTREAM, 1],
      ]);
      expect(own.body.totals.calls).toBe(2);
      expect(own.body.totals.cost_usd).toBeCloseTo((1000 * 0.4 + 100 * 1.6) / 1e6, 8);
      const bobs = await report(bob.key, '/v1/usage?group_by=model');
      expect(bobs.body.totals.calls).toBe(1);
      expect(bobs.body.data.map((row) => row.model)).toEqual(['offline']);

      const { rows } = await db.query<{ id: string; name: string }>(
        "select project_id as id, name from api_keys where name in ('usage-alice', 'usage-bob')",
      );
      const ids = Object.fromEntries(rows.map((row) => [row.name, row.id]));
      const byProject = await report(ADMIN_KEY, '/admin/usage?group_by=project');
      const calls = Object.fromEntries(byProject.body.data.map((row) => [row.project_id, row.calls]));
      expect(calls[ids['usage-alice'] ?? '']).toBe(2);
      expect(calls[ids['usage-bob'] ?? '']).toBe(1);
      const one = await report(ADMIN_KEY, `/admin/usage?group_by=model&project_id=${ids['usage-bob']}`);
      expect(one.body.totals.calls).toBe(1);
      expect((await report(alice.key, '/admin/usage')).status).toBe(403);
      const later = await report(alice.key, `/v1/usage?start_time=${Math.floor(Date.now() / 1000) + 3600}`);
      expect(later.body).toMatchObject({ data: [], totals: { calls: 0, cost_usd: 0 } });
    });
  });

  it('counts each project’s calls under that project only', async () => {
    const completion = await other.chat.completions.create({
      model: 'offline',
      messages: [{ role: 'user', content: 'Mine' }],
    });
    const [row] = await usageOf(completion.id);
    expect(row?.owner_id).not.toBe(projectId);
  });
});
