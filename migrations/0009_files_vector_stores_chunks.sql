CREATE TABLE "file_parts" (
	"file_id" text collate "C" NOT NULL,
	"part_index" integer NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "file_parts_file_id_part_index_pk" PRIMARY KEY("file_id","part_index")
);
--> statement-breakpoint
CREATE TABLE "files" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"owner_id" text collate "C" NOT NULL,
	"filename" text NOT NULL,
	"purpose" text NOT NULL,
	"bytes" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "vector_store_chunks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"project_id" text collate "C" NOT NULL,
	"vector_store_id" text collate "C" NOT NULL,
	"file_id" text collate "C" NOT NULL,
	"filename" text NOT NULL,
	"attributes" jsonb,
	"chunk_index" integer NOT NULL,
	"text" text NOT NULL,
	"tokens" integer NOT NULL,
	"embedding" real[] NOT NULL,
	"signature" bit(512) NOT NULL,
	"search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vector_store_file_batches" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"vector_store_id" text collate "C" NOT NULL,
	"owner_id" text collate "C" NOT NULL,
	"cancelled_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vector_store_files" (
	"vector_store_id" text collate "C" NOT NULL,
	"file_id" text collate "C" NOT NULL,
	"owner_id" text collate "C" NOT NULL,
	"batch_id" text collate "C",
	"status" text NOT NULL,
	"last_error" jsonb,
	"attributes" jsonb,
	"chunking_strategy" jsonb NOT NULL,
	"usage_bytes" integer DEFAULT 0 NOT NULL,
	"generation" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vector_store_files_vector_store_id_file_id_pk" PRIMARY KEY("vector_store_id","file_id"),
	CONSTRAINT "vector_store_files_status_check" CHECK ("vector_store_files"."status" in ('in_progress', 'completed', 'cancelled', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "vector_stores" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"owner_id" text collate "C" NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"expires_after_days" integer,
	"last_active_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "file_parts" ADD CONSTRAINT "file_parts_file_id_files_id_fk" FOREIGN KEY ("file_id") REFERENCES "public"."files"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "files" ADD CONSTRAINT "files_owner_id_projects_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vector_store_file_batches" ADD CONSTRAINT "vector_store_file_batches_vector_store_id_vector_stores_id_fk" FOREIGN KEY ("vector_store_id") REFERENCES "public"."vector_stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vector_store_files" ADD CONSTRAINT "vector_store_files_vector_store_id_vector_stores_id_fk" FOREIGN KEY ("vector_store_id") REFERENCES "public"."vector_stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vector_store_files" ADD CONSTRAINT "vector_store_files_file_id_files_id_fk" FOREIGN KEY ("file_id") REFERENCES "public"."files"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vector_store_files" ADD CONSTRAINT "vector_store_files_batch_id_vector_store_file_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."vector_store_file_batches"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vector_stores" ADD CONSTRAINT "vector_stores_owner_id_projects_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "files_owner_id_idx" ON "files" USING btree ("owner_id","id");--> statement-breakpoint
CREATE INDEX "files_owner_purpose_idx" ON "files" USING btree ("owner_id","purpose","id");--> statement-breakpoint
CREATE UNIQUE INDEX "vector_store_chunks_store_file_chunk_idx" ON "vector_store_chunks" USING btree ("vector_store_id","file_id","chunk_index");--> statement-breakpoint
CREATE INDEX "vector_store_chunks_file_idx" ON "vector_store_chunks" USING btree ("file_id");--> statement-breakpoint
CREATE INDEX "vector_store_chunks_search_vector_idx" ON "vector_store_chunks" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "vector_store_file_batches_store_idx" ON "vector_store_file_batches" USING btree ("vector_store_id","id");--> statement-breakpoint
CREATE INDEX "vector_store_files_file_idx" ON "vector_store_files" USING btree ("file_id");--> statement-breakpoint
CREATE INDEX "vector_store_files_batch_idx" ON "vector_store_files" USING btree ("batch_id","file_id");--> statement-breakpoint
CREATE INDEX "vector_stores_owner_id_idx" ON "vector_stores" USING btree ("owner_id","id");--> statement-breakpoint
ALTER TABLE "vector_store_chunks" SET (toast_tuple_target = 128);--> statement-breakpoint
ALTER TABLE "vector_store_chunks" ALTER COLUMN "signature" SET STORAGE PLAIN;--> statement-breakpoint
ALTER TABLE "vector_store_chunks" ALTER COLUMN "search_vector" SET STORAGE MAIN;--> statement-breakpoint
CREATE INDEX "vector_store_chunks_signature_idx" ON "vector_store_chunks" USING btree ("vector_store_id","project_id") INCLUDE ("id","signature");
