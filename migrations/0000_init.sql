CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "assistants" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"owner_id" text,
	"name" text,
	"description" text,
	"model" text NOT NULL,
	"instructions" text,
	"tools" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tool_resources" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"temperature" real,
	"top_p" real,
	"response_format" jsonb,
	"reasoning_effort" text,
	"is_default" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "catalog_state" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"content_hash" text NOT NULL,
	"product_count" integer NOT NULL,
	"imported_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "message_feedback" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"owner_id" text NOT NULL,
	"rating" integer NOT NULL,
	"comment" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"thread_id" text NOT NULL,
	"role" text NOT NULL,
	"content" jsonb NOT NULL,
	"status" text NOT NULL,
	"assistant_id" text,
	"run_id" text,
	"attachments" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"incomplete_details" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp (3) with time zone,
	"incomplete_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "products" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"price" numeric(12, 2),
	"currency" text,
	"url" text,
	"image_url" text,
	"categories" text[] DEFAULT '{}'::text[] NOT NULL,
	"search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, name || ' ' || description)) STORED,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_steps" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"thread_id" text NOT NULL,
	"assistant_id" text NOT NULL,
	"type" text NOT NULL,
	"status" text NOT NULL,
	"step_details" jsonb NOT NULL,
	"last_error" jsonb,
	"usage" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expired_at" timestamp (3) with time zone,
	"cancelled_at" timestamp (3) with time zone,
	"failed_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"thread_id" text NOT NULL,
	"owner_id" text NOT NULL,
	"assistant_id" text NOT NULL,
	"status" text NOT NULL,
	"required_action" jsonb,
	"last_error" jsonb,
	"incomplete_details" jsonb,
	"model" text NOT NULL,
	"instructions" text NOT NULL,
	"tools" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"usage" jsonb,
	"temperature" real,
	"top_p" real,
	"max_prompt_tokens" integer,
	"max_completion_tokens" integer,
	"truncation_strategy" jsonb NOT NULL,
	"tool_choice" jsonb NOT NULL,
	"parallel_tool_calls" boolean DEFAULT true NOT NULL,
	"response_format" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"started_at" timestamp (3) with time zone,
	"cancelled_at" timestamp (3) with time zone,
	"failed_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"heartbeat_at" timestamp (3) with time zone,
	CONSTRAINT "runs_status_check" CHECK ("runs"."status" in ('queued', 'in_progress', 'requires_action', 'cancelling', 'cancelled', 'failed', 'completed', 'incomplete', 'expired'))
);
--> statement-breakpoint
CREATE TABLE "threads" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"assistant_id" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tool_resources" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_activity_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tool_executions" (
	"call_id" text PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"owner_id" text NOT NULL,
	"tool" text NOT NULL,
	"arguments" jsonb NOT NULL,
	"status" text NOT NULL,
	"output" text,
	"error" text,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"duration_ms" integer
);
--> statement-breakpoint
CREATE TABLE "usage_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"owner_id" text NOT NULL,
	"model" text NOT NULL,
	"prompt_tokens" integer NOT NULL,
	"completion_tokens" integer NOT NULL,
	"total_tokens" integer NOT NULL,
	"cost_usd" numeric(14, 8) NOT NULL,
	"latency_ms" integer NOT NULL,
	"first_token_ms" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assistants" ADD CONSTRAINT "assistants_owner_id_api_keys_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."api_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_feedback" ADD CONSTRAINT "message_feedback_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_thread_id_threads_id_fk" FOREIGN KEY ("thread_id") REFERENCES "public"."threads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_steps" ADD CONSTRAINT "run_steps_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_thread_id_threads_id_fk" FOREIGN KEY ("thread_id") REFERENCES "public"."threads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "threads" ADD CONSTRAINT "threads_owner_id_api_keys_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."api_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assistants_owner_id_idx" ON "assistants" USING btree ("owner_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "assistants_one_default_idx" ON "assistants" USING btree ("is_default") WHERE "assistants"."is_default";--> statement-breakpoint
CREATE INDEX "message_feedback_created_idx" ON "message_feedback" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "message_feedback_owner_message_idx" ON "message_feedback" USING btree ("message_id","owner_id");--> statement-breakpoint
CREATE INDEX "messages_thread_id_idx" ON "messages" USING btree ("thread_id","id");--> statement-breakpoint
CREATE INDEX "messages_run_id_idx" ON "messages" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "products_search_vector_idx" ON "products" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "products_name_trgm_idx" ON "products" USING gin ((name || ' ' || description) gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "run_steps_run_id_idx" ON "run_steps" USING btree ("run_id","id");--> statement-breakpoint
CREATE INDEX "runs_thread_id_idx" ON "runs" USING btree ("thread_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "runs_one_active_per_thread_idx" ON "runs" USING btree ("thread_id") WHERE "runs"."status" in ('queued', 'in_progress', 'requires_action', 'cancelling');--> statement-breakpoint
CREATE INDEX "threads_owner_id_idx" ON "threads" USING btree ("owner_id","id");--> statement-breakpoint
CREATE INDEX "threads_owner_activity_idx" ON "threads" USING btree ("owner_id","last_activity_at");--> statement-breakpoint
CREATE INDEX "tool_executions_run_id_idx" ON "tool_executions" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "usage_logs_run_id_idx" ON "usage_logs" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "usage_logs_owner_created_idx" ON "usage_logs" USING btree ("owner_id","created_at");