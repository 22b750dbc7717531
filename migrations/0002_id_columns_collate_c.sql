ALTER TABLE "assistants" ALTER COLUMN "owner_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "message_feedback" ALTER COLUMN "message_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "message_feedback" ALTER COLUMN "owner_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "messages" ALTER COLUMN "thread_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "messages" ALTER COLUMN "assistant_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "messages" ALTER COLUMN "run_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "run_steps" ALTER COLUMN "run_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "run_steps" ALTER COLUMN "thread_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "run_steps" ALTER COLUMN "assistant_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "runs" ALTER COLUMN "thread_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "runs" ALTER COLUMN "owner_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "runs" ALTER COLUMN "assistant_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "threads" ALTER COLUMN "owner_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "threads" ALTER COLUMN "assistant_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "tool_executions" ALTER COLUMN "run_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "tool_executions" ALTER COLUMN "owner_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "usage_logs" ALTER COLUMN "run_id" SET DATA TYPE text collate "C";--> statement-breakpoint
ALTER TABLE "usage_logs" ALTER COLUMN "owner_id" SET DATA TYPE text collate "C";