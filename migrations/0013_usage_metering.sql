CREATE TABLE `plan_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`from_plan` text NOT NULL,
	`to_plan` text NOT NULL,
	`changed_at` text NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `plan_changes_tenant_idx` ON `plan_changes` (`tenant_id`,`changed_at`,`id`);--> statement-breakpoint
CREATE TABLE `usage_monthly` (
	`tenant_id` text NOT NULL,
	`month` text NOT NULL,
	`requests` integer NOT NULL,
	`sparql_queries` integer NOT NULL,
	`sparql_ms` integer NOT NULL,
	`triples_peak` integer NOT NULL,
	`triples_average` integer NOT NULL,
	`templates` integer NOT NULL,
	`jobs` integer NOT NULL,
	`artifacts` integer NOT NULL,
	`artifact_bytes` integer NOT NULL,
	`render_ms` integer NOT NULL,
	`webhook_deliveries` integer NOT NULL,
	`drift_runs` integer NOT NULL,
	`rolled_up_at` text NOT NULL,
	PRIMARY KEY(`month`, `tenant_id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `usage_monthly_tenant_idx` ON `usage_monthly` (`tenant_id`,`month`);