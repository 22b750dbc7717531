ALTER TABLE "threads" ADD COLUMN "has_waiting_runs" boolean DEFAULT false NOT NULL;--> statement-breakpoint
UPDATE "threads" SET "has_waiting_runs" = true WHERE "id" IN (SELECT "thread_id" FROM "runs" WHERE "status" = 'queued' AND "waits_for" IS NOT NULL);
