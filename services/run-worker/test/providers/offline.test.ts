import {
  type BuiltinToolType,
  builtinFunctionDefinition,
  type FunctionDefinition,
  isIdOf,
  modelFunctions,
} from '@threadwork/shared';
import { describe, expect, it } from 'vitest';
import {
  countPromptTokens,
  createOfflineProvider,
  decideOffline,
  OFFLINE_LABEL,
  summariseToolOutputs,
  wordChunks,
} from '../../src/providers/offline.js';
import { findSqlQuery } from '../../src/providers/offline-intents.js';
import type { ModelEvent, ModelMessage, ModelRequest } from '../../src/providers/types.js';
import { collect, modelRequest } from './model-request.js';

const sqlTools = (['list_tables', 'get_schema', 'run_sql'] as BuiltinToolType[]).map(
  builtinFunctionDefinition,
);
const productTools = (['search_products', 'show_products'] as BuiltinToolType[]).map(
  builtinFunctionDefinition,
);
const allTools = [...sqlTools, ...productTools];
const bookTable: FunctionDefinition = { name: 'book_table', parameters: { type: 'object' } };

function request(messages: ModelMessage[] | string, overrides: Partial<ModelRequest> = {}): ModelRequest {
  return modelRequest({
    model: 'offline',
    messages: typeof messages === 'string' ? [{ role: 'user', content: messages }] : messages,
    tools: allTools,
    ...overrides,
  });
}

function calls(req: ModelRequest) {
  const decision = decideOffline(req);
  return decision.type === 'tool_calls' ? decision.calls : [];
}

describe('offline model: what a message asks for, with tool_choice auto', () => {
  it.each([
    ['list the tables', 'list_tables', {}],
    ['What tables do we have?', 'list_tables', {}],
    ['which tables are there', 'list_tables', {}],
    ['what columns does the orders table have?', 'get_schema', { table: 'orders' }],
    ['Show me the columns of customers', 'get_schema', { table: 'customers' }],
    ['describe public.orders', 'get_schema', { schema: 'public', table: 'orders' }],
    ['what is the schema for `order_items`', 'get_schema', { table: 'order_items' }],
    ['SELECT count(*) FROM orders', 'run_sql', { query: 'SELECT count(*) FROM orders' }],
    ['select 1', 'run_sql', { query: 'select 1' }],
    [
      'Run `select name from customers limit 5` please',
      'run_sql',
      { query: 'select name from customers limit 5' },
    ],
    [
      '```sql\nWITH t AS (SELECT 1) SELECT * FROM t\n```',
      'run_sql',
      { query: 'WITH t AS (SELECT 1) SELECT * FROM t' },
    ],
    ['How many orders? SELECT count(*) FROM orders', 'run_sql', { query: 'SELECT count(*) FROM orders' }],
    ['run this: explain select * from orders', 'run_sql', { query: 'explain select * from orders' }],
    ['VALUES (1), (2)', 'run_sql', { query: 'VALUES (1), (2)' }],
    ['SHOW search_path', 'run_sql', { query: 'SHOW search_path' }],
    ['show me dog food', 'search_products', { query: 'dog food' }],
    ["I'm looking for a red umbrella.", 'search_products', { query: 'red umbrella' }],
    ['do you sell cat toys?', 'search_products', { query: 'cat toys' }],
    ['which products are on sale', 'search_products', { query: 'which products are on sale' }],
  ])('%j calls %s', (text, name, args) => {
    expect(calls(request(text))).toEqual([{ name, arguments: args }]);
  });

  it.each([
    'hello there',
    'I went with my friend',
    'can you select the best option from the menu for me',
    'show tables',
  ])('%j is not SQL', (text) => {
    expect(findSqlQuery(text)).toBeNull();
  });

  it('answers plainly when the matching tool is not offered', () => {
    const decision = decideOffline(request('list the tables', { tools: productTools }));
    expect(decision).toEqual({ type: 'reply', text: expect.stringContaining(OFFLINE_LABEL) });
  });

  it('answers plainly, labelled, when nothing is asked for', () => {
    const decision = decideOffline(request('good morning'));
    expect(decision.type).toBe('reply');
    expect(decision.type === 'reply' && decision.text.startsWith(OFFLINE_LABEL)).toBe(true);
  });

  it('calls the only client function with a JSON message as its arguments', () => {
    const req = request('{"party": 4, "time": "19:30"}', { tools: [...allTools, bookTable] });
    expect(calls(req)).toEqual([{ name: 'book_table', arguments: { party: 4, time: '19:30' } }]);
  });

  it('does not guess between several client functions', () => {
    const other: FunctionDefinition = { name: 'cancel_booking' };
    const req = request('{"party": 4}', { tools: [bookTable, other] });
    expect(decideOffline(req).type).toBe('reply');
  });
});

describe('offline model: the seeds’ own prompts', () => {
  const withCreate = [...allTools, builtinFunctionDefinition('create_table')];

  it.each([
    ['show me all users in the users table', 'SELECT * FROM users LIMIT 100'],
    ['List the rows of the orders table', 'SELECT * FROM orders LIMIT 100'],
    ['show everything in public.customers', 'SELECT * FROM public.customers LIMIT 100'],
  ])('%j runs a bounded select', (text, query) => {
    expect(calls(request(text))).toEqual([{ name: 'run_sql', arguments: { query } }]);
  });

  it('creates a table from a sentence, guessing column types from their names', () => {
    const text = 'create a comments table with id, post_id, content and created_at';
    expect(calls(request(text, { tools: withCreate }))).toEqual([
      {
        name: 'create_table',
        arguments: {
          name: 'comments',
          columns: [
            { name: 'id', type: 'uuid', not_null: true, default: 'gen_random_uuid()' },
            { name: 'post_id', type: 'uuid' },
            { name: 'content', type: 'text' },
            { name: 'created_at', type: 'timestamptz', not_null: true, default: 'now()' },
          ],
          primary_key: ['id'],
        },
      },
    ]);
    expect(
      calls(
        request('Create a new table called invoices with columns total, is_paid, due_on', {
          tools: withCreate,
        }),
      ),
    ).toEqual([
      {
        name: 'create_table',
        arguments: {
          name: 'invoices',
          columns: [
            { name: 'total', type: 'numeric' },
            { name: 'is_paid', type: 'boolean' },
            { name: 'due_on', type: 'date' },
          ],
        },
      },
    ]);
  });

  it.each([
    ['מזון לכלבים', 'מזון לכלבים'],
    ['אני מחפש נעלי ריצה', 'נעלי ריצה'],
    ['יש לכם צעצועים לחתולים?', 'צעצועים לחתולים'],
  ])('searches products for the Hebrew request %j', (text, query) => {
    expect(calls(request(text))).toEqual([{ name: 'search_products', arguments: { query } }]);
  });

  it('answers Hebrew small talk plainly', () => {
    expect(calls(request('שלום'))).toEqual([]);
  });

  it('calls several tools in one turn when asked for several things, one when parallel calls are off', () => {
    const text = 'list the tables and show me dog food';
    const both = [
      { name: 'list_tables', arguments: {} },
      { name: 'search_products', arguments: { query: 'dog food' } },
    ];
    expect(calls(request(text))).toEqual(both);
    expect(calls(request(text, { parallelToolCalls: false }))).toEqual([both[0]]);
    // One request with an "and" in it stays one call.
    expect(calls(request('show me salt and pepper'))).toEqual([
      { name: 'search_products', arguments: { query: 'salt and pepper' } },
    ]);
  });
});

describe('offline model: tool_choice', () => {
  it("never calls a tool with 'none'", () => {
    expect(decideOffline(request('list the tables', { toolChoice: 'none' })).type).toBe('reply');
  });

  it('calls a forced function with a JSON message as its arguments', () => {
    const req = request('{"table": "orders"}', {
      toolChoice: { type: 'function', function: { name: 'get_schema' } },
    });
    expect(calls(req)).toEqual([{ name: 'get_schema', arguments: { table: 'orders' } }]);
  });

  it('derives a forced function’s arguments from the message', () => {
    const req = request('how many customers?', {
      toolChoice: { type: 'function', function: { name: 'run_sql' } },
    });
    expect(calls(req)).toEqual([{ name: 'run_sql', arguments: { query: 'how many customers?' } }]);
  });

  it('forces a function even when the message asks for another', () => {
    const req = request('list the tables', {
      toolChoice: { type: 'function', function: { name: 'search_products' } },
    });
    expect(calls(req)).toEqual([{ name: 'search_products', arguments: { query: 'list the tables' } }]);
  });

  it("calls the best-matching tool with 'required'", () => {
    expect(calls(request('describe orders', { toolChoice: 'required' }))).toEqual([
      { name: 'get_schema', arguments: { table: 'orders' } },
    ]);
  });

  it("calls the first offered tool with 'required' when nothing matches", () => {
    expect(calls(request('good morning', { toolChoice: 'required' }))).toEqual([
      { name: 'list_tables', arguments: {} },
    ]);
  });
});

describe('offline model: answering tool outputs', () => {
  const searchOutput = JSON.stringify({
    products: [
      { id: 'p1', name: 'Crunchy Dog Food' },
      { id: 'p2', name: 'Puppy Chow' },
    ],
    total: 2,
  });

  function afterTool(name: string, output: string, previous: ModelMessage[] = []): ModelMessage[] {
    return [
      ...previous,
      { role: 'user', content: 'show me dog food' },
      { role: 'assistant', toolCalls: [{ id: 'call_1', name, arguments: '{}' }] },
      { role: 'tool', toolCallId: 'call_1', name, output },
    ];
  }

  it('quotes each tool output, labelled', () => {
    const messages: ModelMessage[] = [
      { role: 'user', content: 'list the tables and describe orders' },
      {
        role: 'assistant',
        toolCalls: [
          { id: 'call_1', name: 'list_tables', arguments: '{}' },
          { id: 'call_2', name: 'get_schema', arguments: '{"table":"orders"}' },
        ],
      },
      { role: 'tool', toolCallId: 'call_1', name: 'list_tables', output: '[{"table":"orders"}]' },
      { role: 'tool', toolCallId: 'call_2', name: 'get_schema', output: '{"columns":["id"]}' },
    ];
    expect(decideOffline(request(messages))).toEqual({
      type: 'reply',
      text: `${OFFLINE_LABEL} The tool list_tables returned: [{"table":"orders"}]\n\nThe tool get_schema returned: {"columns":["id"]}`,
    });
  });

  it('shows the products a search found', () => {
    expect(calls(request(afterTool('search_products', searchOutput)))).toEqual([
      { name: 'show_products', arguments: { product_ids: ['p1', 'p2'] } },
    ]);
  });

  it('summarises a search that found nothing instead of showing', () => {
    const decision = decideOffline(request(afterTool('search_products', '{"products":[],"total":0}')));
    expect(decision).toEqual({
      type: 'reply',
      text: `${OFFLINE_LABEL} The tool search_products returned: {"products":[],"total":0}`,
    });
  });

  it('summarises a search when show_products is not offered', () => {
    const decision = decideOffline(request(afterTool('search_products', searchOutput), { tools: sqlTools }));
    expect(decision.type).toBe('reply');
  });

  it('names the products it showed', () => {
    const shown = JSON.stringify({
      products: [
        { id: 'p1', name: 'Crunchy Dog Food', price: 12 },
        { id: 'p2', name: 'Puppy Chow' },
      ],
    });
    expect(decideOffline(request(afterTool('show_products', shown)))).toEqual({
      type: 'reply',
      text: `${OFFLINE_LABEL} Here are the products: Crunchy Dog Food and Puppy Chow.`,
    });
  });

  it('names the products it showed after a search without quoting the search', () => {
    const shown = JSON.stringify({ products: [{ id: 'p1', name: 'Crunchy Dog Food' }] });
    expect(
      summariseToolOutputs([
        { role: 'tool', toolCallId: 'call_1', name: 'search_products', output: searchOutput },
        { role: 'tool', toolCallId: 'call_2', name: 'show_products', output: shown },
      ]),
    ).toBe(`${OFFLINE_LABEL} Here are the products: Crunchy Dog Food.`);
  });

  it('answers tool outputs rather than calling again, whatever tool_choice says', () => {
    const messages = afterTool('run_sql', '[{"count":3}]');
    expect(decideOffline(request(messages, { toolChoice: 'required' })).type).toBe('reply');
  });

  it('ignores tool outputs from before the latest user message', () => {
    const messages: ModelMessage[] = [
      ...afterTool('run_sql', '[]'),
      { role: 'user', content: 'list the tables' },
    ];
    expect(calls(request(messages))).toEqual([{ name: 'list_tables', arguments: {} }]);
  });
});

describe('offline model: streaming', () => {
  const signal = new AbortController().signal;

  it('streams the reply word by word, with usage by the documented rule', async () => {
    const provider = createOfflineProvider({ tokenDelayMs: 0 });
    const req = request('good morning');
    const events = await collect(provider.stream(req, signal));
    const text = events.flatMap((event) => (event.type === 'text' ? [event.delta] : []));
    expect(text.length).toBeGreaterThan(5);
    expect(text).toEqual(wordChunks(text.join('')));
    expect(text.join('')).toMatch(/^\[offline model\] /);
    expect(events.at(-2)).toEqual({
      type: 'usage',
      promptTokens: countPromptTokens(req),
      completionTokens: text.length,
    });
    expect(countPromptTokens(req)).toBe(Math.ceil(`\n${JSON.stringify(req.messages[0])}`.length / 4));
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('stops at maxOutputTokens with finish length', async () => {
    const provider = createOfflineProvider({ tokenDelayMs: 0 });
    const events = await collect(provider.stream(request('good morning', { maxOutputTokens: 3 }), signal));
    expect(events.filter((event) => event.type === 'text')).toHaveLength(3);
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'length' });
  });

  it('yields a complete tool call with a call id and JSON arguments', async () => {
    const provider = createOfflineProvider({ tokenDelayMs: 0 });
    const events = await collect(provider.stream(request('describe orders'), signal));
    const [call] = events.flatMap((event) => (event.type === 'tool_call' ? [event.call] : []));
    expect(call?.name).toBe('get_schema');
    expect(JSON.parse(call?.arguments ?? '')).toEqual({ table: 'orders' });
    expect(isIdOf('call', call?.id ?? '')).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  it('streams a tool call in pieces before the whole call: its start, then arguments that join to the call', async () => {
    const provider = createOfflineProvider({ tokenDelayMs: 0 });
    const events = await collect(provider.stream(request('describe orders'), signal));
    const [call] = events.flatMap((event) => (event.type === 'tool_call' ? [event.call] : []));
    const started = events.find((event) => event.type === 'tool_call_started');
    const pieces = events.flatMap((event) => (event.type === 'tool_call_arguments' ? [event.delta] : []));
    expect(started).toEqual({ type: 'tool_call_started', index: 0, id: call?.id, name: 'get_schema' });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(call?.arguments);
    expect(events.findIndex((event) => event.type === 'tool_call')).toBeGreaterThan(
      events.findIndex((event) => event.type === 'tool_call_arguments'),
    );
  });

  it('waits the configured delay before each chunk and stops when cancelled', async () => {
    const controller = new AbortController();
    const delays: number[] = [];
    const provider = createOfflineProvider({
      tokenDelayMs: 25,
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === 2) controller.abort(new Error('cancelled'));
      },
    });
    const seen: ModelEvent[] = [];
    const consume = (async () => {
      for await (const event of provider.stream(request('good morning'), controller.signal)) seen.push(event);
    })();
    await expect(consume).rejects.toThrow('cancelled');
    expect(delays).toEqual([25, 25]);
    expect(seen).toHaveLength(2);
  });
});

describe('offline model: file_search', () => {
  const fileSearch = builtinFunctionDefinition('file_search');
  const withFiles = [...allTools, fileSearch];

  it.each([
    'Search the documents: how do I reset my password?',
    'Look through my files for the refund policy',
    'According to the documents, how long are backups kept?',
  ])('searches the files with the whole message when "%s"', (message) => {
    expect(calls(request(message, { tools: withFiles }))).toEqual([
      { name: 'file_search', arguments: { query: message } },
    ]);
  });

  it('does not search files it was not given, nor when the message does not ask', () => {
    expect(calls(request('Search the documents for the refund policy'))).toEqual([]);
    expect(calls(request('How long does delivery take?', { tools: withFiles }))).toEqual([]);
  });

  it('searches with the message when tool_choice forces file_search (as the run worker passes it)', () => {
    const forced = request('How long does delivery take?', {
      tools: withFiles,
      toolChoice: { type: 'function', function: { name: 'file_search' } },
    });
    expect(calls(forced)).toEqual([
      { name: 'file_search', arguments: { query: 'How long does delivery take?' } },
    ]);
  });

  it('answers with the best passages quoted, each with the marker that cites it', () => {
    const output = JSON.stringify({
      ranking_options: { ranker: 'default_2024_08_21', score_threshold: 0 },
      results: [
        {
          citation: '【0:0†source】',
          file_id: 'file_a',
          file_name: 'a.md',
          score: 1,
          content: 'Delivery takes 3 days.',
        },
        {
          citation: '【0:1†source】',
          file_id: 'file_b',
          file_name: 'b.md',
          score: 0.5,
          content: 'Refunds in 30 days.',
        },
      ],
    });
    const answer = summariseToolOutputs([
      { role: 'tool', toolCallId: 'call_1', name: 'file_search', output },
    ]);
    expect(answer).toBe(
      `${OFFLINE_LABEL} Here is what the files say:\n- "Delivery takes 3 days." (a.md) 【0:0†source】\n- "Refunds in 30 days." (b.md) 【0:1†source】`,
    );
    const empty = JSON.stringify({ ranking_options: { ranker: 'auto', score_threshold: 0 }, results: [] });
    expect(
      summariseToolOutputs([{ role: 'tool', toolCallId: 'call_2', name: 'file_search', output: empty }]),
    ).toBe(`${OFFLINE_LABEL} I searched the files and found nothing that matches.`);
  });
});

describe('the offline model with code_interpreter', () => {
  const codeTools = modelFunctions([{ type: 'code_interpreter' }]);

  it('runs a fenced python block verbatim, without being forced', () => {
    const text = 'Can you run this?\n```python\nx = 1\nprint(x)\n```\nThanks';
    expect(decideOffline(request(text, { tools: codeTools }))).toEqual({
      type: 'tool_calls',
      calls: [{ name: 'code_interpreter', arguments: { code: 'x = 1\nprint(x)' } }],
    });
  });

  it('runs the whole message when forced and it holds no block', () => {
    const forced = { tools: codeTools, toolChoice: { type: 'code_interpreter' as const } };
    expect(decideOffline(request('print(6 * 7)', forced))).toEqual({
      type: 'tool_calls',
      calls: [{ name: 'code_interpreter', arguments: { code: 'print(6 * 7)' } }],
    });
  });

  it('does not run python when code_interpreter is not offered', () => {
    expect(decideOffline(request('```python\nprint(1)\n```')).type).toBe('reply');
  });

  it('answers with the logs', () => {
    const outputs = [
      { role: 'tool' as const, toolCallId: 'call_1', name: 'code_interpreter', output: '42\n' },
    ];
    expect(summariseToolOutputs(outputs)).toBe(`${OFFLINE_LABEL} The code ran. Its output:\n\n42\n`);
  });
});
