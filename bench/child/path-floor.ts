// The floor of a streamed run's path: the same hops as Threadwork's, on bare drivers and single-row statements, with
// none of Threadwork's own work. `api`: POST → durable INSERT → the first events and a BullMQ job in one Redis round
// trip → SSE from the run's channel (or, with `stream: false`, the run's id as JSON). `worker`: BullMQ job → durable claim → events (the answer: a constant, or the
// stream of a model server named in the POST, its first text appended at once) → durable ending → final event.

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';

export type PathFloorRole = 'api' | 'worker';
export type FromPathFloor = { type: 'ready'; url: string | null };

const QUEUE = 'path-floor';
/** One append: the seq, one stream entry, one sharded message, as Threadwork's event bus does. */
const appendScript = `
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], seq .. '-1', 'e', ARGV[1])
redis.call('SPUBLISH', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], 600)
return seq`;

interface Env {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
}

type Appender = Redis & {
  pathAppend(stream: string, seq: string, channel: string, frame: string): Promise<number>;
};

function appender(url: string): Appender {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.defineCommand('pathAppend', { numberOfKeys: 3, lua: appendScript });
  return redis as Appender;
}

/** The log and channel names of Threadwork's event bus (scenario 1's watcher follows these). */
const channelOf = (env: Env, runId: string) => `${env.prefix}:run-events:{${runId}}`;

/** One append, in the event bus's message shape: a JSON array of events. */
function append(redis: Appender, env: Env, runId: string, event: string, data: unknown): Promise<number> {
  const message = JSON.stringify([{ event, data }]);
  return redis.pathAppend(
    `${env.prefix}:run:{${runId}}:events`,
    `${env.prefix}:seq:{${runId}}`,
    channelOf(env, runId),
    message,
  );
}

async function startApi(env: Env): Promise<string> {
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 10 });
  const redis = appender(env.redisUrl);
  const subscriber = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
  await new Promise((resolve) => subscriber.once('ready', resolve));
  const queue = new Queue(QUEUE, { connection: redis, prefix: env.prefix });
  const streams = new Map<string, http.ServerResponse>();
  subscriber.on('smessage', (channel: string, message: string) => {
    const res = streams.get(channel);
    if (!res) return;
    const [{ event, data }] = JSON.parse(message) as [{ event: string; data: unknown }];
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (event !== 'thread.run.completed') return;
    streams.delete(channel);
    res.end();
    void subscriber.sunsubscribe(channel);
  });
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const runId = `run_${randomBytes(12).toString('hex')}`;
    const channel = channelOf(env, runId);
    const { provider, stream = true } = JSON.parse(body || '{}') as { provider?: string; stream?: boolean };
    const listening = stream ? subscriber.ssubscribe(channel) : null;
    await pool.query({
      name: 'insert_run',
      text: `insert into bench_path_runs (id, status, body) values ($1, 'queued', $2)`,
      values: [runId, body],
    });
    await listening;
    if (stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      streams.set(channel, res);
    }
    await Promise.all([
      append(redis, env, runId, 'thread.run.created', { id: runId, status: 'queued' }),
      queue.add('run', { runId, provider }, { jobId: runId, removeOnComplete: true }),
    ]);
    if (!stream)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: runId }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/**
 * Asks an OpenAI-compatible server for a streamed answer over a keep-alive connection; `onFirstText` runs when the
 * first text delta arrives; resolves with the whole body.
 */
function callModelServer(agent: http.Agent, baseUrl: string, onFirstText: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${baseUrl}/responses`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      },
      (response) => {
        let received = '';
        let hasText = false;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          received += chunk;
          if (hasText || !received.includes('response.output_text.delta')) return;
          hasText = true;
          onFirstText();
        });
        response.on('end', () => resolve(received));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(
      JSON.stringify({ model: 'm', stream: true, input: [{ role: 'user', content: 'Say hello.' }] }),
    );
  });
}

async function startWorker(env: Env): Promise<void> {
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 10 });
  const redis = appender(env.redisUrl);
  const agent = new http.Agent({ keepAlive: true });
  const worker = new Worker<{ runId: string; provider?: string }>(
    QUEUE,
    async (job) => {
      const { runId, provider } = job.data;
      const claimed = await pool.query({
        name: 'claim_run',
        text: `update bench_path_runs set status = 'in_progress' where id = $1 and status = 'queued' returning *`,
        values: [runId],
      });
      if (claimed.rowCount !== 1) return;
      void append(redis, env, runId, 'thread.run.in_progress', claimed.rows[0]);
      const text = 'Hello! This answer stands in for the model.';
      const firstText = () => {
        void append(redis, env, runId, 'thread.message.delta', {
          delta: { content: [{ text: { value: text } }] },
        });
      };
      if (provider) await callModelServer(agent, provider, firstText);
      else firstText();
      const ended = await pool.query({
        name: 'end_run',
        text: `update bench_path_runs set status = 'completed', body = body || $2 where id = $1 and status = 'in_progress' returning *`,
        values: [runId, JSON.stringify({ answer: text })],
      });
      await append(redis, env, runId, 'thread.run.completed', ended.rows[0]);
    },
    {
      connection: new Redis(env.redisUrl, { maxRetriesPerRequest: null }),
      prefix: env.prefix,
      concurrency: 50,
    },
  );
  await worker.waitUntilReady();
}

const role = process.argv[2] as PathFloorRole;
const env: Env = {
  databaseUrl: process.env.PATH_FLOOR_DATABASE_URL ?? '',
  redisUrl: process.env.PATH_FLOOR_REDIS_URL ?? '',
  prefix: process.env.PATH_FLOOR_PREFIX ?? '',
};
if (role === 'worker') await startWorker(env);
const url = role === 'api' ? await startApi(env) : null;
process.send?.({ type: 'ready', url } satisfies FromPathFloor);
// The bench stops this process by disconnecting or killing it; nothing here needs a graceful end.
process.on('disconnect', () => process.exit(0));
