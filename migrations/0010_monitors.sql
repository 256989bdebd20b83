CREATE TABLE `monitors` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`target` text NOT NULL,
	`source_kind` text NOT NULL,
	`graph` text,
	`manifest_url` text,
	`header_names` text,
	`encrypted_headers` text,
	`schedule` text,
	`on_drift` text NOT NULL,
	`enabled` integer NOT NULL,
	`next_run_at` text,
	`created_at` text NOT NULL,
	`created_by` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `monitors_tenant_name_unique` ON `monitors` (`tenant_id`,`name`);--> statement-breakpoint
CREATE INDEX `monitors_tenant_idx` ON `monitors` (`tenant_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `monitors_due_idx` ON `monitors` (`next_run_at`);--> statement-breakpoint
CREATE INDEX `monitors_graph_idx` ON `monitors` (`tenant_id`,`graph`);