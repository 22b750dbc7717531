// Environment configuration: one typed object, validated once at start-up.
import { z } from 'zod';
import {
  contextTokensFromEnv,
  DEFAULT_ANTHROPIC_BASE_URL,
  modelFallbacksFromEnv,
  modelProvidersFromEnv,
  priceTableFromEnv,
} from './models.js';
import { retryDelaysFromEnv } from './webhooks.js';

const boolFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/** The proxies whose X-Forwarded-For express believes: `loopback`, `linklocal`, `uniquelocal`, addresses, subnets. */
const trustedProxy = z.union([
  z.enum(['loopback', 'linklocal', 'uniquelocal']),
  z.ipv4(),
  z.ipv6(),
  z.cidrv4(),
  z.cidrv6(),
]);

/**
 * Express's `trust proxy`: off by default (the client's address is the connection's); `true` believes every proxy, a
 * number the last N hops, a list only those proxies.
 */
const trustProxyFromEnv = z
  .string()
  .trim()
  .transform((value): boolean | number | string[] => {
    if (['', 'false', 'no', '0'].includes(value)) return false;
    if (['true', 'yes'].includes(value)) return true;
    if (/^\d+$/.test(value)) return Number(value);
    return value.split(',').map((item) => item.trim());
  })
  .pipe(z.union([z.boolean(), z.number().int().positive(), z.array(trustedProxy).min(1)]));

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: port.default(8080),
  RUN_WORKER_PORT: port.default(8081),
  TOOL_WORKER_PORT: port.default(8082),
  INGEST_WORKER_PORT: port.default(8084),
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/threadwork'),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  /** Off behind a pooler in transaction mode that does not carry named prepared statements (pgbouncer < 1.21). */
  DATABASE_PREPARED_STATEMENTS: boolFromEnv.default(true),
  /** A direct (session) connection for migrations when DATABASE_URL points at a transaction pooler. */
  MIGRATIONS_DATABASE_URL: z.url().optional(),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  /** A Redis Cluster's seed nodes (host:port,...); when set, it replaces REDIS_URL. */
  REDIS_CLUSTER_NODES: csv.pipe(z.array(z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'host:port'))).default([]),
  TOOLS_DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/threadwork_demo'),
  /** The tool worker's pool on TOOLS_DATABASE_URL (schema reads, DDL); run_sql opens its own reader connections. */
  TOOLS_DATABASE_POOL_SIZE: positiveInt.default(10),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('threadwork'),
  ADMIN_API_KEY: z.string().min(16, 'at least 16 characters').optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
  OPENAI_API_MODE: z.enum(['responses', 'chat']).default('responses'),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: z.url().default(DEFAULT_ANTHROPIC_BASE_URL),
  DEFAULT_MODEL: z.string().min(1).optional(),
  /** Embeddings for file_search: `provider/model` of an OpenAI-compatible server, or `offline-embedding`. */
  EMBEDDING_MODEL: z.string().min(1).optional(),
  /** The embedding model's vector size, when it is not one the embedder knows (sent as `dimensions` when set). */
  EMBEDDING_DIMENSIONS: positiveInt.max(16_000).optional(),
  // Model providers (docs/providers.md): OpenAI-compatible servers, retry policy, per-call timeout, prices, budgets.
  MODEL_PROVIDERS: modelProvidersFromEnv.default({}),
  MODEL_FALLBACKS: modelFallbacksFromEnv.default({}),
  MODEL_TIMEOUT_MS: positiveInt.default(60_000),
  MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  MODEL_RETRY_BASE_DELAY_MS: positiveInt.default(500),
  MODEL_RETRY_MAX_DELAY_MS: positiveInt.default(30_000),
  MODEL_PRICES: priceTableFromEnv.default({}),
  MODEL_CONTEXT_TOKENS: contextTokensFromEnv.default({}),
  RUN_CONCURRENCY: positiveInt.default(50),
  /** How long a run job's lock lasts without renewal: a dead run worker's job is taken over after about this long. */
  RUN_JOB_LOCK_MS: positiveInt.default(30_000),
  /** How long a worker holds a run without renewing its lease (it renews every third of this). */
  RUN_LEASE_MS: positiveInt.default(15_000),
  /** How often the sweeper looks for runs a fault left behind (docs/architecture.md, "Recovery"). */
  SWEEP_INTERVAL_MS: positiveInt.default(10_000),
  /** How long a queued run may wait for its job to appear before the sweeper enqueues it again. */
  SWEEP_QUEUED_GRACE_MS: positiveInt.default(5_000),
  TOOL_CONCURRENCY: positiveInt.default(20),
  // Tool worker (docs/tools.md): which built-in tools run, per-tool timeouts and rate limits ("<default>,<tool>=<value>"),
  // the SQL tools' limits, protected schemas and read-only role.
  TOOLS_DISABLED: csv.default([]),
  TOOLS_ALLOW_DROP_TABLE: boolFromEnv.default(false),
  TOOLS_PROTECTED_SCHEMAS: csv.default([]),
  TOOLS_DATABASE_SEED: boolFromEnv.default(true),
  TOOLS_READONLY_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase Postgres identifier')
    .default('threadwork_reader'),
  TOOLS_READONLY_DATABASE_URL: z.url().optional(),
  TOOL_TIMEOUT_MS: csv
    .pipe(z.array(z.string().regex(/^(?:[a-z_]+=)?\d+$/, 'ms or tool=ms')))
    .default(['15000']),
  TOOL_RATE_LIMIT_PER_USER: csv
    .pipe(z.array(z.string().regex(/^(?:[a-z_]+=)?\d+\/\d+$/, 'points/seconds or tool=points/seconds')))
    .default(['30/60']),
  TOOL_RATE_LIMIT_GLOBAL: csv
    .pipe(z.array(z.string().regex(/^(?:[a-z_]+=)?\d+\/\d+$/, 'points/seconds or tool=points/seconds')))
    .default(['300/60']),
  TOOL_RATE_LIMIT_MAX_WAIT_MS: positiveInt.default(60_000),
  TOOL_QUEUE_LIMIT_MAX: positiveInt.default(100),
  TOOL_QUEUE_LIMIT_DURATION_MS: positiveInt.default(1_000),
  TOOL_JOB_LOCK_MS: positiveInt.default(30_000),
  RUN_SQL_STATEMENT_TIMEOUT_MS: positiveInt.default(5_000),
  RUN_SQL_LOCK_TIMEOUT_MS: positiveInt.default(1_000),
  RUN_SQL_MAX_ROWS: positiveInt.default(200),
  RUN_SQL_MAX_RESULT_BYTES: positiveInt.default(65_536),
  // Files and vector stores (docs/files.md): the largest upload, the bytes a project's files may hold together, and
  // how many files one ingest worker extracts, chunks and embeds at once.
  /** At most 2 GiB - 1: a file's size is a Postgres integer. */
  FILE_MAX_BYTES: positiveInt.max(2_147_483_647).default(32 * 1024 * 1024),
  FILES_PROJECT_QUOTA_BYTES: positiveInt.default(10 * 1024 ** 3),
  INGEST_CONCURRENCY: positiveInt.default(4),
  /** How often files still in progress are queued again (a no-op for those whose job is still there). */
  INGEST_SWEEP_INTERVAL_MS: positiveInt.default(60_000),
  /** How long an ingest job's lock lasts without renewal: a dead ingest worker's file is taken over after about this. */
  INGEST_JOB_LOCK_MS: positiveInt.default(60_000),
  RUN_EXPIRY_SECONDS: positiveInt.default(600),
  OFFLINE_TOKEN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /** Join text deltas that arrive while the previous one is still being published (fewer events, no added delay). */
  COALESCE_DELTAS: boolFromEnv.default(true),
  /** Entries of a run's event stream kept (about: trimmed with `MAXLEN ~`); an entry is one append's events. */
  EVENT_STREAM_MAX_LENGTH: positiveInt.default(10_000),
  EVENT_STREAM_TTL_SECONDS: positiveInt.default(3600),
  SSE_HEARTBEAT_MS: positiveInt.default(15_000),
  SSE_MAX_LIFETIME_MS: positiveInt.default(30 * 60_000),
  POLL_AFTER_MS: positiveInt.default(100),
  REQUEST_BODY_LIMIT: z.string().default('1mb'),
  /** How long the API keeps an idle keep-alive connection open (above a load balancer's idle timeout). */
  HTTP_KEEP_ALIVE_MS: positiveInt.default(65_000),
  /** How long a request's headers may take to arrive. */
  HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(20_000),
  /** How long a whole request (headers and body) may take to arrive; a body still arriving then is cut off (408). */
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(60_000),
  /** How long a connection may stay silent during a request; above CHAT_WAIT_TIMEOUT_MS and SSE_HEARTBEAT_MS. */
  HTTP_IDLE_TIMEOUT_MS: positiveInt.default(120_000),
  MAX_MESSAGE_CHARS: positiveInt.default(256_000),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
  /** How long a verified API key is trusted without a lookup (0: never); revocations reach every API at once. */
  AUTH_CACHE_MS: z.coerce.number().int().min(0).default(5_000),
  CORS_ORIGINS: csv.default([]),
  // End users (docs/tenancy.md): the default project's end-user tokens, an HS256 secret (Supabase's JWT secret as is)
  // and/or a JWKS URL, with the issuer and audience they must name; other projects set theirs through the admin API.
  AUTH_JWT_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  /** Limits per end user (X-Threadwork-User or a token's sub), on top of the per-key ones: answered with 429. */
  RATE_LIMIT_PER_USER_PER_MINUTE: positiveInt.default(120),
  MAX_ACTIVE_RUNS_PER_USER: positiveInt.default(3),
  MAX_STREAMS_PER_USER: positiveInt.default(5),
  /** Requests with a wrong key or token per client address per minute, before its requests are refused unread. */
  RATE_LIMIT_INVALID_AUTH_PER_MINUTE: positiveInt.default(30),
  /** Which proxies' X-Forwarded-For gives the client's address (the invalid-credentials limit counts per address). */
  TRUST_PROXY: trustProxyFromEnv.default(false),
  // Chat API (docs/chat-api.md): how long POST /api/chat waits for a run before answering 202 with poll and stream URLs.
  CHAT_WAIT_TIMEOUT_MS: positiveInt.default(60_000),
  // Webhooks (docs/webhooks.md): the wait before each retry of a delivery (about 27.6 h in all by default), the
  // per-attempt timeout, how many messages in a row may exhaust their retries before an endpoint is disabled.
  WEBHOOK_RETRY_DELAYS: retryDelaysFromEnv.default([
    5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
  ]),
  WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
  WEBHOOK_DISABLE_AFTER_FAILURES: positiveInt.default(5),
  WEBHOOK_CONCURRENCY: positiveInt.default(20),
  /** Lets webhooks reach private, loopback and link-local addresses (tests, a receiver on the same network). */
  WEBHOOK_ALLOW_PRIVATE: boolFromEnv.default(false),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  PRETTY_LOGS: boolFromEnv.optional(),
});

export type Env = z.infer<typeof envSchema>;

const bytes = z.coerce.number().int().positive();

/** What the sandbox needs of the host, read-only: the Python installation and its libraries, nothing of Threadwork's. */
const defaultSandboxPaths = [
  '/usr/bin/python3',
  '/usr/lib/python3',
  '/usr/lib/python3.11',
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/share/matplotlib',
  '/usr/share/zoneinfo',
  '/usr/share/fonts',
  '/etc/alternatives',
  '/etc/matplotlibrc',
];

/**
 * The sandbox worker's settings (docs/code-interpreter.md). It is started with these variables only: it holds no
 * database URL, key or secret, so that code which escaped the sandbox would find none.
 */
export const sandboxEnvSchema = envSchema
  .pick({
    NODE_ENV: true,
    LOG_LEVEL: true,
    PRETTY_LOGS: true,
    REDIS_URL: true,
    REDIS_CLUSTER_NODES: true,
    QUEUE_PREFIX: true,
    SHUTDOWN_TIMEOUT_MS: true,
  })
  .extend({
    SANDBOX_WORKER_PORT: port.default(8083),
    /** Calls one sandbox worker runs at once (each in a session of its own thread). */
    SANDBOX_CONCURRENCY: positiveInt.default(4),
    /** Sessions one worker keeps; past it the one idle longest is ended. */
    SANDBOX_MAX_SESSIONS: positiveInt.default(16),
    /** A session idle this long ends; its variables and files are gone. */
    SANDBOX_SESSION_IDLE_MS: positiveInt.default(20 * 60_000),
    SANDBOX_BWRAP_PATH: z.string().min(1).default('/usr/bin/bwrap'),
    SANDBOX_PRLIMIT_PATH: z.string().min(1).default('/usr/bin/prlimit'),
    SANDBOX_PYTHON_PATH: z.string().min(1).default('/usr/bin/python3'),
    /** Host paths bound read-only at the same place inside the sandbox (those missing are skipped). */
    SANDBOX_READONLY_PATHS: csv.default(defaultSandboxPaths),
    /** The host uids sessions run as (one picked at random per session); used when the worker runs as root. */
    SANDBOX_UID_MIN: positiveInt.default(200_000),
    SANDBOX_UID_MAX: positiveInt.default(299_999),
    /** Wall time of one call; past it the session is killed (a new one starts on the next call). */
    SANDBOX_CALL_TIMEOUT_MS: positiveInt.default(60_000),
    /** CPU seconds of each process of a session, summed over its calls (RLIMIT_CPU). */
    SANDBOX_CPU_SECONDS: positiveInt.default(300),
    /** Address space of each process (RLIMIT_AS). */
    SANDBOX_MEMORY_BYTES: bytes.default(1024 * 1024 * 1024),
    /** Processes and threads a session may have at once (RLIMIT_NPROC of its own uid). */
    SANDBOX_MAX_PROCESSES: positiveInt.default(32),
    SANDBOX_MAX_OPEN_FILES: positiveInt.default(256),
    /** Largest file the code may write (RLIMIT_FSIZE). */
    SANDBOX_MAX_FILE_BYTES: bytes.default(64 * 1024 * 1024),
    /** Size of /mnt/data, and of /tmp (memory-backed file systems). */
    SANDBOX_DATA_BYTES: bytes.default(256 * 1024 * 1024),
    SANDBOX_TMP_BYTES: bytes.default(64 * 1024 * 1024),
    /** stdout and stderr of one call kept for the model; the rest is cut, and said so. */
    SANDBOX_MAX_OUTPUT_BYTES: bytes.default(64 * 1024),
    /** Images and files one call may hand back, in all. */
    SANDBOX_MAX_RETURN_BYTES: bytes.default(20 * 1024 * 1024),
    /** code_interpreter calls per end user (or project) and for everyone together, as points/seconds. */
    SANDBOX_RATE_LIMIT_PER_USER: z
      .string()
      .regex(/^\d+\/\d+$/, 'points/seconds')
      .default('30/60'),
    SANDBOX_RATE_LIMIT_GLOBAL: z
      .string()
      .regex(/^\d+\/\d+$/, 'points/seconds')
      .default('300/60'),
    /** The longest a call waits, in all, for the rate limits, before it is answered that it was not run. */
    SANDBOX_RATE_LIMIT_MAX_WAIT_MS: positiveInt.default(60_000),
  })
  .refine((env) => env.SANDBOX_UID_MIN <= env.SANDBOX_UID_MAX, {
    path: ['SANDBOX_UID_MAX'],
    message: 'must not be below SANDBOX_UID_MIN',
  });

export type SandboxConfig = z.infer<typeof sandboxEnvSchema>;

/** The variables a sandbox worker is started with: its own settings, PATH, and nothing else of the environment. */
export function sandboxWorkerEnvironment(source: Record<string, string | undefined>): Record<string, string> {
  const names = new Set([...Object.keys(sandboxEnvSchema.shape), 'PATH']);
  return Object.fromEntries(
    Object.entries(source).filter(
      (entry): entry is [string, string] => names.has(entry[0]) && entry[1] !== undefined,
    ),
  );
}

export interface Config extends Env {
  defaultModel: string;
  isProduction: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Timeouts that would cut off requests the API itself keeps open, or never apply. */
function refuseInconsistentTimeouts(env: Env): void {
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      'Invalid configuration: HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (a request includes its headers)',
    );
  }
  const longestSilence = Math.max(env.CHAT_WAIT_TIMEOUT_MS, env.SSE_HEARTBEAT_MS);
  if (env.HTTP_IDLE_TIMEOUT_MS <= longestSilence) {
    throw new ConfigError(
      `Invalid configuration: HTTP_IDLE_TIMEOUT_MS: must exceed CHAT_WAIT_TIMEOUT_MS and SSE_HEARTBEAT_MS (${longestSilence} ms), which answers may stay silent for`,
    );
  }
}

function defaultModelFor(env: Env): string {
  if (env.OPENAI_API_KEY) return 'openai/gpt-4.1-mini';
  if (env.ANTHROPIC_API_KEY) return 'anthropic/claude-sonnet-4-5';
  return 'offline';
}

function presentValues(source: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(source).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
}

export function loadSandboxConfig(source: Record<string, string | undefined> = process.env): SandboxConfig {
  const result = sandboxEnvSchema.safeParse(presentValues(source));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const result = envSchema.safeParse(presentValues(source));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const env = result.data;
  const isProduction = env.NODE_ENV === 'production';
  if (isProduction && !env.ADMIN_API_KEY) {
    throw new ConfigError('Invalid configuration: ADMIN_API_KEY: required when NODE_ENV=production');
  }
  refuseInconsistentTimeouts(env);
  const defaultModel = env.DEFAULT_MODEL ?? defaultModelFor(env);
  return { ...env, defaultModel, isProduction };
}
