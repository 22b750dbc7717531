DROP INDEX "runs_one_active_per_thread_idx";--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "waits_for" text collate "C";--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "rolls_back" text collate "C";--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "history_until" text collate "C";--> statement-breakpoint
CREATE INDEX "runs_waiting_idx" ON "runs" USING btree ("thread_id") WHERE "runs"."status" = 'queued' and "runs"."waits_for" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "runs_one_active_per_thread_idx" ON "runs" USING btree ("thread_id") WHERE "runs"."status" in ('queued', 'in_progress', 'requires_action', 'cancelling') and "runs"."waits_for" is null;