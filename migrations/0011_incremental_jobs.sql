ALTER TABLE `jobs` ADD `base_job_id` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `carried` integer DEFAULT 0 NOT NULL;