ALTER TABLE "pair_metadata" ADD COLUMN "lock_epoch" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "pair_metadata" ADD COLUMN "lease_expires_at" timestamp with time zone;