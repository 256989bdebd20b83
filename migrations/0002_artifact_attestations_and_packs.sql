ALTER TABLE `artifacts` ADD `attestation` text;--> statement-breakpoint
ALTER TABLE `artifacts` ADD `pack_sha256` text;--> statement-breakpoint
ALTER TABLE `artifacts` ADD `pack_offset` integer;--> statement-breakpoint
CREATE INDEX `artifacts_job_progress_idx` ON `artifacts` (`job_id`,`tenant_id`,`size`);