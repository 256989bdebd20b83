CREATE TABLE `tenant_erasures` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`jurisdiction` text,
	`status` text NOT NULL,
	`phase` text NOT NULL,
	`cursor` text,
	`d1_rows_deleted` integer DEFAULT 0 NOT NULL,
	`r2_objects_deleted` integer DEFAULT 0 NOT NULL,
	`pages` integer DEFAULT 0 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`requested_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`completed_at` text
);
--> statement-breakpoint
CREATE INDEX `tenant_erasures_status_idx` ON `tenant_erasures` (`status`,`updated_at`);