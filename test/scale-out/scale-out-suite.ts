// Many processes of each service at once, as real child processes: two APIs, two run workers and two tool workers on
// one Redis (a 3-master cluster, or a single server) and one Postgres (behind pgbouncer in transaction mode, or
// direct), driven through the official SDK. Each topology is one test file that calls `describeScaleOut`.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import {
  closeDb,
  createDb,
  createRedis,
  type Db,
  loadConfig,
  queuePrefix,
  RUNS_QUEUE,
  redisTargetOf,
  schema,
  WEBHOOKS_QUEUE,
} from '@threadwork/shared';
import {
  createEmptyDatabase,
  createTestDatabase,
  randomPrefix,
  type TestDatabase,
  waitFor,
} from '@threadwork/testing';
import { Queue } from 'bullmq';
import { and, count, eq, inArray } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { allTerminal } from '../support/fault-runs.js';
import { type OwnPgbouncer, startOwnPgbouncer } from '../support/pgbouncer.js';
import { type ServiceName, type ServiceProcess, startService } from '../support/processes.js';
import { type OwnRedisCluster, startOwnRedisCluster } from '../support/redis-cluster.js';
import { apiClient, within } from '../support/run-streams.js';
import { ADMIN_KEY, sdkClient } from '../support/stack.js';

export type Topology = 'redis-cluster+pgbouncer' | 'single-redis+direct-postgres';

const SWEEP_INTERVAL_MS = 500;

/** The per-end-user request limit the limit test spends (other tests send no X-Threadwork-User). */
const USER_REQUESTS_PER_MINUTE = 20;

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

/** A message the offline model echoes word by word: long enough to be mid-answer for a second or so. */
function longMessage(tag: string): string {
  return `Please repeat: ${Array.from({ length: 80 }, (_, index) => `${tag}${index}`).join(' ')}`;
}

function answerText(message: OpenAI.Beta.Threads.Message | undefined): string {
  return (message?.content ?? []).map((part) => (part.type === 'text' ? part.text.value : '')).join('');
}

interface Deployment {
  env: Record<string, string>;
  database: TestDatabase;
  toolsDatabase: TestDatabase;
  cluster: OwnRedisCluster | null;
  pgbouncer: OwnPgbouncer | null;
  processes: Map<string, ServiceProcess>;
}

async function deploy(topology: Topology): Promise<Deployment> {
  const serverUrl = inject('databaseServerUrl');
  const clustered = topology === 'redis-cluster+pgbouncer';
  const [database, toolsDatabase, cluster, pgbouncer] = await Promise.all([
    createTestDatabase(serverUrl),
    createEmptyDatabase(serverUrl),
    clustered ? startOwnRedisCluster() : null,
    clustered ? startOwnPgbouncer(serverUrl, { poolSize: 10 }) : null,
  ]);
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: pgbouncer ? pgbouncer.urlFor(database.url) : database.url,
    MIGRATIONS_DATABASE_URL: database.url,
    // Debian's pgbouncer (1.18) does not carry named prepared statements between transactions.
    ...(pgbouncer ? { DATABASE_PREPARED_STATEMENTS: 'false' } : {}),
    TOOLS_DATABASE_URL: toolsDatabase.url,
    ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodes.join(',') } : { REDIS_URL: inject('redisUrl') }),
    QUEUE_PREFIX: randomPrefix(),
    ADMIN_API_KEY: ADMIN_KEY,
    PORT: '0',
    RUN_WORKER_PORT: '0',
    TOOL_WORKER_PORT: '0',
    DATABASE_POOL_SIZE: '4',
    POLL_AFTER_MS: '20',
    OFFLINE_TOKEN_DELAY_MS: '10',
    RUN_LEASE_MS: '2000',
    RUN_JOB_LOCK_MS: '2000',
    SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
    SWEEP_QUEUED_GRACE_MS: '500',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    RATE_LIMIT_PER_USER_PER_MINUTE: String(USER_REQUESTS_PER_MINUTE),
    TOOL_RATE_LIMIT_PER_USER: '100/60,search_products=2/60',
    TOOL_RATE_LIMIT_MAX_WAIT_MS: '300',
  };
  const names: Array<[string, ServiceName]> = [
    ['api-a', 'api'],
    ['api-b', 'api'],
    ['run-worker-a', 'run-worker'],
    ['run-worker-b', 'run-worker'],
    ['tool-worker-a', 'tool-worker'],
    ['tool-worker-b', 'tool-worker'],
  ];
  const processes = new Map<string, ServiceProcess>();
  const deployment = { env, database, toolsDatabase, cluster, pgbouncer, processes };
  try {
    await Promise.all(
      names.map(async ([name, service]) => processes.set(name, await startService(env, service))),
    );
  } catch (error) {
    await tearDown(deployment);
    throw error;
  }
  return deployment;
}

async function tearDown(deployment: Deployment): Promise<void> {
  await Promise.all(
    [...deployment.processes.values()].map(({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
  await Promise.all([deployment.database.drop(), deployment.toolsDatabase.drop()]);
  await Promise.all([deployment.cluster?.destroy(), deployment.pgbouncer?.destroy()]);
}

export function describeScaleOut(topology: Topology): void {
  let deployment: Deployment;
  let db: Db;
  let urls: { a: string; b: string };
  let key: string;
  let a: OpenAI;
  let b: OpenAI;
  let plain: OpenAI.Beta.Assistant;

  /** A queue of the deployment, on the deployment's Redis, for as long as `use` takes. */
  async function withQueue<T>(name: string, use: (queue: Queue) => Promise<T>): Promise<T> {
    const connection = createRedis(redisTargetOf(loadConfig(deployment.env)), 'worker', 'scale-out-test');
    const queue = new Queue(name, { connection, prefix: queuePrefix(deployment.env.QUEUE_PREFIX ?? '') });
    try {
      return await use(queue);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }

  beforeAll(async () => {
    deployment = await deploy(topology);
    db = createDb({ url: deployment.database.url, poolSize: 2 });
    const portOf = (name: string) => deployment.processes.get(name)?.ready.port;
    urls = { a: `http://127.0.0.1:${portOf('api-a')}`, b: `http://127.0.0.1:${portOf('api-b')}` };
    const created = await fetch(`${urls.a}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'scale-out' }),
    });
    key = ((await created.json()) as { key: string }).key;
    a = sdkClient(`${urls.a}/v1`, key);
    b = sdkClient(`${urls.b}/v1`, key);
    plain = await a.beta.assistants.create({ model: 'offline' });
  }, 90_000);

  afterAll(async () => {
    if (db) await closeDb(db);
    if (deployment) await tearDown(deployment);
  });

  describe(`two APIs, two run workers, two tool workers on ${topology}`, () => {
    it('streams runs created on either API to completion', async () => {
      const runs = await Promise.all(
        [a, b, a, b].map(async (client, index) => {
          const thread = await client.beta.threads.create({
            messages: [{ role: 'user', content: `Hello from client ${index}` }],
          });
          let deltas = 0;
          const stream = client.beta.threads.runs
            .stream(thread.id, { assistant_id: plain.id })
            .on('textDelta', () => {
              deltas += 1;
            });
          const run = await stream.finalRun();
          return { run, deltas, text: answerText((await stream.finalMessages())[0]) };
        }),
      );
      for (const { run, deltas, text } of runs) {
        expect(run.status).toBe('completed');
        expect(deltas).toBeGreaterThan(0);
        expect(text.length).toBeGreaterThan(0);
      }
    });

    it('runs a built-in tool in a tool worker and continues the run', async () => {
      const assistant = await b.beta.assistants.create({
        model: 'offline',
        tools: [{ type: 'list_tables' }] as never,
      });
      const thread = await b.beta.threads.create({
        messages: [{ role: 'user', content: 'What tables do I have?' }],
      });
      const run = await b.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id }).finalRun();
      expect(run.status).toBe('completed');
      const steps = await a.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
      const calls = steps.data.flatMap((step) =>
        step.step_details.type === 'tool_calls' ? step.step_details.tool_calls : [],
      );
      expect(calls.map((call) => (call.type === 'function' ? call.function.name : call.type))).toEqual([
        'list_tables',
      ]);
      const [answer] = (await a.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
      expect(answerText(answer)).toContain('customers');
    });

    it('takes a client tool call on one API and its outputs on the other', async () => {
      const assistant = await a.beta.assistants.create({ model: 'offline', tools: [weatherTool] });
      const thread = await a.beta.threads.create({
        messages: [{ role: 'user', content: JSON.stringify({ city: 'Lyon' }) }],
      });
      const waiting = await a.beta.threads.runs.createAndPoll(thread.id, {
        assistant_id: assistant.id,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      expect(waiting.status).toBe('requires_action');
      const call = waiting.required_action?.submit_tool_outputs.tool_calls[0];
      if (!call) throw new Error('no tool call');
      const continued = b.beta.threads.runs.submitToolOutputsStream(waiting.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: call.id, output: 'sunny, 21 C' }],
      });
      const run = await continued.finalRun();
      expect(run.status).toBe('completed');
      expect(answerText((await continued.finalMessages())[0])).toContain('sunny');
    });

    it('resumes a stream opened on one API on the other with Last-Event-ID', async () => {
      const onA = await apiClient(urls.a, key).streamChat(longMessage('resume'), plain.id);
      const cut = await waitFor(async () => onA.deltas >= 3 && { lastId: onA.lastId, text: onA.text }, {
        what: 'a few deltas on the first API',
      });
      const onB = await apiClient(urls.b, key).resume(onA.runId ?? '', cut.lastId);
      const [endA, endB] = await Promise.all([
        within(onA.ending, 20_000, 'the stream on the first API to end'),
        within(onB.ending, 20_000, 'the resumed stream to end'),
      ]);
      expect([endA.status, endB.status]).toEqual(['completed', 'completed']);
      const [stored] = await db
        .select({ content: schema.messages.content })
        .from(schema.messages)
        .where(and(eq(schema.messages.threadId, onA.threadId ?? ''), eq(schema.messages.role, 'assistant')));
      const storedText = stored?.content
        .map((part) => (part.type === 'text' ? part.text.value : ''))
        .join('');
      expect(onB.text.length).toBeGreaterThan(0);
      expect(cut.text + onB.text).toBe(storedText);
      expect(onA.text).toBe(storedText);
    });

    it('cancels through the other API the run a worker is streaming', async () => {
      const thread = await a.beta.threads.create({
        messages: [{ role: 'user', content: longMessage('cancel') }],
      });
      const stream = a.beta.threads.runs.stream(thread.id, { assistant_id: plain.id });
      await new Promise<void>((resolve) => stream.once('textDelta', () => resolve()));
      const runId = stream.currentRun()?.id ?? '';
      const cancelling = await b.beta.threads.runs.cancel(runId, { thread_id: thread.id });
      expect(cancelling.status).toBe('cancelling');
      const run = await within(stream.finalRun(), 10_000, 'the cancelled run to end');
      expect(run.status).toBe('cancelled');
      const [message] = (await b.beta.threads.messages.list(thread.id, { run_id: runId })).data;
      expect(message?.status).toBe('incomplete');
      expect(answerText(message).length).toBeLessThan(longMessage('cancel').length);
    });

    it('shares request limits between the APIs', async () => {
      const answers = await Promise.all(
        Array.from({ length: USER_REQUESTS_PER_MINUTE + 10 }, (_, index) =>
          fetch(`${index % 2 === 0 ? urls.a : urls.b}/v1/assistants?limit=1`, {
            headers: { authorization: `Bearer ${key}`, 'x-threadwork-user': 'limited-user' },
          }),
        ),
      );
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(USER_REQUESTS_PER_MINUTE);
      expect(statuses.filter((status) => status === 429)).toHaveLength(10);
      expect(answers.find((answer) => answer.status === 429)?.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it('shares per-user tool limits between the tool workers', async () => {
      const assistant = await a.beta.assistants.create({
        model: 'offline',
        tools: [{ type: 'search_products' }] as never,
      });
      const runs = await Promise.all(
        [a, b, a, b].map(async (client) => {
          const thread = await client.beta.threads.create({
            messages: [{ role: 'user', content: 'show me dog food' }],
          });
          return client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
        }),
      );
      expect(runs.map((run) => run.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
      const executions = await db
        .select({ status: schema.toolExecutions.status, error: schema.toolExecutions.error })
        .from(schema.toolExecutions)
        .where(
          and(
            inArray(
              schema.toolExecutions.runId,
              runs.map((run) => run.id),
            ),
            eq(schema.toolExecutions.tool, 'search_products'),
          ),
        );
      expect(executions).toHaveLength(4);
      expect(executions.filter((row) => row.status === 'succeeded')).toHaveLength(2);
      const refused = executions.filter((row) => row.status === 'failed');
      expect(refused).toHaveLength(2);
      for (const row of refused) expect(row.error).toContain('rate');
    });

    it('drives every run once: one model call per step, one answer per answer step', async () => {
      const settled = await db
        .select({ id: schema.runs.id })
        .from(schema.runs)
        .where(eq(schema.runs.status, 'completed'));
      expect(settled).toHaveLength(11);
      const ids = settled.map((run) => run.id);
      const perRun = async (table: typeof schema.usageLogs | typeof schema.runSteps) => {
        const rows = await db
          .select({ runId: table.runId, n: count() })
          .from(table)
          .where(inArray(table.runId, ids))
          .groupBy(table.runId);
        return new Map(rows.map((row) => [row.runId, row.n]));
      };
      const [modelCalls, steps] = await Promise.all([perRun(schema.usageLogs), perRun(schema.runSteps)]);
      const answers = await db
        .select({ runId: schema.messages.runId, n: count() })
        .from(schema.messages)
        .where(and(inArray(schema.messages.runId, ids), eq(schema.messages.role, 'assistant')))
        .groupBy(schema.messages.runId);
      const messageSteps = await db
        .select({ runId: schema.runSteps.runId, n: count() })
        .from(schema.runSteps)
        .where(and(inArray(schema.runSteps.runId, ids), eq(schema.runSteps.type, 'message_creation')))
        .groupBy(schema.runSteps.runId);
      for (const runId of ids) expect(modelCalls.get(runId), runId).toBe(steps.get(runId));
      expect(new Map(answers.map((row) => [row.runId, row.n]))).toEqual(
        new Map(messageSteps.map((row) => [row.runId, row.n])),
      );
    });

    it('adds one sweep per interval whichever run worker takes it, not one per worker', async () => {
      await withQueue(RUNS_QUEUE, async (runs) => {
        const sweeps = (await runs.getJobs(['completed'], 0, -1))
          .filter((job) => job.name === 'run.sweep')
          .sort((first, second) => (first.processedOn ?? 0) - (second.processedOn ?? 0));
        const workerIds = [...deployment.processes.entries()]
          .filter(([name]) => name.startsWith('run-worker'))
          .map(([, service]) => `${hostname()}:${service.child.pid}`);
        expect(sweeps.length).toBeGreaterThanOrEqual(5);
        for (const sweep of sweeps) expect(workerIds).toContain(sweep.processedBy);
        const spanMs = (sweeps.at(-1)?.processedOn ?? 0) - (sweeps[0]?.processedOn ?? 0);
        expect(sweeps.length).toBeLessThanOrEqual(spanMs / SWEEP_INTERVAL_MS + 2);
      });
    });

    it('sends each run ending to a webhook once, the endpoint registered on one API heard by every process', async () => {
      const received: Array<{ id: string; runId: string }> = [];
      const receiver = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { id: string } };
          received.push({ id: String(req.headers['webhook-id']), runId: payload.data.id });
          res.writeHead(204).end();
        });
      });
      receiver.listen(0, '127.0.0.1');
      await once(receiver, 'listening');
      try {
        const { port } = receiver.address() as AddressInfo;
        const registered = await fetch(`${urls.a}/admin/webhooks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ url: `http://127.0.0.1:${port}/hook`, events: ['run.completed'] }),
        });
        expect(registered.status).toBe(201);
        const runs = await Promise.all(
          [a, b, a, b].map(async (client, index) => {
            const thread = await client.beta.threads.create({
              messages: [{ role: 'user', content: `Webhook run ${index}` }],
            });
            return client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: plain.id });
          }),
        );
        const runIds = runs.map((run) => run.id);
        const ours = () => received.filter((request) => runIds.includes(request.runId));
        await waitFor(async () => ours().length >= runIds.length, { what: 'a webhook for every run' });
        // Nothing left that could send one again: every dispatch and delivery job has finished.
        await withQueue(WEBHOOKS_QUEUE, (webhooks) =>
          waitFor(
            async () => {
              const counts = await webhooks.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
              return Object.values(counts).every((count) => count === 0);
            },
            { what: 'the webhooks queue to be idle' },
          ),
        );
        expect(
          ours()
            .map((request) => request.runId)
            .sort(),
        ).toEqual([...runIds].sort());
        expect(new Set(ours().map((request) => request.id)).size).toBe(runIds.length);
      } finally {
        receiver.closeAllConnections();
        await new Promise((resolve) => receiver.close(resolve));
      }
    });

    it('settles through the other worker’s sweeper a run whose worker was SIGKILLed', async () => {
      const stream = await apiClient(urls.b, key).streamAssistantsRun(plain.id, longMessage('killed'));
      await waitFor(async () => stream.deltas >= 3, { what: 'the run to be streaming' });
      const [held] = await db
        .select({ owner: schema.runs.leaseOwner })
        .from(schema.runs)
        .where(eq(schema.runs.id, stream.runId ?? ''));
      const holder = [...deployment.processes.entries()].find(
        ([name, process]) => name.startsWith('run-worker') && held?.owner?.endsWith(`:${process.child.pid}`),
      );
      if (!holder) throw new Error(`no run worker holds the run (lease owner ${held?.owner})`);
      const [, victim] = holder;
      const exited = new Promise((resolve) => victim.child.once('exit', resolve));
      victim.child.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      const ending = await within(stream.ending, 15_000, 'the killed run’s stream to end');
      const { rows, at } = await allTerminal(db, [stream.runId ?? ''], 15_000);
      const [run] = rows;
      expect(run?.status).toBe('failed');
      expect(run?.lastError?.code).toBe('server_error');
      expect(ending).toMatchObject({ kind: 'terminal', status: 'failed' });
      expect(at - killedAt).toBeLessThan(10_000);
      const [answer] = await db
        .select({ content: schema.messages.content })
        .from(schema.messages)
        .where(and(eq(schema.messages.runId, stream.runId ?? ''), eq(schema.messages.role, 'assistant')));
      const kept = answer?.content.map((part) => (part.type === 'text' ? part.text.value : '')).join('');
      expect(kept).toBe(stream.text);
    });
  });
}
