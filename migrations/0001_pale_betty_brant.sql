CREATE TABLE "kept_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pair_id" uuid NOT NULL,
	"side" text NOT NULL,
	"version_path" text NOT NULL,
	"path" text NOT NULL,
	"reason" text NOT NULL,
	"run_id" uuid,
	"kept_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "conflicts" ADD COLUMN "outcome" text;--> statement-breakpoint
ALTER TABLE "kept_versions" ADD CONSTRAINT "kept_versions_pair_id_pairs_id_fk" FOREIGN KEY ("pair_id") REFERENCES "public"."pairs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kept_versions" ADD CONSTRAINT "kept_versions_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "kept_versions_one_per_file" ON "kept_versions" USING btree ("pair_id","side","version_path");--> statement-breakpoint
CREATE INDEX "kept_versions_run_idx" ON "kept_versions" USING btree ("run_id");