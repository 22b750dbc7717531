-- The product catalog belongs to a project: the catalog there was (and its import state) is the default project's.
-- A project may name its own database for its SQL tools, and turn built-in tools off.
ALTER TABLE "products" ADD COLUMN "project_id" text collate "C" NOT NULL DEFAULT 'proj_default';--> statement-breakpoint
ALTER TABLE "products" ALTER COLUMN "project_id" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "products" DROP CONSTRAINT "products_pkey";--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_project_id_id_pk" PRIMARY KEY("project_id","id");--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "catalog_state" ADD COLUMN "project_id" text collate "C" NOT NULL DEFAULT 'proj_default';--> statement-breakpoint
ALTER TABLE "catalog_state" ALTER COLUMN "project_id" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "catalog_state" DROP CONSTRAINT "catalog_state_pkey";--> statement-breakpoint
ALTER TABLE "catalog_state" DROP COLUMN "id";--> statement-breakpoint
ALTER TABLE "catalog_state" ADD CONSTRAINT "catalog_state_pkey" PRIMARY KEY("project_id");--> statement-breakpoint
ALTER TABLE "catalog_state" ADD CONSTRAINT "catalog_state_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "tools_database_url" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "disabled_tools" text[] DEFAULT '{}'::text[] NOT NULL;
