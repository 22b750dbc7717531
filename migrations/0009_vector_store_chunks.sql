CREATE TABLE "vector_store_chunks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"vector_store_id" text NOT NULL,
	"file_id" text NOT NULL,
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
CREATE UNIQUE INDEX "vector_store_chunks_store_file_chunk_idx" ON "vector_store_chunks" USING btree ("vector_store_id","file_id","chunk_index");--> statement-breakpoint
CREATE INDEX "vector_store_chunks_file_idx" ON "vector_store_chunks" USING btree ("file_id");--> statement-breakpoint
CREATE INDEX "vector_store_chunks_search_vector_idx" ON "vector_store_chunks" USING gin ("search_vector");--> statement-breakpoint
ALTER TABLE "vector_store_chunks" SET (toast_tuple_target = 128);--> statement-breakpoint
ALTER TABLE "vector_store_chunks" ALTER COLUMN "signature" SET STORAGE PLAIN;--> statement-breakpoint
ALTER TABLE "vector_store_chunks" ALTER COLUMN "search_vector" SET STORAGE MAIN;--> statement-breakpoint
CREATE INDEX "vector_store_chunks_signature_idx" ON "vector_store_chunks" USING btree ("vector_store_id","project_id") INCLUDE ("id","signature");
