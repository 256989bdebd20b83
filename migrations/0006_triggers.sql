CREATE TABLE `trigger_deliveries` (
	`trigger_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`job_id` text,
	`received_at` text NOT NULL,
	`completed_at` text,
	PRIMARY KEY(`trigger_id`, `delivery_id`),
	FOREIGN KEY (`trigger_id`) REFERENCES `triggers`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `trigger_deliveries_received_idx` ON `trigger_deliveries` (`received_at`);--> statement-breakpoint
CREATE TABLE `triggers` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`verify` text NOT NULL,
	`action` text NOT NULL,
	`filter` text,
	`encrypted_secret` text NOT NULL,
	`created_at` text NOT NULL,
	`created_by` text NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `triggers_tenant_name_unique` ON `triggers` (`tenant_id`,`name`);--> statement-breakpoint
CREATE INDEX `triggers_tenant_idx` ON `triggers` (`tenant_id`,`created_at`,`id`);