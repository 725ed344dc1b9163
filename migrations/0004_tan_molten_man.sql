ALTER TABLE "pairs" ADD COLUMN "watch_enabled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "pairs" ADD COLUMN "watch_debounce_ms" integer DEFAULT 1000 NOT NULL;--> statement-breakpoint
ALTER TABLE "pairs" ADD COLUMN "watch_rescan_minutes" integer DEFAULT 60 NOT NULL;--> statement-breakpoint
ALTER TABLE "pairs" ADD COLUMN "watch_poll_seconds" integer DEFAULT 60 NOT NULL;