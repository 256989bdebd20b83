CREATE TABLE `released_blobs` (
	`tenant_id` text NOT NULL,
	`sha256` text NOT NULL,
	`released_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `sha256`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `jobs` ADD `generator` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `pinned` integer DEFAULT false NOT NULL;--> statement-breakpoint
UPDATE `jobs` SET `generator` = coalesce(json_extract(`lock`, '$.generator.name'), '');--> statement-breakpoint
CREATE INDEX `jobs_retention_idx` ON `jobs` (`tenant_id`,`generator`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `artifacts_tenant_pack_idx` ON `artifacts` (`tenant_id`,`pack_sha256`,`sha256`);
