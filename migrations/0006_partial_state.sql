ALTER TABLE "pair_state" ALTER COLUMN "path" SET DATA TYPE text COLLATE "C";--> statement-breakpoint
ALTER TABLE "pair_state" ADD COLUMN "parent" text GENERATED ALWAYS AS (regexp_replace(path, '/?[^/]*$', '')) STORED NOT NULL;--> statement-breakpoint
CREATE INDEX "pair_state_parent_idx" ON "pair_state" USING btree ("pair_id","side","parent");--> statement-breakpoint
CREATE INDEX "pair_state_file_size_idx" ON "pair_state" USING btree ("pair_id","side","size") WHERE not "pair_state"."is_dir";