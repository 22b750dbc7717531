// Threadwork's own tables. drizzle-kit generates migrations/ from this file.
import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type {
  ApiKeyRole,
  IncompleteDetails,
  LastError,
  MessageContentPart,
  Metadata,
  RequiredAction,
  ResponseFormat,
  StepDetails,
  ToolChoice,
  ToolDefinition,
  TruncationStrategy,
  Usage,
} from '../wire.js';
import { id } from './id-column.js';

const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow();
const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });
const metadata = () => jsonb('metadata').$type<Metadata>().notNull().default({});

/** The default project's id: a deployment starts with it, and `POST /admin/keys` makes keys in it. */
export const DEFAULT_PROJECT_ID = 'proj_default';

/**
 * A project owns everything made with its keys (the `owner_id` of assistants, threads, runs, usage). Its end users'
 * tokens are verified with its settings (a null setting of the default project falls back to the environment).
 */
export const projects = pgTable('projects', {
  id: id('id').primaryKey(),
  name: text('name').notNull(),
  jwtSecret: text('jwt_secret'),
  jwksUrl: text('jwks_url'),
  jwtIssuer: text('jwt_issuer'),
  jwtAudience: text('jwt_audience'),
  /** The project's own database for its SQL tools (it may hold a password: never shown); null: the deployment's. */
  toolsDatabaseUrl: text('tools_database_url'),
  /** Built-in tools the project turned off, on top of those the deployment turned off (TOOLS_DISABLED). */
  disabledTools: text('disabled_tools').array().notNull().default(sql`'{}'::text[]`),
  createdAt: createdAt(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: id('id').primaryKey(),
    projectId: id('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull().unique(),
    role: text('role').$type<ApiKeyRole>().notNull(),
    /** An admin key of the whole deployment (the bootstrap key): manages every project, not only its own. */
    isDeploymentAdmin: boolean('is_deployment_admin').notNull().default(false),
    createdAt: createdAt(),
    expiresAt: at('expires_at'),
    revokedAt: at('revoked_at'),
  },
  (table) => [
    index('api_keys_project_id_idx').on(table.projectId, table.id),
    check('api_keys_role_check', sql`${table.role} in ('admin', 'server')`),
  ],
);

export const assistants = pgTable(
  'assistants',
  {
    id: id('id').primaryKey(),
    ownerId: id('owner_id').references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name'),
    description: text('description'),
    model: text('model').notNull(),
    instructions: text('instructions'),
    tools: jsonb('tools').$type<ToolDefinition[]>().notNull().default([]),
    toolResources: jsonb('tool_resources').$type<Record<string, unknown>>().notNull().default({}),
    metadata: metadata(),
    temperature: real('temperature'),
    topP: real('top_p'),
    responseFormat: jsonb('response_format').$type<ResponseFormat>(),
    reasoningEffort: text('reasoning_effort'),
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: createdAt(),
  },
  (table) => [
    index('assistants_owner_id_idx').on(table.ownerId, table.id),
    uniqueIndex('assistants_one_default_idx').on(table.isDefault).where(sql`${table.isDefault}`),
  ],
);

export const threads = pgTable(
  'threads',
  {
    id: id('id').primaryKey(),
    ownerId: id('owner_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    /** The end user the thread belongs to inside its project; null: the project's own (made by a server key). */
    endUserId: id('end_user_id'),
    assistantId: id('assistant_id'),
    metadata: metadata(),
    toolResources: jsonb('tool_resources').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    lastActivityAt: at('last_activity_at').notNull().defaultNow(),
    /**
     * Set when a run is written to wait its turn on this thread, cleared once none waits: an ending's update of the
     * thread reads it from the thread's newest row, so a run written to wait while the ending ran is not missed.
     */
    hasWaitingRuns: boolean('has_waiting_runs').notNull().default(false),
  },
  (table) => [
    index('threads_owner_id_idx').on(table.ownerId, table.id),
    index('threads_owner_activity_idx').on(table.ownerId, table.lastActivityAt),
    index('threads_owner_end_user_activity_idx').on(table.ownerId, table.endUserId, table.lastActivityAt),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: id('id').primaryKey(),
    threadId: id('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    role: text('role').$type<'user' | 'assistant'>().notNull(),
    content: jsonb('content').$type<MessageContentPart[]>().notNull(),
    status: text('status').$type<'in_progress' | 'incomplete' | 'completed'>().notNull(),
    assistantId: id('assistant_id'),
    runId: id('run_id'),
    attachments: jsonb('attachments').$type<unknown[]>().notNull().default([]),
    metadata: metadata(),
    incompleteDetails: jsonb('incomplete_details').$type<{ reason: string }>(),
    createdAt: createdAt(),
    completedAt: at('completed_at'),
    incompleteAt: at('incomplete_at'),
  },
  (table) => [
    index('messages_thread_id_idx').on(table.threadId, table.id),
    index('messages_run_id_idx').on(table.runId),
  ],
);

export const runs = pgTable(
  'runs',
  {
    id: id('id').primaryKey(),
    threadId: id('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    ownerId: id('owner_id').notNull(),
    assistantId: id('assistant_id').notNull(),
    status: text('status').$type<import('../run-status.js').RunStatus>().notNull(),
    requiredAction: jsonb('required_action').$type<RequiredAction>(),
    lastError: jsonb('last_error').$type<LastError>(),
    incompleteDetails: jsonb('incomplete_details').$type<IncompleteDetails>(),
    model: text('model').notNull(),
    instructions: text('instructions').notNull(),
    tools: jsonb('tools').$type<ToolDefinition[]>().notNull().default([]),
    metadata: metadata(),
    usage: jsonb('usage').$type<Usage>(),
    temperature: real('temperature'),
    topP: real('top_p'),
    maxPromptTokens: integer('max_prompt_tokens'),
    maxCompletionTokens: integer('max_completion_tokens'),
    truncationStrategy: jsonb('truncation_strategy').$type<TruncationStrategy>().notNull(),
    toolChoice: jsonb('tool_choice').$type<ToolChoice>().notNull(),
    parallelToolCalls: boolean('parallel_tool_calls').notNull().default(true),
    responseFormat: jsonb('response_format').$type<ResponseFormat>().notNull(),
    createdAt: createdAt(),
    expiresAt: at('expires_at'),
    startedAt: at('started_at'),
    cancelledAt: at('cancelled_at'),
    failedAt: at('failed_at'),
    completedAt: at('completed_at'),
    /** The seq of the run's last event whose state is stored here: appends continue after it (never backwards). */
    eventSeq: integer('event_seq').notNull().default(0),
    /** The job that takes the run while it is queued: the sweeper checks it still exists. */
    jobId: id('job_id'),
    /** The worker driving the run, and until when: it renews the lease; past it, the sweeper settles the run. */
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: at('lease_expires_at'),
    /**
     * The run this one waits behind (multitask_strategy enqueue, interrupt, rollback): queued, with no job, until
     * every run before it has ended. Kept once the run ends without having started, so a run behind it can find
     * what it waits for.
     */
    waitsFor: id('waits_for'),
    /** multitask_strategy rollback: the run whose assistant messages and steps go when this one is released. */
    rollsBack: id('rolls_back'),
    /**
     * Where the run's history ends in the thread's message order (an id taken under the thread's lock when the run
     * was written): messages of runs queued behind it come later and are not part of its history.
     */
    historyUntil: id('history_until'),
  },
  (table) => [
    index('runs_thread_id_idx').on(table.threadId, table.id),
    // One run per thread is active and not waiting: the one that runs (or is about to).
    uniqueIndex('runs_one_active_per_thread_idx')
      .on(table.threadId)
      .where(
        sql`${table.status} in ('queued', 'in_progress', 'requires_action', 'cancelling') and ${table.waitsFor} is null`,
      ),
    index('runs_waiting_idx')
      .on(table.threadId)
      .where(sql`${table.status} = 'queued' and ${table.waitsFor} is not null`),
    index('runs_active_idx')
      .on(table.status)
      .where(sql`${table.status} in ('queued', 'in_progress', 'requires_action', 'cancelling')`),
    check(
      'runs_status_check',
      sql`${table.status} in ('queued', 'in_progress', 'requires_action', 'cancelling', 'cancelled', 'failed', 'completed', 'incomplete', 'expired')`,
    ),
  ],
);

export const runSteps = pgTable(
  'run_steps',
  {
    id: id('id').primaryKey(),
    runId: id('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    threadId: id('thread_id').notNull(),
    assistantId: id('assistant_id').notNull(),
    type: text('type').$type<'message_creation' | 'tool_calls'>().notNull(),
    status: text('status')
      .$type<'in_progress' | 'cancelled' | 'failed' | 'completed' | 'expired'>()
      .notNull(),
    stepDetails: jsonb('step_details').$type<StepDetails>().notNull(),
    lastError: jsonb('last_error').$type<LastError>(),
    usage: jsonb('usage').$type<Usage>(),
    createdAt: createdAt(),
    expiredAt: at('expired_at'),
    cancelledAt: at('cancelled_at'),
    failedAt: at('failed_at'),
    completedAt: at('completed_at'),
  },
  (table) => [index('run_steps_run_id_idx').on(table.runId, table.id)],
);

export const usageLogs = pgTable(
  'usage_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: id('run_id').notNull(),
    ownerId: id('owner_id').notNull(),
    model: text('model').notNull(),
    promptTokens: integer('prompt_tokens').notNull(),
    completionTokens: integer('completion_tokens').notNull(),
    totalTokens: integer('total_tokens').notNull(),
    costUsd: numeric('cost_usd', { precision: 14, scale: 8 }).notNull(),
    latencyMs: integer('latency_ms').notNull(),
    firstTokenMs: integer('first_token_ms'),
    createdAt: createdAt(),
  },
  (table) => [
    index('usage_logs_run_id_idx').on(table.runId),
    index('usage_logs_owner_created_idx').on(table.ownerId, table.createdAt),
  ],
);

export const toolExecutions = pgTable(
  'tool_executions',
  {
    callId: text('call_id').primaryKey(),
    runId: id('run_id').notNull(),
    ownerId: id('owner_id').notNull(),
    tool: text('tool').notNull(),
    arguments: jsonb('arguments').$type<unknown>().notNull(),
    status: text('status').$type<'running' | 'succeeded' | 'failed'>().notNull(),
    output: text('output'),
    error: text('error'),
    startedAt: at('started_at').notNull().defaultNow(),
    finishedAt: at('finished_at'),
    durationMs: integer('duration_ms'),
  },
  (table) => [index('tool_executions_run_id_idx').on(table.runId)],
);

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** Each project's product catalog, which its product tools search; replaced as a whole by a catalog import. */
export const products = pgTable(
  'products',
  {
    projectId: id('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    /** The id as text, whatever type the catalog gave it (unique within the project's catalog). */
    id: text('id').notNull(),
    /** The catalog gave the id as a JSON integer (WooCommerce ids): cards and search results give it back as one. */
    isIntegerId: boolean('is_integer_id').notNull().default(false),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    price: numeric('price', { precision: 12, scale: 2, mode: 'number' }),
    currency: text('currency'),
    url: text('url'),
    imageUrl: text('image_url'),
    categories: text('categories').array().notNull().default(sql`'{}'::text[]`),
    searchVector: tsvector('search_vector').generatedAlwaysAs(
      sql`to_tsvector('simple'::regconfig, name || ' ' || description)`,
    ),
    createdAt: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.projectId, table.id] }),
    index('products_search_vector_idx').using('gin', table.searchVector),
    index('products_name_trgm_idx').using('gin', sql`(name || ' ' || description) gin_trgm_ops`),
  ],
);

/** One row per project: the content hash and size of the catalog it last imported. */
export const catalogState = pgTable('catalog_state', {
  projectId: id('project_id')
    .primaryKey()
    .references(() => projects.id, { onDelete: 'cascade' }),
  contentHash: text('content_hash').notNull(),
  productCount: integer('product_count').notNull(),
  importedAt: at('imported_at').notNull().defaultNow(),
});

export const messageFeedback = pgTable(
  'message_feedback',
  {
    id: id('id').primaryKey(),
    messageId: id('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    ownerId: id('owner_id').notNull(),
    rating: integer('rating').notNull(),
    comment: text('comment'),
    createdAt: createdAt(),
  },
  (table) => [
    index('message_feedback_created_idx').on(table.createdAt),
    uniqueIndex('message_feedback_owner_message_idx').on(table.messageId, table.ownerId),
  ],
);

/** Where a run's endings are sent (docs/webhooks.md); the secret signs every message (Standard Webhooks). */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: id('id').primaryKey(),
    ownerId: id('owner_id').notNull(),
    url: text('url').notNull(),
    events: jsonb('events').$type<import('../webhooks.js').WebhookEventType[]>().notNull(),
    secret: text('secret').notNull(),
    /** Messages in a row whose every retry failed; a delivered message resets it. */
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    disabledAt: at('disabled_at'),
    disabledReason: text('disabled_reason'),
    createdAt: createdAt(),
  },
  (table) => [index('webhook_endpoints_owner_id_idx').on(table.ownerId, table.id)],
);

/** One run event for one endpoint: the body is stored as sent, so every retry signs the same bytes. */
export const webhookMessages = pgTable(
  'webhook_messages',
  {
    id: id('id').primaryKey(),
    endpointId: id('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    runId: id('run_id').notNull(),
    seq: integer('seq').notNull(),
    type: text('type').$type<import('../webhooks.js').WebhookEventType>().notNull(),
    body: text('body').notNull(),
    status: text('status')
      .$type<'pending' | 'delivered' | 'failed' | 'skipped'>()
      .notNull()
      .default('pending'),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('webhook_messages_endpoint_event_idx').on(table.endpointId, table.runId, table.seq),
  ],
);

/** The delivery log: one row per attempt to send a message. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    messageId: id('message_id')
      .notNull()
      .references(() => webhookMessages.id, { onDelete: 'cascade' }),
    endpointId: id('endpoint_id').notNull(),
    attempt: integer('attempt').notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    error: text('error'),
    nextRetryAt: at('next_retry_at'),
    createdAt: createdAt(),
  },
  (table) => [index('webhook_deliveries_endpoint_idx').on(table.endpointId, table.id)],
);

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

/** An uploaded file (`/v1/files`); its bytes are in `file_parts`, so no file is ever read whole to be served. */
export const files = pgTable(
  'files',
  {
    id: id('id').primaryKey(),
    ownerId: id('owner_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    filename: text('filename').notNull(),
    purpose: text('purpose').$type<import('../files/file-purposes.js').FilePurpose>().notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: createdAt(),
    expiresAt: at('expires_at'),
  },
  (table) => [
    index('files_owner_id_idx').on(table.ownerId, table.id),
    index('files_owner_purpose_idx').on(table.ownerId, table.purpose, table.id),
  ],
);

/** A file's bytes in order, FILE_PART_BYTES each (the last one shorter). */
export const fileParts = pgTable(
  'file_parts',
  {
    fileId: id('file_id')
      .notNull()
      .references(() => files.id, { onDelete: 'cascade' }),
    partIndex: integer('part_index').notNull(),
    data: bytea('data').notNull(),
  },
  (table) => [primaryKey({ columns: [table.fileId, table.partIndex] })],
);

/** A searchable collection of files; its status and file counts are read from its files. */
export const vectorStores = pgTable(
  'vector_stores',
  {
    id: id('id').primaryKey(),
    ownerId: id('owner_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull().default(''),
    description: text('description'),
    metadata: metadata(),
    expiresAfterDays: integer('expires_after_days'),
    lastActiveAt: at('last_active_at').notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (table) => [index('vector_stores_owner_id_idx').on(table.ownerId, table.id)],
);

/** A batch of files added together; its status is read from its files and `cancelled_at`. */
export const vectorStoreFileBatches = pgTable(
  'vector_store_file_batches',
  {
    id: id('id').primaryKey(),
    vectorStoreId: id('vector_store_id')
      .notNull()
      .references(() => vectorStores.id, { onDelete: 'cascade' }),
    ownerId: id('owner_id').notNull(),
    cancelledAt: at('cancelled_at'),
    createdAt: createdAt(),
  },
  (table) => [index('vector_store_file_batches_store_idx').on(table.vectorStoreId, table.id)],
);

/** A file in a vector store and its ingestion: `in_progress` until the ingest worker ends it. */
export const vectorStoreFiles = pgTable(
  'vector_store_files',
  {
    vectorStoreId: id('vector_store_id')
      .notNull()
      .references(() => vectorStores.id, { onDelete: 'cascade' }),
    fileId: id('file_id')
      .notNull()
      .references(() => files.id, { onDelete: 'cascade' }),
    ownerId: id('owner_id').notNull(),
    batchId: id('batch_id').references(() => vectorStoreFileBatches.id, { onDelete: 'set null' }),
    status: text('status').$type<import('../files/vector-store-wire.js').VectorStoreFileStatus>().notNull(),
    lastError: jsonb('last_error').$type<import('../files/vector-store-wire.js').IngestError>(),
    attributes: jsonb('attributes').$type<import('../files/vector-store-wire.js').FileAttributes>(),
    chunkingStrategy: jsonb('chunking_strategy')
      .$type<import('../files/vector-store-wire.js').StaticChunking>()
      .notNull(),
    /** Bytes of text the file's chunks hold once ingested. */
    usageBytes: integer('usage_bytes').notNull().default(0),
    /** How many times the file was added to the store: a job of an earlier adding finds it changed and does nothing. */
    generation: integer('generation').notNull().default(1),
    createdAt: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.vectorStoreId, table.fileId] }),
    index('vector_store_files_file_idx').on(table.fileId),
    index('vector_store_files_batch_idx').on(table.batchId, table.fileId),
    check(
      'vector_store_files_status_check',
      sql`${table.status} in ('in_progress', 'completed', 'cancelled', 'failed')`,
    ),
  ],
);

export { vectorStoreChunks } from '../retrieval/chunk-store.js';
