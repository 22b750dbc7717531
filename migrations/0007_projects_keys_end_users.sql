-- Projects own what keys owned. Each existing key becomes a key of its own project (its id with `proj_` for `key_`),
-- so nothing one key could see becomes visible to another; admin keys stay admins of the whole deployment.
CREATE TABLE "projects" (
	"id" text collate "C" PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"jwt_secret" text,
	"jwks_url" text,
	"jwt_issuer" text,
	"jwt_audience" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
INSERT INTO "projects" ("id", "name") VALUES ('proj_default', 'Default project');--> statement-breakpoint
CREATE TEMPORARY TABLE "key_projects" ON COMMIT DROP AS
	SELECT "id" AS "key_id",
		'proj_' || CASE WHEN "id" LIKE 'key\_%' THEN substr("id", 5) ELSE "id" END AS "project_id",
		"name", "created_at"
	FROM "api_keys";--> statement-breakpoint
INSERT INTO "projects" ("id", "name", "created_at") SELECT "project_id", "name", "created_at" FROM "key_projects";--> statement-breakpoint
ALTER TABLE "assistants" DROP CONSTRAINT "assistants_owner_id_api_keys_id_fk";--> statement-breakpoint
ALTER TABLE "threads" DROP CONSTRAINT "threads_owner_id_api_keys_id_fk";--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "project_id" text collate "C";--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "is_deployment_admin" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "expires_at" timestamp (3) with time zone;--> statement-breakpoint
UPDATE "api_keys" SET "project_id" = "key_projects"."project_id",
	"is_deployment_admin" = ("api_keys"."role" = 'admin'),
	"role" = CASE WHEN "api_keys"."role" = 'admin' THEN 'admin' ELSE 'server' END
	FROM "key_projects" WHERE "key_projects"."key_id" = "api_keys"."id";--> statement-breakpoint
ALTER TABLE "api_keys" ALTER COLUMN "project_id" SET NOT NULL;--> statement-breakpoint
UPDATE "assistants" SET "owner_id" = "key_projects"."project_id" FROM "key_projects" WHERE "key_projects"."key_id" = "assistants"."owner_id";--> statement-breakpoint
UPDATE "threads" SET "owner_id" = "key_projects"."project_id" FROM "key_projects" WHERE "key_projects"."key_id" = "threads"."owner_id";--> statement-breakpoint
UPDATE "runs" SET "owner_id" = "key_projects"."project_id" FROM "key_projects" WHERE "key_projects"."key_id" = "runs"."owner_id";--> statement-breakpoint
UPDATE "message_feedback" SET "owner_id" = "key_projects"."project_id" FROM "key_projects" WHERE "key_projects"."key_id" = "message_feedback"."owner_id";--> statement-breakpoint
UPDATE "usage_logs" SET "owner_id" = "key_projects"."project_id" FROM "key_projects" WHERE "key_projects"."key_id" = "usage_logs"."owner_id";--> statement-breakpoint
UPDATE "tool_executions" SET "owner_id" = "key_projects"."project_id" FROM "key_projects" WHERE "key_projects"."key_id" = "tool_executions"."owner_id";--> statement-breakpoint
UPDATE "webhook_endpoints" SET "owner_id" = "key_projects"."project_id" FROM "key_projects" WHERE "key_projects"."key_id" = "webhook_endpoints"."owner_id";--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "end_user_id" text collate "C";--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assistants" ADD CONSTRAINT "assistants_owner_id_projects_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "threads" ADD CONSTRAINT "threads_owner_id_projects_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_project_id_idx" ON "api_keys" USING btree ("project_id","id");--> statement-breakpoint
CREATE INDEX "threads_owner_end_user_activity_idx" ON "threads" USING btree ("owner_id","end_user_id","last_activity_at");--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_role_check" CHECK ("api_keys"."role" in ('admin', 'server'));
