CREATE TABLE "pair_state_counts" (
	"pair_id" uuid NOT NULL,
	"side" text NOT NULL,
	"entries" bigint DEFAULT 0 NOT NULL,
	"files" bigint DEFAULT 0 NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "pair_state_counts_pair_id_side_pk" PRIMARY KEY("pair_id","side")
);
--> statement-breakpoint
ALTER TABLE "pair_state_counts" ADD CONSTRAINT "pair_state_counts_pair_id_pairs_id_fk" FOREIGN KEY ("pair_id") REFERENCES "public"."pairs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE FUNCTION "pair_state_counts_add"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pair_state_counts (pair_id, side, entries, files, bytes)
	SELECT pair_id, side, count(*), count(*) FILTER (WHERE NOT is_dir), coalesce(sum(size) FILTER (WHERE NOT is_dir), 0)
	FROM added GROUP BY pair_id, side
	ON CONFLICT (pair_id, side) DO UPDATE SET
		entries = pair_state_counts.entries + excluded.entries,
		files = pair_state_counts.files + excluded.files,
		bytes = pair_state_counts.bytes + excluded.bytes;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "pair_state_counts_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pair_state_counts (pair_id, side, entries, files, bytes)
	SELECT pair_id, side, sum(entries), sum(files), sum(bytes) FROM (
		SELECT pair_id, side, 1 AS entries, CASE WHEN is_dir THEN 0 ELSE 1 END AS files,
			CASE WHEN is_dir THEN 0 ELSE size END AS bytes FROM after_rows
		UNION ALL
		SELECT pair_id, side, -1, CASE WHEN is_dir THEN 0 ELSE -1 END, CASE WHEN is_dir THEN 0 ELSE -size END FROM before_rows
	) d GROUP BY pair_id, side
	ON CONFLICT (pair_id, side) DO UPDATE SET
		entries = pair_state_counts.entries + excluded.entries,
		files = pair_state_counts.files + excluded.files,
		bytes = pair_state_counts.bytes + excluded.bytes;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "pair_state_counts_remove"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- An update only: the rows of a pair being deleted go with it (its counts row too).
	UPDATE pair_state_counts c SET entries = c.entries - d.entries, files = c.files - d.files, bytes = c.bytes - d.bytes
	FROM (
		SELECT pair_id, side, count(*) AS entries, count(*) FILTER (WHERE NOT is_dir) AS files,
			coalesce(sum(size) FILTER (WHERE NOT is_dir), 0) AS bytes
		FROM removed GROUP BY pair_id, side
	) d
	WHERE c.pair_id = d.pair_id AND c.side = d.side;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "pair_state_counts_insert" AFTER INSERT ON "pair_state"
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION "pair_state_counts_add"();
--> statement-breakpoint
CREATE TRIGGER "pair_state_counts_update" AFTER UPDATE ON "pair_state"
	REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows FOR EACH STATEMENT EXECUTE FUNCTION "pair_state_counts_change"();
--> statement-breakpoint
CREATE TRIGGER "pair_state_counts_delete" AFTER DELETE ON "pair_state"
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION "pair_state_counts_remove"();
--> statement-breakpoint
INSERT INTO "pair_state_counts" (pair_id, side, entries, files, bytes)
SELECT pair_id, side, count(*), count(*) FILTER (WHERE NOT is_dir), coalesce(sum(size) FILTER (WHERE NOT is_dir), 0)
FROM "pair_state" GROUP BY pair_id, side;
